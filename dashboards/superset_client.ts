/**
 * Provisions Apache Superset (REST API of the pinned release 4.1) for the analytics schema: logs in,
 * takes a CSRF token in the same cookie session, then creates or updates the database connection
 * that uses the read-only role, one dataset per aggregate table and a starter dashboard, and turns
 * on embedding for it. Run again, it changes what differs and creates what is missing, never
 * duplicating. At run time it fetches guest tokens for the embedded dashboard.
 *
 * Superset's rules this client follows (each one a known pitfall): every write carries the Bearer
 * token, `X-CSRFToken`, the `session` cookie from the CSRF call and a `Referer`; `extra` is a JSON
 * string, not an object.
 *
 * @example
 *   const superset = new SupersetClient({ baseUrl: 'http://superset:8088', username: 'admin', password });
 *   await provisionSuperset(superset, { databaseName: 'tsunagu_analytics', sqlalchemyUri, schema: 'analytics', tables: BI_TABLES });
 */

export const PINNED_SUPERSET_VERSION = '4.1.2';

export class SupersetError extends Error {
  override name = 'SupersetError';
  readonly status: number;
  readonly body: unknown;
  constructor(message: string, status: number, body: unknown) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

/** Rison (the `q=` encoding of Superset's list endpoints) for the plain shapes used here. */
export function rison(value: unknown): string {
  if (Array.isArray(value)) return `!(${value.map(rison).join(',')})`;
  if (value !== null && typeof value === 'object')
    return `(${Object.entries(value)
      .map(([k, v]) => `${k}:${rison(v)}`)
      .join(',')})`;
  if (typeof value === 'number') return String(value);
  if (typeof value === 'boolean') return value ? '!t' : '!f';
  const s = String(value);
  return /^[A-Za-z_][A-Za-z0-9_.\-/]*$/.test(s) ? s : `'${s.replace(/[!']/g, (c) => `!${c}`)}'`;
}

export interface SupersetOptions {
  baseUrl: string;
  username: string;
  password: string;
  fetch?: typeof fetch;
}

export class SupersetClient {
  readonly #options: SupersetOptions;
  readonly #fetch: typeof fetch;
  #session: { accessToken: string; csrf: string; cookie: string } | undefined;

  constructor(options: SupersetOptions) {
    this.#options = { ...options, baseUrl: options.baseUrl.replace(/\/+$/, '') };
    this.#fetch = options.fetch ?? fetch;
  }

  async #call(
    method: string,
    path: string,
    init: { body?: unknown; auth?: boolean } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    if (init.auth !== false) {
      const s = await this.login();
      headers['authorization'] = `Bearer ${s.accessToken}`;
      if (method !== 'GET') {
        headers['x-csrftoken'] = s.csrf;
        headers['cookie'] = s.cookie;
        headers['referer'] = `${this.#options.baseUrl}/`;
      }
    }
    return this.#fetch(`${this.#options.baseUrl}${path}`, {
      method,
      headers,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
  }

  async #json<T>(method: string, path: string, body?: unknown, expected = [200, 201]): Promise<T> {
    const res = await this.#call(method, path, { body });
    const text = await res.text();
    const parsed = text ? (JSON.parse(text) as unknown) : undefined;
    if (!expected.includes(res.status))
      throw new SupersetError(`Superset ${method} ${path} answered ${res.status}`, res.status, parsed);
    return parsed as T;
  }

  /** Step 1–2: access token, then a CSRF token bound to the session cookie it sets. */
  async login(): Promise<{ accessToken: string; csrf: string; cookie: string }> {
    if (this.#session) return this.#session;
    const res = await this.#call('POST', '/api/v1/security/login', {
      auth: false,
      body: {
        username: this.#options.username,
        password: this.#options.password,
        provider: 'db',
        refresh: true,
      },
    });
    const login = (await res.json().catch(() => undefined)) as { access_token?: string } | undefined;
    if (res.status !== 200 || !login?.access_token)
      throw new SupersetError(`Superset login failed with ${res.status}`, res.status, login);
    const csrfRes = await this.#fetch(`${this.#options.baseUrl}/api/v1/security/csrf_token/`, {
      headers: { authorization: `Bearer ${login.access_token}`, accept: 'application/json' },
    });
    const csrf = (await csrfRes.json().catch(() => undefined)) as { result?: string } | undefined;
    if (csrfRes.status !== 200 || !csrf?.result)
      throw new SupersetError(`Superset CSRF token failed with ${csrfRes.status}`, csrfRes.status, csrf);
    const cookie = csrfRes.headers
      .getSetCookie()
      .map((c) => c.split(';')[0]!)
      .join('; ');
    this.#session = { accessToken: login.access_token, csrf: csrf.result, cookie };
    return this.#session;
  }

  async findDatabase(name: string): Promise<{ id: number } | undefined> {
    const q = rison({ filters: [{ col: 'database_name', opr: 'eq', value: name }] });
    const list = await this.#json<{ result: Array<{ id: number; database_name: string }> }>(
      'GET',
      `/api/v1/database/?q=${encodeURIComponent(q)}`,
    );
    return list.result.find((d) => d.database_name === name);
  }

  async upsertDatabase(input: {
    databaseName: string;
    sqlalchemyUri: string;
    extra: Record<string, unknown>;
  }): Promise<{ id: number; created: boolean }> {
    const body = {
      database_name: input.databaseName,
      sqlalchemy_uri: input.sqlalchemyUri,
      expose_in_sqllab: true,
      allow_dml: false,
      allow_file_upload: false,
      allow_ctas: false,
      allow_cvas: false,
      extra: JSON.stringify(input.extra),
    };
    const existing = await this.findDatabase(input.databaseName);
    if (existing) {
      await this.#json('PUT', `/api/v1/database/${existing.id}`, body, [200]);
      return { id: existing.id, created: false };
    }
    const created = await this.#json<{ id: number }>('POST', '/api/v1/database/', body, [201]);
    return { id: created.id, created: true };
  }

  async upsertDataset(input: {
    database: number;
    schema: string;
    table: string;
  }): Promise<{ id: number; created: boolean }> {
    const q = rison({ filters: [{ col: 'table_name', opr: 'eq', value: input.table }] });
    const list = await this.#json<{
      result: Array<{ id: number; table_name: string; schema: string; database: { id: number } }>;
    }>('GET', `/api/v1/dataset/?q=${encodeURIComponent(q)}`);
    const existing = list.result.find((d) => d.schema === input.schema && d.database.id === input.database);
    if (existing) return { id: existing.id, created: false };
    const created = await this.#json<{ id: number }>(
      'POST',
      '/api/v1/dataset/',
      { database: input.database, schema: input.schema, table_name: input.table },
      [201],
    );
    return { id: created.id, created: true };
  }

  async #findBy(resource: 'chart' | 'dashboard', col: string, value: string): Promise<number | undefined> {
    const q = rison({ filters: [{ col, opr: 'eq', value }] });
    const list = await this.#json<{ result: Array<{ id: number }> }>(
      'GET',
      `/api/v1/${resource}/?q=${encodeURIComponent(q)}`,
    );
    return list.result[0]?.id;
  }

  /** A dashboard by slug; `position_json` and `json_metadata` go as JSON strings. */
  async ensureDashboard(input: { slug: string; title: string }): Promise<{ id: number; created: boolean }> {
    const existing = await this.#findBy('dashboard', 'slug', input.slug);
    if (existing !== undefined) return { id: existing, created: false };
    const created = await this.#json<{ id: number }>(
      'POST',
      '/api/v1/dashboard/',
      {
        dashboard_title: input.title,
        slug: input.slug,
        published: true,
        position_json: JSON.stringify({}),
        json_metadata: JSON.stringify({ native_filter_configuration: [], color_scheme: '' }),
      },
      [201],
    );
    return { id: created.id, created: true };
  }

  /**
   * A chart by name on a dataset, in a dashboard. `params` and `query_context` are JSON strings
   * built from the same form data; without `query_context` Superset cannot serve the chart's data.
   */
  async ensureChart(input: {
    name: string;
    vizType: string;
    dataset: number;
    dashboard: number;
    formData: Record<string, unknown>;
    query: Record<string, unknown>;
  }): Promise<{ id: number; created: boolean }> {
    const existing = await this.#findBy('chart', 'slice_name', input.name);
    if (existing !== undefined) return { id: existing, created: false };
    const formData = { datasource: `${input.dataset}__table`, viz_type: input.vizType, ...input.formData };
    const queryContext = {
      datasource: { id: input.dataset, type: 'table' },
      force: false,
      queries: [input.query],
      form_data: formData,
      result_format: 'json',
      result_type: 'full',
    };
    const created = await this.#json<{ id: number }>(
      'POST',
      '/api/v1/chart/',
      {
        slice_name: input.name,
        viz_type: input.vizType,
        datasource_id: input.dataset,
        datasource_type: 'table',
        params: JSON.stringify(formData),
        query_context: JSON.stringify(queryContext),
        dashboards: [input.dashboard],
      },
      [201],
    );
    return { id: created.id, created: true };
  }

  /**
   * Turns on embedding for a dashboard (`POST /api/v1/dashboard/{id}/embedded`, the EMBEDDED_SUPERSET
   * feature flag) for the given host names; returns the embedded UUID guest tokens name. Calling it
   * again updates the allowed domains and keeps the UUID.
   */
  async embedDashboard(dashboard: number, allowedDomains: string[]): Promise<{ uuid: string }> {
    const res = await this.#json<{ result: { uuid: string } }>(
      'POST',
      `/api/v1/dashboard/${dashboard}/embedded`,
      { allowed_domains: allowedDomains },
      [200],
    );
    return { uuid: res.result.uuid };
  }

  /**
   * A guest token for an embedded dashboard (`POST /api/v1/security/guest_token/`; the service
   * account needs `can_grant_guest_token`). The browser passes it to Superset's embedded SDK;
   * it expires after Superset's GUEST_TOKEN_JWT_EXP_SECONDS (5 minutes by default).
   */
  async guestToken(input: {
    dashboardUuid: string;
    user: { username: string; first_name?: string; last_name?: string };
    rls?: Array<{ clause: string; dataset?: number }>;
  }): Promise<string> {
    const res = await this.#json<{ token: string }>(
      'POST',
      '/api/v1/security/guest_token/',
      {
        user: input.user,
        resources: [{ type: 'dashboard', id: input.dashboardUuid }],
        rls: input.rls ?? [],
      },
      [200],
    );
    return res.token;
  }
}

/** Postgres URL of the read-only role → the SQLAlchemy URI Superset's psycopg2 driver takes. */
export function sqlalchemyUri(postgresUrl: string): string {
  const url = new URL(postgresUrl);
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:')
    throw new Error('the BI database URL must be postgres://user:password@host:port/database');
  return `postgresql+psycopg2://${url.username}:${url.password}@${url.host}${url.pathname}${url.search}`;
}

export async function provisionSuperset(
  client: SupersetClient,
  input: {
    databaseName: string;
    sqlalchemyUri: string;
    schema: string;
    tables: readonly string[];
    /** Host names allowed to embed the starter dashboard (guest tokens); none leaves embedding off. */
    embedDomains?: string[];
  },
) {
  const database = await client.upsertDatabase({
    databaseName: input.databaseName,
    sqlalchemyUri: input.sqlalchemyUri,
    extra: { schemas_allowed_for_file_upload: [], metadata_params: {}, engine_params: {} },
  });
  const datasets: Array<{ table: string; id: number; created: boolean }> = [];
  for (const table of input.tables) {
    const d = await client.upsertDataset({ database: database.id, schema: input.schema, table });
    datasets.push({ table, ...d });
  }
  const starter = await provisionStarterDashboard(client, datasets);
  const embedded =
    starter.dashboard && input.embedDomains && input.embedDomains.length > 0
      ? await client.embedDashboard(starter.dashboard.id, input.embedDomains)
      : undefined;
  return { supersetVersion: PINNED_SUPERSET_VERSION, database, datasets, ...starter, embedded };
}

const SUM = (column: string) => ({
  expressionType: 'SIMPLE',
  column: { column_name: column },
  aggregate: 'SUM',
  label: `SUM(${column})`,
});

/** The starter dashboard: payments in total and per day, from `points_kpi_daily`. */
async function provisionStarterDashboard(
  client: SupersetClient,
  datasets: Array<{ table: string; id: number }>,
) {
  const kpi = datasets.find((d) => d.table === 'points_kpi_daily');
  if (!kpi) return { dashboard: undefined, charts: [] };
  const dashboard = await client.ensureDashboard({
    slug: 'tsunagu-ebpm',
    title: 'つなぐ EBPM / Tsunagu EBPM',
  });
  const charts = [
    await client.ensureChart({
      name: '決済件数 / Payments',
      vizType: 'big_number_total',
      dataset: kpi.id,
      dashboard: dashboard.id,
      formData: { metric: SUM('payments'), adhoc_filters: [] },
      query: { metrics: [SUM('payments')], filters: [], columns: [], row_limit: 1 },
    }),
    await client.ensureChart({
      name: '日別決済件数 / Payments per day',
      vizType: 'echarts_timeseries_bar',
      dataset: kpi.id,
      dashboard: dashboard.id,
      formData: {
        x_axis: 'day',
        time_grain_sqla: 'P1D',
        metrics: [SUM('payments')],
        groupby: ['currency'],
        adhoc_filters: [],
      },
      query: {
        metrics: [SUM('payments')],
        columns: [
          { columnType: 'BASE_AXIS', sqlExpression: 'day', label: 'day', timeGrain: 'P1D' },
          'currency',
        ],
        filters: [],
        row_limit: 10000,
      },
    }),
  ];
  return { dashboard, charts };
}

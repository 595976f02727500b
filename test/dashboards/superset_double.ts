/**
 * A contract test double of Apache Superset 4.1's REST API, the parts provisioning uses, on
 * localhost. It enforces what the real server enforces and clients most often get wrong: JWT
 * Bearer on every call, and on writes Flask-WTF's CSRF check (token from
 * /api/v1/security/csrf_token/, the `session` cookie it was issued with, a Referer), marshmallow's
 * schema errors (`Unknown field.`, `Not a valid string.` for `extra`), 422 on duplicates, and — as
 * Superset does when it creates a dataset — a check through the database connection itself that
 * the table exists and is readable with the connection's credentials.
 * Sources: apache/superset 4.1 superset/security/api.py, superset/databases/schemas.py
 * (DatabasePostSchema), superset/datasets/schemas.py (DatasetPostSchema), superset/dashboards/schemas.py
 * (DashboardPostSchema), superset/charts/schemas.py (ChartPostSchema), superset/views/base.py.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT } from 'jose';
import pg from 'pg';

interface Database {
  id: number;
  database_name: string;
  sqlalchemy_uri: string;
  expose_in_sqllab: boolean;
  allow_dml: boolean;
  allow_file_upload: boolean;
  allow_ctas: boolean;
  allow_cvas: boolean;
  extra: string;
}

interface Dataset {
  id: number;
  table_name: string;
  schema: string;
  database: { id: number; database_name: string };
}

const DATABASE_FIELDS = new Set([
  'database_name',
  'sqlalchemy_uri',
  'expose_in_sqllab',
  'allow_dml',
  'allow_file_upload',
  'allow_ctas',
  'allow_cvas',
  'allow_run_async',
  'cache_timeout',
  'extra',
  'impersonate_user',
  'configuration_method',
  'driver',
  'engine',
  'uuid',
  'external_url',
  'is_managed_externally',
  'force_ctas_schema',
  'masked_encrypted_extra',
  'server_cert',
  'ssh_tunnel',
]);
const DATASET_FIELDS = new Set([
  'database',
  'catalog',
  'schema',
  'table_name',
  'sql',
  'owners',
  'is_managed_externally',
  'external_url',
  'normalize_columns',
  'always_filter_main_dttm',
]);

interface Board {
  id: number;
  slug: string;
  dashboard_title: string;
  position_json: string;
  json_metadata: string;
}

interface Chart {
  id: number;
  slice_name: string;
  viz_type: string;
  datasource_id: number;
  params: string;
  query_context: string;
  dashboards: number[];
}

const DASHBOARD_FIELDS = new Set([
  'dashboard_title',
  'slug',
  'owners',
  'roles',
  'position_json',
  'css',
  'json_metadata',
  'published',
  'certified_by',
  'certification_details',
  'is_managed_externally',
  'external_url',
]);
const CHART_FIELDS = new Set([
  'slice_name',
  'description',
  'viz_type',
  'owners',
  'params',
  'query_context',
  'query_context_generation',
  'cache_timeout',
  'datasource_id',
  'datasource_type',
  'datasource_name',
  'dashboards',
  'certified_by',
  'certification_details',
  'is_managed_externally',
  'external_url',
]);

/** marshmallow's `validate_json` on a String field: a string, and valid JSON. */
function jsonStringErrors(
  body: Record<string, unknown>,
  fields: string[],
  errors: Record<string, string[]>,
): void {
  for (const field of fields) {
    const v = body[field];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string') {
      errors[field] = ['Not a valid string.'];
      continue;
    }
    try {
      JSON.parse(v);
    } catch {
      errors[field] = ['JSON not valid'];
    }
  }
}

export interface SupersetDouble {
  url: string;
  databases: Database[];
  datasets: Dataset[];
  boards: Board[];
  charts: Chart[];
  /** Embedded configurations by dashboard id (POST /api/v1/dashboard/{id}/embedded). */
  embedded: Map<number, { uuid: string; allowed_domains: string[] }>;
  /** GUEST_TOKEN_JWT_SECRET the double signs guest tokens with (HS256, as Superset does). */
  guestSecret: Uint8Array;
  /** Every request as `METHOD path`, for asserting what a client did. */
  log: string[];
  close(): Promise<void>;
}

function csrfError(message: string) {
  return {
    errors: [{ message: `400 Bad Request: ${message}`, error_type: 'GENERIC_BACKEND_ERROR', level: 'error' }],
  };
}

/** The filters of a rison `q` as Superset's list endpoints receive them (eq on plain values). */
function risonFilters(q: string | null): Array<{ col: string; value: string }> {
  const out: Array<{ col: string; value: string }> = [];
  for (const m of (q ?? '').matchAll(/\(col:([a-z_]+),opr:eq,value:('(?:[^'!]|!.)*'|[^)]*)\)/g)) {
    const raw = m[2]!;
    out.push({ col: m[1]!, value: raw.startsWith("'") ? raw.slice(1, -1).replace(/!(.)/g, '$1') : raw });
  }
  return out;
}

export async function startSupersetDouble(users: Record<string, string>): Promise<SupersetDouble> {
  const tokens = new Set<string>();
  const csrfBySession = new Map<string, string>();
  const databases: Database[] = [];
  const datasets: Dataset[] = [];
  const boards: Board[] = [];
  const charts: Chart[] = [];
  const log: string[] = [];
  const embedded = new Map<number, { uuid: string; allowed_domains: string[] }>();
  const guestSecret = randomBytes(32);
  let nextId = 1;
  let baseUrl = '';

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
  const readBody = async (req: IncomingMessage): Promise<Record<string, unknown> | undefined> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (chunks.length === 0) return undefined;
    try {
      return JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
    } catch {
      return undefined;
    }
  };
  const schemaErrors = (body: Record<string, unknown>, fields: Set<string>, required: string[]) => {
    const errors: Record<string, string[]> = {};
    for (const k of Object.keys(body)) if (!fields.has(k)) errors[k] = ['Unknown field.'];
    for (const k of required) if (body[k] === undefined) errors[k] = ['Missing data for required field.'];
    return errors;
  };

  async function tableReadable(uri: string, schema: string, table: string): Promise<boolean> {
    const url = new URL(uri.replace(/^postgresql\+psycopg2:/, 'postgres:'));
    const client = new pg.Client({ connectionString: url.toString() });
    try {
      await client.connect();
      const { rows } = await client.query<{ ok: boolean }>(
        `SELECT has_table_privilege(format('%I.%I', $1::text, $2::text), 'SELECT') AS ok`,
        [schema, table],
      );
      return rows[0]?.ok === true;
    } catch {
      return false;
    } finally {
      await client.end().catch(() => {});
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', baseUrl);
    const path = url.pathname;
    const method = req.method ?? 'GET';
    log.push(`${method} ${path}`);
    const body = method === 'GET' ? undefined : await readBody(req);

    if (method === 'POST' && path === '/api/v1/security/login') {
      if (!body || (body['provider'] !== 'db' && body['provider'] !== 'ldap'))
        return send(res, 400, { message: { provider: ['Must be one of: db, ldap.'] } });
      if (users[String(body['username'])] !== body['password'])
        return send(res, 401, { message: 'Not authorized' });
      const token = randomBytes(16).toString('hex');
      tokens.add(token);
      return send(res, 200, { access_token: token, refresh_token: randomBytes(16).toString('hex') });
    }

    const bearer = /^Bearer (.+)$/.exec(req.headers['authorization'] ?? '')?.[1];
    if (!bearer) return send(res, 401, { msg: 'Missing Authorization Header' });
    if (!tokens.has(bearer)) return send(res, 422, { msg: 'Signature verification failed' });

    if (method === 'GET' && path === '/api/v1/security/csrf_token/') {
      const session = randomBytes(16).toString('hex');
      const csrf = randomBytes(20).toString('hex');
      csrfBySession.set(session, csrf);
      return send(
        res,
        200,
        { result: csrf },
        { 'set-cookie': `session=${session}; HttpOnly; Path=/; SameSite=Lax` },
      );
    }

    if (method !== 'GET') {
      const csrf = req.headers['x-csrftoken'];
      const session = /(?:^|;\s*)session=([^;]+)/.exec(req.headers['cookie'] ?? '')?.[1];
      if (!csrf) return send(res, 400, csrfError('The CSRF token is missing.'));
      if (!session || !csrfBySession.has(session))
        return send(res, 400, csrfError('The CSRF session token is missing.'));
      if (csrfBySession.get(session) !== csrf)
        return send(res, 400, csrfError('The CSRF tokens do not match.'));
      const referer = req.headers['referer'];
      if (!referer) return send(res, 400, csrfError('The referrer header is missing.'));
      if (new URL(referer).host !== url.host)
        return send(res, 400, csrfError('The referrer does not match the host.'));
    }

    if (path === '/api/v1/database/' && method === 'GET') {
      const filters = risonFilters(url.searchParams.get('q'));
      const result = databases.filter((d) =>
        filters.every((f) => String(d[f.col as keyof Database]) === f.value),
      );
      return send(res, 200, { count: result.length, ids: result.map((d) => d.id), result });
    }
    const dbMatch = /^\/api\/v1\/database\/(\d+)$/.exec(path);
    if ((path === '/api/v1/database/' && method === 'POST') || (dbMatch && method === 'PUT')) {
      if (!body) return send(res, 400, { message: 'Request is not JSON' });
      const errors = schemaErrors(
        body,
        DATABASE_FIELDS,
        method === 'POST' ? ['database_name', 'sqlalchemy_uri'] : [],
      );
      if (body['extra'] !== undefined && typeof body['extra'] !== 'string')
        errors['extra'] = ['Not a valid string.'];
      if (typeof body['extra'] === 'string') {
        try {
          JSON.parse(body['extra']);
        } catch {
          errors['extra'] = ['Field cannot be decoded by JSON.'];
        }
      }
      if (
        body['sqlalchemy_uri'] !== undefined &&
        !/^postgresql(\+psycopg2)?:\/\//.test(String(body['sqlalchemy_uri']))
      )
        errors['sqlalchemy_uri'] = [
          'Invalid connection string, a valid string usually follows: driver://user:password@database-host/database-name',
        ];
      if (Object.keys(errors).length > 0) return send(res, 400, { message: errors });
      if (dbMatch) {
        const existing = databases.find((d) => d.id === Number(dbMatch[1]));
        if (!existing) return send(res, 404, { message: 'Not found' });
        Object.assign(existing, body);
        return send(res, 200, { id: existing.id, result: body });
      }
      if (databases.some((d) => d.database_name === body['database_name']))
        return send(res, 422, {
          message: { database_name: 'A database with the same name already exists.' },
        });
      const created = {
        id: nextId++,
        expose_in_sqllab: true,
        allow_dml: false,
        allow_file_upload: false,
        allow_ctas: false,
        allow_cvas: false,
        extra: '{}',
        ...body,
      } as Database;
      databases.push(created);
      return send(res, 201, { id: created.id, result: body });
    }

    if (path === '/api/v1/dataset/' && method === 'GET') {
      const filters = risonFilters(url.searchParams.get('q'));
      const result = datasets.filter((d) =>
        filters.every((f) => String(d[f.col as keyof Dataset]) === f.value),
      );
      return send(res, 200, { count: result.length, ids: result.map((d) => d.id), result });
    }
    if (path === '/api/v1/dataset/' && method === 'POST') {
      if (!body) return send(res, 400, { message: 'Request is not JSON' });
      const errors = schemaErrors(body, DATASET_FIELDS, ['database', 'table_name']);
      if (body['database'] !== undefined && !Number.isInteger(body['database']))
        errors['database'] = ['Not a valid integer.'];
      if (Object.keys(errors).length > 0) return send(res, 400, { message: errors });
      const database = databases.find((d) => d.id === body['database']);
      if (!database) return send(res, 422, { message: { database: ['Database does not exist'] } });
      const schema = String(body['schema'] ?? 'public');
      const table = String(body['table_name']);
      if (
        datasets.some((d) => d.database.id === database.id && d.schema === schema && d.table_name === table)
      )
        return send(res, 422, { message: { table_name: [`Dataset ${schema}.${table} already exists`] } });
      if (!(await tableReadable(database.sqlalchemy_uri, schema, table)))
        return send(res, 422, {
          message: {
            table_name: [
              `Table [${table}] could not be found, please double check your database connection, schema, and table name`,
            ],
          },
        });
      const created = {
        id: nextId++,
        table_name: table,
        schema,
        database: { id: database.id, database_name: database.database_name },
      };
      datasets.push(created);
      return send(res, 201, { id: created.id, result: { database: database.id, schema, table_name: table } });
    }

    if ((path === '/api/v1/dashboard/' || path === '/api/v1/chart/') && method === 'GET') {
      const filters = risonFilters(url.searchParams.get('q'));
      const rows: Array<Record<string, unknown>> = (path === '/api/v1/chart/' ? charts : boards) as never;
      const result = rows.filter((r) => filters.every((f) => String(r[f.col]) === f.value));
      return send(res, 200, { count: result.length, ids: result.map((r) => r['id']), result });
    }
    if (path === '/api/v1/dashboard/' && method === 'POST') {
      if (!body) return send(res, 400, { message: 'Request is not JSON' });
      const errors = schemaErrors(body, DASHBOARD_FIELDS, []);
      jsonStringErrors(body, ['position_json', 'json_metadata'], errors);
      if (Object.keys(errors).length > 0) return send(res, 400, { message: errors });
      if (body['slug'] && boards.some((b) => b.slug === body['slug']))
        return send(res, 422, { message: { slug: ['Must be unique'] } });
      const created = { id: nextId++, position_json: '{}', json_metadata: '{}', ...body } as Board;
      boards.push(created);
      return send(res, 201, { id: created.id, result: body });
    }
    if (path === '/api/v1/chart/' && method === 'POST') {
      if (!body) return send(res, 400, { message: 'Request is not JSON' });
      const errors = schemaErrors(body, CHART_FIELDS, ['slice_name', 'datasource_id', 'datasource_type']);
      jsonStringErrors(body, ['params', 'query_context'], errors);
      if (
        body['datasource_type'] !== undefined &&
        !['table', 'dataset', 'query', 'saved_query', 'view'].includes(String(body['datasource_type']))
      )
        errors['datasource_type'] = ['Must be one of: table, dataset, query, saved_query, view.'];
      if (Object.keys(errors).length > 0) return send(res, 400, { message: errors });
      if (!datasets.some((d) => d.id === body['datasource_id']))
        return send(res, 422, { message: { datasource_id: 'Datasource does not exist' } });
      const ids = (body['dashboards'] ?? []) as number[];
      if (!ids.every((id) => boards.some((b) => b.id === id)))
        return send(res, 422, { message: { dashboards: 'Dashboards do not exist' } });
      const created = { id: nextId++, dashboards: ids, ...body } as Chart;
      charts.push(created);
      return send(res, 201, { id: created.id, result: body });
    }

    // superset/embedded_dashboard/api.py + dashboards/api.py (EmbeddedDashboardConfigSchema).
    const embedMatch = /^\/api\/v1\/dashboard\/([^/]+)\/embedded$/.exec(path);
    if (embedMatch && (method === 'POST' || method === 'PUT')) {
      const board = boards.find((b) => String(b.id) === embedMatch[1] || b.slug === embedMatch[1]);
      if (!board) return send(res, 404, { message: 'Not found' });
      if (!body) return send(res, 400, { message: 'Request is not JSON' });
      const errors = schemaErrors(body, new Set(['allowed_domains']), ['allowed_domains']);
      const domains = body['allowed_domains'];
      if (!Array.isArray(domains) || !domains.every((d) => typeof d === 'string'))
        errors['allowed_domains'] = ['Not a valid list.'];
      if (Object.keys(errors).length > 0) return send(res, 400, { message: errors });
      const config = {
        uuid: embedded.get(board.id)?.uuid ?? crypto.randomUUID(),
        allowed_domains: domains as string[],
      };
      embedded.set(board.id, config);
      return send(res, 200, {
        result: { ...config, dashboard_id: String(board.id), changed_on: new Date().toISOString() },
      });
    }

    // superset/security/api.py guest_token (GuestTokenCreateSchema), manager.validate_guest_token_resources.
    if (path === '/api/v1/security/guest_token/' && method === 'POST') {
      if (!body) return send(res, 400, { message: 'Request is not JSON' });
      const errors = schemaErrors(body, new Set(['user', 'resources', 'rls']), ['resources', 'rls']);
      const resources = body['resources'];
      if (
        !Array.isArray(resources) ||
        !resources.every(
          (r: { type?: unknown; id?: unknown }) => r?.type === 'dashboard' && typeof r.id === 'string',
        )
      )
        errors['resources'] = ['Must be a list of {type: dashboard, id}.'];
      const rls = body['rls'];
      if (!Array.isArray(rls) || !rls.every((r: { clause?: unknown }) => typeof r?.clause === 'string'))
        errors['rls'] = ['Must be a list of {clause, dataset?}.'];
      if (Object.keys(errors).length > 0) return send(res, 400, { message: errors });
      const known = new Set([...embedded.values()].map((e) => e.uuid));
      for (const r of resources as Array<{ id: string }>)
        if (!known.has(r.id)) return send(res, 400, { message: 'Embedded dashboard not found.' });
      const now = Math.floor(Date.now() / 1000);
      const token = await new SignJWT({
        user: (body['user'] ?? {}) as Record<string, unknown>,
        resources: resources as Array<Record<string, unknown>>,
        rls_rules: rls as Array<Record<string, unknown>>,
        type: 'guest',
      })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setIssuedAt(now)
        .setExpirationTime(now + 300)
        .setAudience('superset')
        .sign(guestSecret);
      return send(res, 200, { token });
    }

    return send(res, 404, { message: 'Not found' });
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => send(res, 500, { message: String(error) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: baseUrl,
    databases,
    datasets,
    boards,
    charts,
    embedded,
    guestSecret,
    log,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * The typed NGSIv2 client every Tsunagu module uses to reach the context broker: the embedded one
 * (in process, no HTTP) or an external FIWARE Orion (`BROKER_URL`). It speaks plain NGSIv2, so it
 * behaves the same against both.
 *
 * @example
 *   const ngsi = new NgsiClient({ baseUrl: 'http://orion:1026', service: 'kakogawa', servicePath: '/parks' });
 *   await ngsi.upsertEntity({ id: 'Park:1', type: 'Park', name: { type: 'Text', value: '日岡山公園' } });
 *   const { entities } = await ngsi.listEntities({ type: 'Park', q: 'visitors>100', limit: 100 });
 */

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export interface NgsiAttribute {
  type?: string;
  value: JsonValue;
  metadata?: Record<string, { type?: string; value: JsonValue }>;
}

/** An entity in normalized form (attributes as objects) or, with keyValues, as bare values. */
export interface NgsiEntity {
  id: string;
  type: string;
  [attribute: string]: JsonValue | NgsiAttribute | undefined;
}

export interface NgsiClientOptions {
  /** Broker root, e.g. `http://localhost:1026` (no `/v2`). */
  baseUrl: string;
  /** Fiware-Service (tenant); omitted = default tenant. */
  service?: string;
  /** Fiware-ServicePath; omitted = Orion's default (`/` for updates, `/#` for queries). */
  servicePath?: string;
  /** Extra headers on every request (e.g. `X-Auth-Token` for a PEP proxy in front of Orion). */
  headers?: Record<string, string>;
  /** Replaces global fetch (the embedded broker's in-process transport uses this). */
  fetch?: typeof fetch;
}

/** An error answered by the broker: status and Orion's `{error, description}`. */
export class NgsiError extends Error {
  override name = 'NgsiError';
  readonly status: number;
  readonly error: string;
  readonly description: string;

  constructor(status: number, error: string, description: string) {
    super(`${status} ${error}: ${description}`);
    this.status = status;
    this.error = error;
    this.description = description;
  }
}

export interface EntityQuery {
  id?: string | string[];
  idPattern?: string;
  type?: string | string[];
  typePattern?: string;
  q?: string;
  mq?: string;
  attrs?: string[];
  metadata?: string[];
  orderBy?: string;
  limit?: number;
  offset?: number;
  /** Ask for Fiware-Total-Count. */
  count?: boolean;
  keyValues?: boolean;
}

export interface SubscriptionInput {
  description?: string;
  subject: {
    entities: Array<{ id?: string; idPattern?: string; type?: string; typePattern?: string }>;
    condition?: { attrs?: string[]; expression?: { q?: string; mq?: string }; alterationTypes?: string[] };
  };
  notification: {
    http?: { url: string; timeout?: number };
    httpCustom?: {
      url: string;
      method?: string;
      headers?: Record<string, string>;
      qs?: Record<string, string>;
      payload?: string | null;
      json?: JsonValue;
    };
    attrs?: string[];
    exceptAttrs?: string[];
    attrsFormat?: 'normalized' | 'keyValues' | 'values';
    metadata?: string[];
    onlyChangedAttrs?: boolean;
    maxFailsLimit?: number;
  };
  expires?: string;
  throttling?: number;
  status?: 'active' | 'inactive' | 'oneshot';
}

export type BatchAction = 'append' | 'appendStrict' | 'update' | 'delete' | 'replace';

type Query = Record<string, string | number | boolean | string[] | undefined>;

function toSearch(query: Query): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === false) continue;
    params.set(k, Array.isArray(v) ? v.join(',') : String(v));
  }
  const s = params.toString();
  return s ? `?${s}` : '';
}

function options(...flags: Array<[string, boolean | undefined]>): string | undefined {
  const on = flags.filter(([, v]) => v).map(([k]) => k);
  return on.length > 0 ? on.join(',') : undefined;
}

const enc = encodeURIComponent;

export class NgsiClient {
  readonly options: NgsiClientOptions;
  readonly #fetch: typeof fetch;

  constructor(options: NgsiClientOptions) {
    this.options = { ...options, baseUrl: options.baseUrl.replace(/\/+$/, '') };
    this.#fetch = options.fetch ?? fetch;
  }

  /** The same broker under another tenant or service path. */
  with(scope: { service?: string; servicePath?: string }): NgsiClient {
    return new NgsiClient({ ...this.options, ...scope });
  }

  async #request(
    method: string,
    path: string,
    body?: unknown,
    contentType = 'application/json',
  ): Promise<Response> {
    // Attribute values may be plain text (Orion answers strings as text/plain).
    const accept = path.includes('/value') ? 'application/json, text/plain' : 'application/json';
    const headers: Record<string, string> = { Accept: accept, ...this.options.headers };
    if (this.options.service) headers['Fiware-Service'] = this.options.service;
    if (this.options.servicePath) headers['Fiware-ServicePath'] = this.options.servicePath;
    let payload: string | undefined;
    if (body !== undefined) {
      payload = contentType === 'application/json' ? JSON.stringify(body) : String(body);
      headers['Content-Type'] = contentType;
    }
    const res = await this.#fetch(`${this.options.baseUrl}${path}`, { method, headers, body: payload });
    if (res.status >= 400) {
      const text = await res.text();
      let parsed: { error?: string; description?: string };
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = { description: text };
      }
      throw new NgsiError(res.status, parsed.error ?? 'Error', parsed.description ?? '');
    }
    return res;
  }

  async #json<T>(method: string, path: string, body?: unknown): Promise<T> {
    return (await (await this.#request(method, path, body)).json()) as T;
  }

  async version(): Promise<{ orion: { version: string; [k: string]: string } }> {
    return this.#json('GET', '/version');
  }

  /** Creates an entity (422 Already Exists when it does, unless `upsert`). */
  async createEntity(
    entity: NgsiEntity,
    opts: { upsert?: boolean; keyValues?: boolean } = {},
  ): Promise<void> {
    const o = options(['upsert', opts.upsert], ['keyValues', opts.keyValues]);
    await this.#request('POST', `/v2/entities${toSearch({ options: o })}`, entity);
  }

  async upsertEntity(entity: NgsiEntity, opts: { keyValues?: boolean } = {}): Promise<void> {
    await this.createEntity(entity, { ...opts, upsert: true });
  }

  async getEntity(
    id: string,
    opts: { type?: string; attrs?: string[]; keyValues?: boolean } = {},
  ): Promise<NgsiEntity> {
    return this.#json(
      'GET',
      `/v2/entities/${enc(id)}${toSearch({ type: opts.type, attrs: opts.attrs, options: options(['keyValues', opts.keyValues]) })}`,
    );
  }

  async listEntities(
    query: EntityQuery = {},
  ): Promise<{ entities: NgsiEntity[]; totalCount: number | undefined }> {
    const { count, keyValues, ...rest } = query;
    const res = await this.#request(
      'GET',
      `/v2/entities${toSearch({ ...rest, options: options(['count', count], ['keyValues', keyValues]) })}`,
    );
    const total = res.headers.get('fiware-total-count');
    return {
      entities: (await res.json()) as NgsiEntity[],
      totalCount: total === null ? undefined : Number(total),
    };
  }

  /** Adds or updates attributes (`strict`: fail if any exists). */
  async appendAttrs(
    id: string,
    attrs: Record<string, NgsiAttribute | JsonValue>,
    opts: { type?: string; strict?: boolean; keyValues?: boolean } = {},
  ): Promise<void> {
    const o = options(['append', opts.strict], ['keyValues', opts.keyValues]);
    await this.#request(
      'POST',
      `/v2/entities/${enc(id)}/attrs${toSearch({ type: opts.type, options: o })}`,
      attrs,
    );
  }

  /** Updates existing attributes (422 when one does not exist). */
  async updateAttrs(
    id: string,
    attrs: Record<string, NgsiAttribute | JsonValue>,
    opts: { type?: string; keyValues?: boolean } = {},
  ): Promise<void> {
    await this.#request(
      'PATCH',
      `/v2/entities/${enc(id)}/attrs${toSearch({ type: opts.type, options: options(['keyValues', opts.keyValues]) })}`,
      attrs,
    );
  }

  async replaceAttrs(
    id: string,
    attrs: Record<string, NgsiAttribute | JsonValue>,
    opts: { type?: string; keyValues?: boolean } = {},
  ): Promise<void> {
    await this.#request(
      'PUT',
      `/v2/entities/${enc(id)}/attrs${toSearch({ type: opts.type, options: options(['keyValues', opts.keyValues]) })}`,
      attrs,
    );
  }

  async deleteEntity(id: string, opts: { type?: string } = {}): Promise<void> {
    await this.#request('DELETE', `/v2/entities/${enc(id)}${toSearch({ type: opts.type })}`);
  }

  async getAttrValue(id: string, attr: string, opts: { type?: string } = {}): Promise<JsonValue> {
    const res = await this.#request(
      'GET',
      `/v2/entities/${enc(id)}/attrs/${enc(attr)}/value${toSearch({ type: opts.type })}`,
    );
    const text = await res.text();
    return res.headers.get('content-type')?.startsWith('application/json')
      ? (JSON.parse(text) as JsonValue)
      : text;
  }

  async setAttrValue(
    id: string,
    attr: string,
    value: JsonValue,
    opts: { type?: string } = {},
  ): Promise<void> {
    const path = `/v2/entities/${enc(id)}/attrs/${enc(attr)}/value${toSearch({ type: opts.type })}`;
    if (value !== null && typeof value === 'object') await this.#request('PUT', path, value);
    else
      await this.#request(
        'PUT',
        path,
        typeof value === 'string' ? JSON.stringify(value) : String(value),
        'text/plain',
      );
  }

  async batchUpdate(
    actionType: BatchAction,
    entities: NgsiEntity[],
    opts: { keyValues?: boolean } = {},
  ): Promise<void> {
    await this.#request(
      'POST',
      `/v2/op/update${toSearch({ options: options(['keyValues', opts.keyValues]) })}`,
      { actionType, entities },
    );
  }

  async batchQuery(
    body: {
      entities?: Array<{ id?: string; idPattern?: string; type?: string; typePattern?: string }>;
      attrs?: string[];
      expression?: { q?: string; mq?: string };
    },
    opts: { limit?: number; offset?: number; orderBy?: string; keyValues?: boolean; count?: boolean } = {},
  ): Promise<{ entities: NgsiEntity[]; totalCount: number | undefined }> {
    const { keyValues, count, ...rest } = opts;
    const res = await this.#request(
      'POST',
      `/v2/op/query${toSearch({ ...rest, options: options(['keyValues', keyValues], ['count', count]) })}`,
      body,
    );
    const total = res.headers.get('fiware-total-count');
    return {
      entities: (await res.json()) as NgsiEntity[],
      totalCount: total === null ? undefined : Number(total),
    };
  }

  async listTypes(): Promise<
    Array<{ type: string; attrs: Record<string, { types: string[] }>; count: number }>
  > {
    return this.#json('GET', '/v2/types');
  }

  /** Creates a subscription and returns its id. */
  async createSubscription(subscription: SubscriptionInput): Promise<string> {
    const res = await this.#request('POST', '/v2/subscriptions', subscription);
    const location = res.headers.get('location') ?? '';
    return location.slice(location.lastIndexOf('/') + 1);
  }

  async getSubscription(id: string): Promise<Record<string, unknown>> {
    return this.#json('GET', `/v2/subscriptions/${enc(id)}`);
  }

  async listSubscriptions(
    opts: { limit?: number; offset?: number } = {},
  ): Promise<Array<Record<string, unknown>>> {
    return this.#json('GET', `/v2/subscriptions${toSearch(opts)}`);
  }

  async updateSubscription(id: string, patch: Partial<SubscriptionInput>): Promise<void> {
    await this.#request('PATCH', `/v2/subscriptions/${enc(id)}`, patch);
  }

  async deleteSubscription(id: string): Promise<void> {
    await this.#request('DELETE', `/v2/subscriptions/${enc(id)}`);
  }
}

/**
 * Subscriptions: storage, an in-memory copy per tenant for matching every entity change, the
 * notification payloads (attrsFormat, attrs/exceptAttrs, onlyChangedAttrs, httpCustom macros) and
 * the runtime fields Orion reports (timesSent, lastNotification, lastSuccess(Code), lastFailure,
 * failsCounter). Changes are matched synchronously but delivered through the notifier's queue, so
 * a slow receiver never delays an update.
 */
import type pg from 'pg';
import type { Database, Logger } from '../../core/index.ts';
import type { Change } from '../entity_ops.ts';
import { badRequest, subscriptionNotFound } from '../errors.ts';
import { type Entity, isoDate2, type JsonValue } from '../model.ts';
import { type GeoQuery, geoMatches, parseGeoQuery } from '../query/geo.ts';
import { type Item, matches, parseQuery } from '../query/simple_query.ts';
import { renderEntity } from '../render.ts';
import { inScopes, queryScopes } from '../tenancy.ts';
import { defaultType } from '../validate.ts';
import {
  type HttpCustom,
  newSubscriptionId,
  parseSubscription,
  patchSubscription,
  type SubscriptionDoc,
} from './model.ts';
import type { Notifier } from './notifier.ts';

export const ORION_VERSION = '4.7.0';

interface Runtime {
  timesSent: number;
  failsCounter: number;
  lastNotification: number | null;
  lastSuccess: number | null;
  lastSuccessCode: number | null;
  lastFailure: number | null;
  lastFailureReason: string | null;
}

interface Live {
  tenant: string;
  id: string;
  servicePath: string;
  seq: number;
  doc: SubscriptionDoc;
  q: Item[];
  mq: Item[];
  geo: GeoQuery | undefined;
  patterns: Array<{ id?: RegExp; type?: RegExp }>;
  runtime: Runtime;
  /** Notifications triggered (for the Fiware-Correlator `cbnotif` counter). */
  triggered: number;
}

export interface TargetPolicy {
  /** Decides whether a notification URL may be used (allow/deny lists). */
  allows(url: URL): boolean;
}

export interface SubscriptionService {
  load(): Promise<void>;
  create(
    tenant: string,
    servicePathHeader: string | undefined,
    body: Record<string, unknown>,
  ): Promise<string>;
  get(tenant: string, id: string): Promise<unknown>;
  list(tenant: string): Promise<unknown[]>;
  update(tenant: string, id: string, body: Record<string, unknown>): Promise<void>;
  remove(tenant: string, id: string): Promise<void>;
  onChange(change: Change): void;
  /** True when the tenant has at least one subscription. */
  hasAny(tenant: string): boolean;
  /** Waits until every runtime update triggered so far is stored. */
  flush(): Promise<void>;
  /** Stops listening for other processes' changes. */
  close(): Promise<void>;
}

/** A row of broker.subscriptions. */
interface Row {
  tenant: string;
  id: string;
  service_path: string;
  seq: string;
  doc: SubscriptionDoc;
  status: string;
  times_sent: string;
  fails_counter: number;
  last_notification: Date | null;
  last_success: Date | null;
  last_success_code: number | null;
  last_failure: Date | null;
  last_failure_reason: string | null;
}

const CHANNEL = 'broker_subscriptions';
/** Notification outcomes are stored in batches, at most this long after they happen. */
const RUNTIME_FLUSH_MS = 50;
/** Full reload of the subscription cache, in case a change notice from another process was missed. */
const RELOAD_MS = 60_000;

function compile(doc: SubscriptionDoc): Pick<Live, 'q' | 'mq' | 'geo' | 'patterns'> {
  const ex = doc.subject.condition.expression;
  return {
    geo: parseGeoQuery(ex?.georel, ex?.geometry, ex?.coords),
    q: ex?.q ? parseQuery(ex.q) : [],
    mq: ex?.mq ? parseQuery(ex.mq, true) : [],
    patterns: doc.subject.entities.map((e) => {
      const p: { id?: RegExp; type?: RegExp } = {};
      if (e.idPattern !== undefined) p.id = new RegExp(e.idPattern);
      if (e.typePattern !== undefined) p.type = new RegExp(e.typePattern);
      return p;
    }),
  };
}

function emptyRuntime(): Runtime {
  return {
    timesSent: 0,
    failsCounter: 0,
    lastNotification: null,
    lastSuccess: null,
    lastSuccessCode: null,
    lastFailure: null,
    lastFailureReason: null,
  };
}

/** Replaces `${...}` macros (Orion's legacy substitution) in a string. */
function macro(text: string, vars: (name: string) => string): string {
  return text.replace(/\$\{([^}]*)\}/g, (_m, name: string) => vars(name.trim()));
}

export function createSubscriptionService(deps: {
  db: Database;
  now: () => Date;
  notifier: Notifier;
  policy: TargetPolicy;
  logger: Logger;
  multiservice: boolean;
}): SubscriptionService {
  const { db, now, notifier, policy, logger } = deps;
  const byTenant = new Map<string, Map<string, Live>>();
  let writes: Promise<unknown> = Promise.resolve();

  function tenantMap(tenant: string): Map<string, Live> {
    let map = byTenant.get(tenant);
    if (!map) {
      map = new Map();
      byTenant.set(tenant, map);
    }
    return map;
  }

  function checkTargets(doc: SubscriptionDoc): void {
    const url = doc.notification.http?.url ?? doc.notification.httpCustom?.url;
    if (url && !url.includes('${') && !policy.allows(new URL(url))) {
      throw badRequest('notification URL not allowed by the broker notification policy');
    }
  }

  function statusOf(row: Row): string {
    const doc = row.doc;
    if (doc.expires && Date.parse(doc.expires) <= now().getTime()) return 'expired';
    if (row.status === 'active' && row.fails_counter > 0) return 'failed';
    return row.status;
  }

  /** Orion's rendering of a subscription, from its stored row (the truth shared by every process). */
  function render(row: Row): Record<string, unknown> {
    const doc = row.doc;
    const notification: Record<string, unknown> = {};
    if (doc.notification.exceptAttrs) notification['exceptAttrs'] = doc.notification.exceptAttrs;
    else notification['attrs'] = doc.notification.attrs ?? [];
    notification['onlyChangedAttrs'] = doc.notification.onlyChangedAttrs;
    notification['attrsFormat'] = doc.notification.attrsFormat;
    if (doc.notification.metadata) notification['metadata'] = doc.notification.metadata;
    if (doc.notification.http) notification['http'] = doc.notification.http;
    if (doc.notification.httpCustom) notification['httpCustom'] = doc.notification.httpCustom;
    if (doc.notification.maxFailsLimit !== undefined)
      notification['maxFailsLimit'] = doc.notification.maxFailsLimit;
    notification['covered'] = doc.notification.covered;
    const timesSent = Number(row.times_sent);
    if (timesSent > 0) notification['timesSent'] = timesSent;
    if (row.last_notification) notification['lastNotification'] = isoDate2(row.last_notification.getTime());
    if (row.last_failure) {
      notification['lastFailure'] = isoDate2(row.last_failure.getTime());
      if (row.last_failure_reason !== null) notification['lastFailureReason'] = row.last_failure_reason;
    }
    if (row.last_success) {
      notification['lastSuccess'] = isoDate2(row.last_success.getTime());
      if (row.last_success_code !== null) notification['lastSuccessCode'] = row.last_success_code;
    }
    if (timesSent > 0 || row.fails_counter > 0) notification['failsCounter'] = row.fails_counter;
    const condition: Record<string, unknown> = { attrs: doc.subject.condition.attrs };
    if (doc.subject.condition.expression) condition['expression'] = doc.subject.condition.expression;
    if (doc.subject.condition.alterationTypes)
      condition['alterationTypes'] = doc.subject.condition.alterationTypes;
    condition['notifyOnMetadataChange'] = doc.subject.condition.notifyOnMetadataChange ?? true;
    return {
      id: row.id,
      ...(doc.description === undefined ? {} : { description: doc.description }),
      subject: { entities: doc.subject.entities, condition },
      notification,
      ...(doc.expires === undefined ? {} : { expires: doc.expires }),
      ...(doc.throttling === undefined ? {} : { throttling: doc.throttling }),
      status: statusOf(row),
    };
  }

  /** Queues a statement after the previous runtime writes (keeps their order, lets flush() wait). */
  function write(sql: string, values: unknown[], then?: (rows: Row[]) => void): void {
    writes = writes
      .then(async () => {
        const { rows } = await db.query<Row>(sql, values);
        then?.(rows);
      })
      .catch((error) => logger.error({ err: error }, 'broker: storing subscription runtime failed'));
  }

  function announce(tenant: string, id: string): void {
    write('SELECT pg_notify($1, $2)', [CHANNEL, `${tenant}\n${id}`]);
  }

  function fromRow(row: Row, previous: Live | undefined): Live {
    return {
      tenant: row.tenant,
      id: row.id,
      servicePath: row.service_path,
      seq: Number(row.seq),
      doc: { ...row.doc, status: row.status as SubscriptionDoc['status'] },
      ...compile(row.doc),
      runtime: previous?.runtime ?? {
        ...emptyRuntime(),
        lastNotification: row.last_notification ? row.last_notification.getTime() : null,
      },
      triggered: previous?.triggered ?? Number(row.times_sent),
    };
  }

  async function reload(tenant?: string, id?: string): Promise<void> {
    const { rows } =
      id === undefined
        ? await db.query<Row>('SELECT * FROM broker.subscriptions ORDER BY seq')
        : await db.query<Row>('SELECT * FROM broker.subscriptions WHERE tenant = $1 AND id = $2', [
            tenant,
            id,
          ]);
    if (id === undefined) {
      const old = byTenant;
      const fresh = new Map<string, Map<string, Live>>();
      for (const row of rows) {
        const map = fresh.get(row.tenant) ?? new Map<string, Live>();
        fresh.set(row.tenant, map);
        map.set(row.id, fromRow(row, old.get(row.tenant)?.get(row.id)));
      }
      byTenant.clear();
      for (const [t, m] of fresh) byTenant.set(t, m);
      return;
    }
    const row = rows[0];
    if (!row) byTenant.get(tenant!)?.delete(id);
    else tenantMap(tenant!).set(id, fromRow(row, byTenant.get(tenant!)?.get(id)));
  }

  // ---- matching ---------------------------------------------------------------------------

  function entityMatches(live: Live, entity: Entity): boolean {
    return live.doc.subject.entities.some((s, i) => {
      const p = live.patterns[i]!;
      if (s.id !== undefined && s.id !== entity.id) return false;
      if (p.id && !p.id.test(entity.id)) return false;
      if (s.type !== undefined && s.type !== entity.type) return false;
      if (p.type && !p.type.test(entity.type)) return false;
      return true;
    });
  }

  function triggers(live: Live, change: Change): boolean {
    const cond = live.doc.subject.condition;
    const types = cond.alterationTypes ?? ['entityCreate', 'entityChange'];
    const metadataOnly = (name: string) => {
      const before = change.before?.attrs[name];
      const after = change.entity.attrs[name];
      return (
        before !== undefined &&
        after !== undefined &&
        before.type === after.type &&
        JSON.stringify(before.value) === JSON.stringify(after.value)
      );
    };
    let relevant: string[];
    if (change.alteration === 'entityCreate') {
      if (!types.includes('entityCreate')) return false;
      relevant = change.entity.attrNames;
    } else if (change.alteration === 'entityDelete') {
      if (!types.includes('entityDelete')) return false;
      relevant = change.entity.attrNames;
    } else {
      const base = change.forced ? change.touched : change.changed;
      const changed = cond.notifyOnMetadataChange === false ? base.filter((n) => !metadataOnly(n)) : base;
      if (types.includes('entityUpdate')) relevant = change.touched;
      else if (types.includes('entityChange') && changed.length > 0) relevant = changed;
      else return false;
    }
    if (cond.attrs.length > 0 && !cond.attrs.some((a) => relevant.includes(a))) return false;
    if (live.q.length > 0 && !matches(change.entity, live.q)) return false;
    if (live.mq.length > 0 && !matches(change.entity, live.mq)) return false;
    if (live.geo && !(change.entity.location && geoMatches(live.geo, change.entity.location.geometry)))
      return false;
    return true;
  }

  function notificationEntity(live: Live, change: Change): JsonValue {
    const n = live.doc.notification;
    const entity = change.entity;
    let names = n.attrs && n.attrs.length > 0 ? n.attrs : entity.attrNames.filter((a) => a !== 'dateExpires');
    if (n.exceptAttrs) names = names.filter((a) => !n.exceptAttrs!.includes(a));
    if (n.onlyChangedAttrs && change.alteration === 'entityUpdate')
      names = names.filter((a) => change.changed.includes(a));
    const selection = { attrs: names, metadata: n.metadata };
    const format =
      n.attrsFormat === 'keyValues' || n.attrsFormat === 'simplifiedKeyValues'
        ? 'keyValues'
        : n.attrsFormat === 'values'
          ? 'values'
          : 'normalized';
    const rendered = renderEntity(entity, selection, format) as Record<string, JsonValue> | JsonValue[];
    if (format === 'normalized' && !Array.isArray(rendered)) {
      for (const name of names) {
        const attr = entity.attrs[name];
        if (!attr) {
          if (n.covered) rendered[name] = { type: 'None', value: null, metadata: {} };
          continue;
        }
        const md = (rendered[name] as { metadata: Record<string, JsonValue> }).metadata;
        if (n.metadata?.includes('previousValue')) {
          const before = change.before?.attrs[name];
          md['previousValue'] = { type: before?.type ?? attr.type, value: before ? before.value : null };
        }
        if (n.metadata?.includes('actionType')) {
          const action =
            change.alteration === 'entityCreate' || !change.before?.attrs[name]
              ? 'append'
              : change.alteration === 'entityDelete'
                ? 'delete'
                : 'update';
          md['actionType'] = { type: 'Text', value: action };
        }
      }
      if (n.attrs?.includes('alterationType')) {
        rendered['alterationType'] = { type: 'Text', value: change.alteration, metadata: {} };
      }
    }
    return rendered;
  }

  function macroValue(entity: Entity, tenant: string, name: string): string {
    if (name === 'id') return entity.id;
    if (name === 'type') return entity.type;
    if (name === 'service') return tenant;
    if (name === 'servicePath') return entity.servicePath;
    if (name === 'authToken') return '';
    const attr = entity.attrs[name];
    if (!attr) return '';
    return typeof attr.value === 'string' ? attr.value : JSON.stringify(attr.value);
  }

  function jsonMacros(value: JsonValue, entity: Entity, tenant: string): JsonValue {
    if (typeof value === 'string') {
      const whole = /^\$\{([^}]*)\}$/.exec(value);
      if (whole) {
        const attr = entity.attrs[whole[1]!.trim()];
        if (attr) return attr.value;
      }
      return macro(value, (n) => macroValue(entity, tenant, n));
    }
    if (Array.isArray(value)) return value.map((v) => jsonMacros(v, entity, tenant));
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(
        Object.entries(value).map(([k, v]) => [
          macro(k, (n) => macroValue(entity, tenant, n)),
          jsonMacros(v, entity, tenant),
        ]),
      );
    }
    return value;
  }

  function enqueue(live: Live, change: Change): void {
    const n = live.doc.notification;
    const entity = change.entity;
    const nowMs = now().getTime();
    live.triggered += 1;
    live.runtime.lastNotification = nowMs;
    if (live.doc.status === 'oneshot') {
      live.doc.status = 'inactive';
      write(
        `UPDATE broker.subscriptions SET status = 'inactive', doc = jsonb_set(doc, '{status}', '"inactive"')
          WHERE tenant = $1 AND id = $2`,
        [live.tenant, live.id],
      );
      announce(live.tenant, live.id);
    }
    let url: URL;
    let method = 'POST';
    let body: Buffer;
    let contentType = 'application/json; charset=utf-8';
    let attrsFormat = n.attrsFormat === 'legacy' ? 'normalized' : n.attrsFormat;
    const custom: HttpCustom | undefined = n.httpCustom;
    const vars = (name: string) => macroValue(entity, change.tenant, name);
    try {
      url = new URL(custom ? macro(custom.url, vars) : n.http!.url);
    } catch {
      complete(live, { ok: false, reason: 'Invalid URL parsing notification url' });
      return;
    }
    if (!policy.allows(url)) {
      complete(live, { ok: false, reason: 'notification URL not allowed' });
      return;
    }
    const extra: Array<[string, string]> = [];
    if (custom) {
      method = custom.method ?? 'POST';
      for (const [k, v] of Object.entries(custom.qs ?? {}))
        url.searchParams.append(macro(k, vars), macro(v, vars));
      for (const [k, v] of Object.entries(custom.headers ?? {})) extra.push([macro(k, vars), macro(v, vars)]);
    }
    if (custom?.payload !== undefined) {
      body = Buffer.from(custom.payload === null ? '' : macro(custom.payload, vars));
      contentType = 'text/plain; charset=utf-8';
      attrsFormat = 'custom';
    } else if (custom?.json !== undefined) {
      body = Buffer.from(JSON.stringify(jsonMacros(custom.json, entity, change.tenant)));
      attrsFormat = 'custom';
    } else {
      const data = notificationEntity(live, change);
      if (custom?.ngsi && data !== null && typeof data === 'object' && !Array.isArray(data)) {
        // httpCustom.ngsi: its attributes (after macro substitution) replace or add to the entity's.
        const patch = jsonMacros(custom.ngsi, entity, change.tenant) as Record<string, JsonValue>;
        const keyValues = n.attrsFormat === 'keyValues' || n.attrsFormat === 'simplifiedKeyValues';
        for (const [name, value] of Object.entries(patch)) {
          const attr = value as Record<string, JsonValue>;
          if (name === 'id' || name === 'type') data[name] = value;
          else if (keyValues) data[name] = attr['value'] ?? null;
          else
            data[name] = {
              type: attr['type'] ?? defaultType(attr['value'] ?? null),
              value: attr['value'] ?? null,
              metadata: attr['metadata'] ?? {},
            };
        }
      }
      body = Buffer.from(
        JSON.stringify(
          // The simplified formats send the entity alone, without the subscriptionId/data envelope.
          n.attrsFormat.startsWith('simplified') ? data : { subscriptionId: live.id, data: [data] },
        ),
      );
    }
    const headers: Array<[string, string]> = [
      ['Fiware-Servicepath', entity.servicePath],
      ['Content-Length', String(body.length)],
      ['User-Agent', `orion/${ORION_VERSION} libcurl/tsunagu`],
      ['Ngsiv2-AttrsFormat', attrsFormat],
      ['Host', url.host],
      ['Accept', 'application/json'],
    ];
    if (deps.multiservice && change.tenant !== '') headers.push(['Fiware-Service', change.tenant]);
    if (body.length > 0) headers.push(['Content-Type', contentType]);
    headers.push(['Fiware-Correlator', `${change.correlator}; cbnotif=${live.triggered}`]);
    const protectedNames = ['fiware-correlator', 'ngsiv2-attrsformat'];
    for (const [k, v] of extra) {
      if (protectedNames.includes(k.toLowerCase())) continue;
      const index = headers.findIndex(([name]) => name.toLowerCase() === k.toLowerCase());
      if (index >= 0) headers.splice(index, 1);
      if (v !== '') headers.push([k, v]);
    }
    const timeout = custom?.timeout ?? n.http?.timeout;
    notifier.enqueue({
      key: `${live.tenant}/${live.id}`,
      method,
      url,
      headers,
      body,
      timeoutMs: timeout && timeout > 0 ? timeout : 10_000,
      done: (outcome) => complete(live, outcome),
    });
  }

  /** Outcomes not yet stored, per subscription; written together every RUNTIME_FLUSH_MS. */
  interface Outcomes {
    live: Live;
    sent: number;
    lastNotification: Date;
    lastSuccess: Date | null;
    lastSuccessCode: number | null;
    lastFailure: Date | null;
    lastFailureReason: string | null;
    /** A success happened in this batch: the stored failsCounter restarts from `failsAfter`. */
    successSeen: boolean;
    failsAfter: number;
  }
  const outcomes = new Map<Live, Outcomes>();
  let flushTimer: NodeJS.Timeout | undefined;

  function complete(live: Live, outcome: { ok: true; status: number } | { ok: false; reason: string }): void {
    const at = new Date(now().getTime());
    const o = outcomes.get(live) ?? {
      live,
      sent: 0,
      lastNotification: new Date(live.runtime.lastNotification ?? at.getTime()),
      lastSuccess: null,
      lastSuccessCode: null,
      lastFailure: null,
      lastFailureReason: null,
      successSeen: false,
      failsAfter: 0,
    };
    outcomes.set(live, o);
    o.sent += 1;
    o.lastNotification = new Date(Math.max(o.lastNotification.getTime(), live.runtime.lastNotification ?? 0));
    if (outcome.ok) {
      o.lastSuccess = at;
      o.lastSuccessCode = outcome.status;
      o.successSeen = true;
      o.failsAfter = 0;
    } else {
      o.lastFailure = at;
      o.lastFailureReason = outcome.reason;
      o.failsAfter += 1;
    }
    flushTimer ??= setTimeout(storeOutcomes, RUNTIME_FLUSH_MS);
  }

  /** Stores the pending outcomes as increments: several processes may notify for one subscription. */
  function storeOutcomes(): void {
    if (flushTimer) clearTimeout(flushTimer);
    flushTimer = undefined;
    for (const o of outcomes.values()) {
      const { live } = o;
      const fails = `(CASE WHEN $9 THEN $10::int ELSE fails_counter + $10::int END)`;
      const limitReached = `($11::int IS NOT NULL AND $10::int > 0 AND ${fails} >= $11::int)`;
      write(
        `UPDATE broker.subscriptions SET times_sent = times_sent + $3,
           last_notification = GREATEST(last_notification, $4),
           last_success = COALESCE($5, last_success),
           last_success_code = CASE WHEN $5::timestamptz IS NULL THEN last_success_code ELSE $6 END,
           last_failure = COALESCE($7, last_failure),
           last_failure_reason = COALESCE($8, last_failure_reason),
           fails_counter = ${fails},
           status = CASE WHEN ${limitReached} THEN 'inactive' ELSE status END,
           doc = CASE WHEN ${limitReached} THEN jsonb_set(doc, '{status}', '"inactive"') ELSE doc END
         WHERE tenant = $1 AND id = $2 RETURNING status`,
        [
          live.tenant,
          live.id,
          o.sent,
          o.lastNotification,
          o.lastSuccess,
          o.lastSuccessCode,
          o.lastFailure,
          o.lastFailureReason,
          o.successSeen,
          o.failsAfter,
          live.doc.notification.maxFailsLimit ?? null,
        ],
        (rows) => {
          if (rows[0]?.status === 'inactive' && live.doc.status !== 'inactive') {
            live.doc.status = 'inactive';
            announce(live.tenant, live.id);
          }
        },
      );
    }
    outcomes.clear();
  }

  let listener: pg.PoolClient | undefined;
  let timer: NodeJS.Timeout | undefined;

  return {
    async load() {
      await reload();
      listener = await db.pool.connect();
      listener.on('notification', (message) => {
        const [tenant, id] = (message.payload ?? '').split('\n');
        if (tenant === undefined || id === undefined) return;
        reload(tenant, id).catch((error) =>
          logger.warn({ err: error }, 'broker: subscription reload failed'),
        );
      });
      listener.on('error', (error) => logger.warn({ err: error }, 'broker: subscription listener failed'));
      await listener.query(`LISTEN ${CHANNEL}`);
      timer = setInterval(() => {
        reload().catch((error) => logger.warn({ err: error }, 'broker: subscription reload failed'));
      }, RELOAD_MS);
      timer.unref();
    },
    async close() {
      if (timer) clearInterval(timer);
      if (listener) {
        await listener.query(`UNLISTEN ${CHANNEL}`).catch(() => {});
        listener.release();
        listener = undefined;
      }
    },
    async create(tenant, servicePathHeader, body) {
      const doc = parseSubscription(body);
      checkTargets(doc);
      queryScopes(servicePathHeader);
      const servicePath =
        servicePathHeader === undefined || servicePathHeader.trim() === '' ? '/#' : servicePathHeader.trim();
      const id = newSubscriptionId();
      const { rows } = await db.query<{ seq: string }>(
        `INSERT INTO broker.subscriptions (tenant, id, service_path, doc, status, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING seq`,
        [tenant, id, servicePath, JSON.stringify(doc), doc.status, doc.expires ?? null],
      );
      tenantMap(tenant).set(id, {
        tenant,
        id,
        servicePath,
        seq: Number(rows[0]!.seq),
        doc,
        ...compile(doc),
        runtime: emptyRuntime(),
        triggered: 0,
      });
      announce(tenant, id);
      return id;
    },
    async get(tenant, id) {
      storeOutcomes();
      await writes;
      const { rows } = await db.query<Row>(
        'SELECT * FROM broker.subscriptions WHERE tenant = $1 AND id = $2',
        [tenant, id],
      );
      if (!rows[0]) throw subscriptionNotFound();
      return render(rows[0]);
    },
    async list(tenant) {
      storeOutcomes();
      await writes;
      const { rows } = await db.query<Row>(
        'SELECT * FROM broker.subscriptions WHERE tenant = $1 ORDER BY seq',
        [tenant],
      );
      return rows.map(render);
    },
    async update(tenant, id, body) {
      const { rows } = await db.query<Row>(
        'SELECT * FROM broker.subscriptions WHERE tenant = $1 AND id = $2',
        [tenant, id],
      );
      if (!rows[0]) throw subscriptionNotFound();
      const doc = patchSubscription(
        { ...rows[0].doc, status: rows[0].status as SubscriptionDoc['status'] },
        body,
      );
      checkTargets(doc);
      const reset = body['status'] === 'active' || body['notification'] !== undefined;
      await db.query(
        `UPDATE broker.subscriptions SET doc = $3, status = $4, expires_at = $5,
           fails_counter = CASE WHEN $6 THEN 0 ELSE fails_counter END WHERE tenant = $1 AND id = $2`,
        [tenant, id, JSON.stringify(doc), doc.status, doc.expires ?? null, reset],
      );
      await reload(tenant, id);
      announce(tenant, id);
    },
    async remove(tenant, id) {
      const { rowCount } = await db.query('DELETE FROM broker.subscriptions WHERE tenant = $1 AND id = $2', [
        tenant,
        id,
      ]);
      if (rowCount !== 1) throw subscriptionNotFound();
      byTenant.get(tenant)?.delete(id);
      announce(tenant, id);
    },
    hasAny(tenant) {
      return (byTenant.get(tenant)?.size ?? 0) > 0;
    },
    onChange(change) {
      const subs = byTenant.get(change.tenant);
      if (!subs) return;
      const nowMs = now().getTime();
      for (const live of subs.values()) {
        if (live.doc.status === 'inactive') continue;
        if (live.doc.expires && Date.parse(live.doc.expires) <= nowMs) continue;
        if (!inScopes(change.entity.servicePath, queryScopes(live.servicePath))) continue;
        if (!entityMatches(live, change.entity)) continue;
        if (!triggers(live, change)) continue;
        const throttling = live.doc.throttling;
        if (
          throttling &&
          live.runtime.lastNotification !== null &&
          nowMs - live.runtime.lastNotification < throttling * 1000
        ) {
          continue;
        }
        enqueue(live, change);
      }
    },
    async flush() {
      await notifier.drain();
      storeOutcomes();
      await writes;
    },
  };
}

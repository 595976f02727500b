/**
 * Subscriptions: storage, an in-memory copy per tenant for matching every entity change, the
 * notification payloads (attrsFormat, attrs/exceptAttrs, onlyChangedAttrs, httpCustom macros) and
 * the runtime fields Orion reports (timesSent, lastNotification, lastSuccess(Code), lastFailure,
 * failsCounter). Changes are matched synchronously but delivered through the notifier's queue, so
 * a slow receiver never delays an update.
 */
import type { Database, Logger } from '../../core/index.ts';
import type { Change } from '../entity_ops.ts';
import { badRequest, subscriptionNotFound } from '../errors.ts';
import { type Entity, isoDate2, type JsonValue } from '../model.ts';
import { type GeoQuery, geoMatches, parseGeoQuery } from '../query/geo.ts';
import { type Item, matches, parseQuery } from '../query/simple_query.ts';
import { renderEntity } from '../render.ts';
import { inScopes, queryScopes } from '../tenancy.ts';
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
  get(tenant: string, id: string): unknown;
  list(tenant: string): unknown[];
  update(tenant: string, id: string, body: Record<string, unknown>): Promise<void>;
  remove(tenant: string, id: string): Promise<void>;
  onChange(change: Change): void;
  /** True when the tenant has at least one subscription. */
  hasAny(tenant: string): boolean;
  /** Waits until every runtime update triggered so far is stored. */
  flush(): Promise<void>;
}

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

  function find(tenant: string, id: string): Live {
    const live = byTenant.get(tenant)?.get(id);
    if (!live) throw subscriptionNotFound();
    return live;
  }

  function checkTargets(doc: SubscriptionDoc): void {
    const url = doc.notification.http?.url ?? doc.notification.httpCustom?.url;
    if (url && !url.includes('${') && !policy.allows(new URL(url))) {
      throw badRequest('notification URL not allowed by the broker notification policy');
    }
  }

  function statusOf(live: Live): string {
    const doc = live.doc;
    if (doc.expires && Date.parse(doc.expires) <= now().getTime()) return 'expired';
    if (doc.status === 'active' && live.runtime.failsCounter > 0) return 'failed';
    return doc.status;
  }

  function render(live: Live): Record<string, unknown> {
    const { doc, runtime } = live;
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
    if (runtime.timesSent > 0) notification['timesSent'] = runtime.timesSent;
    if (runtime.lastNotification !== null)
      notification['lastNotification'] = isoDate2(runtime.lastNotification);
    if (runtime.lastFailure !== null) {
      notification['lastFailure'] = isoDate2(runtime.lastFailure);
      if (runtime.lastFailureReason !== null) notification['lastFailureReason'] = runtime.lastFailureReason;
    }
    if (runtime.lastSuccess !== null) {
      notification['lastSuccess'] = isoDate2(runtime.lastSuccess);
      if (runtime.lastSuccessCode !== null) notification['lastSuccessCode'] = runtime.lastSuccessCode;
    }
    if (runtime.timesSent > 0 || runtime.failsCounter > 0)
      notification['failsCounter'] = runtime.failsCounter;
    const condition: Record<string, unknown> = { attrs: doc.subject.condition.attrs };
    if (doc.subject.condition.expression) condition['expression'] = doc.subject.condition.expression;
    if (doc.subject.condition.alterationTypes)
      condition['alterationTypes'] = doc.subject.condition.alterationTypes;
    condition['notifyOnMetadataChange'] = doc.subject.condition.notifyOnMetadataChange ?? true;
    return {
      id: live.id,
      ...(doc.description === undefined ? {} : { description: doc.description }),
      subject: { entities: doc.subject.entities, condition },
      notification,
      ...(doc.expires === undefined ? {} : { expires: doc.expires }),
      ...(doc.throttling === undefined ? {} : { throttling: doc.throttling }),
      status: statusOf(live),
    };
  }

  function persist(live: Live): void {
    const r = live.runtime;
    const at = (ms: number | null) => (ms === null ? null : new Date(ms));
    writes = writes
      .then(() =>
        db.query(
          `UPDATE broker.subscriptions SET doc = $3, status = $4, times_sent = $5, fails_counter = $6,
             last_notification = $7, last_success = $8, last_success_code = $9, last_failure = $10,
             last_failure_reason = $11 WHERE tenant = $1 AND id = $2`,
          [
            live.tenant,
            live.id,
            JSON.stringify(live.doc),
            live.doc.status,
            r.timesSent,
            r.failsCounter,
            at(r.lastNotification),
            at(r.lastSuccess),
            r.lastSuccessCode,
            at(r.lastFailure),
            r.lastFailureReason,
          ],
        ),
      )
      .catch((error) => logger.error({ err: error }, 'broker: storing subscription runtime failed'));
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
      const changed =
        cond.notifyOnMetadataChange === false
          ? change.changed.filter((n) => !metadataOnly(n))
          : change.changed;
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
    if (live.doc.status === 'oneshot') live.doc.status = 'inactive';
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
      body = Buffer.from(
        JSON.stringify({ subscriptionId: live.id, data: [notificationEntity(live, change)] }),
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

  function complete(live: Live, outcome: { ok: true; status: number } | { ok: false; reason: string }): void {
    const r = live.runtime;
    const at = now().getTime();
    r.timesSent += 1;
    if (outcome.ok) {
      r.lastSuccess = at;
      r.lastSuccessCode = outcome.status;
      r.failsCounter = 0;
    } else {
      r.lastFailure = at;
      r.lastFailureReason = outcome.reason;
      r.failsCounter += 1;
      const limit = live.doc.notification.maxFailsLimit;
      if (limit !== undefined && r.failsCounter >= limit) live.doc.status = 'inactive';
    }
    persist(live);
  }

  return {
    async load() {
      const { rows } = await db.query<{
        tenant: string;
        id: string;
        service_path: string;
        seq: string;
        doc: SubscriptionDoc;
        times_sent: string;
        fails_counter: number;
        last_notification: Date | null;
        last_success: Date | null;
        last_success_code: number | null;
        last_failure: Date | null;
        last_failure_reason: string | null;
      }>('SELECT * FROM broker.subscriptions ORDER BY seq');
      byTenant.clear();
      const ms = (d: Date | null) => (d ? d.getTime() : null);
      for (const row of rows) {
        tenantMap(row.tenant).set(row.id, {
          tenant: row.tenant,
          id: row.id,
          servicePath: row.service_path,
          seq: Number(row.seq),
          doc: row.doc,
          ...compile(row.doc),
          runtime: {
            timesSent: Number(row.times_sent),
            failsCounter: row.fails_counter,
            lastNotification: ms(row.last_notification),
            lastSuccess: ms(row.last_success),
            lastSuccessCode: row.last_success_code,
            lastFailure: ms(row.last_failure),
            lastFailureReason: row.last_failure_reason,
          },
          triggered: Number(row.times_sent),
        });
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
      return id;
    },
    get(tenant, id) {
      return render(find(tenant, id));
    },
    list(tenant) {
      return [...(byTenant.get(tenant)?.values() ?? [])].sort((a, b) => a.seq - b.seq).map(render);
    },
    async update(tenant, id, body) {
      const live = find(tenant, id);
      const doc = patchSubscription(live.doc, body);
      checkTargets(doc);
      Object.assign(live, { doc, ...compile(doc) });
      if (body['status'] === 'active' || body['notification'] !== undefined) live.runtime.failsCounter = 0;
      await db.query(
        `UPDATE broker.subscriptions SET doc = $3, status = $4, expires_at = $5 WHERE tenant = $1 AND id = $2`,
        [tenant, id, JSON.stringify(doc), doc.status, doc.expires ?? null],
      );
      persist(live);
    },
    async remove(tenant, id) {
      find(tenant, id);
      await db.query('DELETE FROM broker.subscriptions WHERE tenant = $1 AND id = $2', [tenant, id]);
      byTenant.get(tenant)?.delete(id);
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
      await writes;
    },
  };
}

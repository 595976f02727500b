/**
 * The service registry: for each partner service (its idp client id), the items it may request,
 * its purposes (each optionally held back from the resident's history for `suppressDays` where
 * the law allows), and the data flows it may send. Staff change it through the admin API or the
 * CLI; no code change onboards a service. Every change is audited in the same transaction.
 */
import type { AuditLog, Database } from '../core/index.ts';
import { ProblemError } from '../core/index.ts';

export interface Purpose {
  code: string;
  /** Shown to the resident (Japanese first). */
  label: string;
  /** Entries for this purpose stay out of the resident's history for this many days. */
  suppressDays?: number;
}

export interface FlowRule {
  /** The receiving service's client id. */
  to: string;
  items: string[];
  purposes: string[];
}

export interface ServiceInput {
  service: string;
  name: string;
  items: string[];
  purposes: Purpose[];
  flows?: FlowRule[];
}

export interface RegisteredService extends Required<ServiceInput> {
  state: 'active' | 'disabled';
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface ServiceRegistry {
  add(input: ServiceInput, actor: string): Promise<RegisteredService>;
  update(
    service: string,
    change: Partial<Omit<ServiceInput, 'service'>>,
    actor: string,
  ): Promise<RegisteredService>;
  setState(service: string, state: 'active' | 'disabled', actor: string): Promise<RegisteredService>;
  get(service: string): Promise<RegisteredService | undefined>;
  list(): Promise<RegisteredService[]>;
  /** `get` through a short-lived cache (the partner API's hot path). */
  cached(service: string): Promise<RegisteredService | undefined>;
}

interface Row {
  service: string;
  name: string;
  items: string[];
  purposes: Purpose[];
  flows: FlowRule[];
  state: 'active' | 'disabled';
  version: number;
  created_at: Date;
  updated_at: Date;
}

const toService = (r: Row): RegisteredService => ({
  service: r.service,
  name: r.name,
  items: r.items,
  purposes: r.purposes,
  flows: r.flows,
  state: r.state,
  version: r.version,
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
});

const CACHE_MS = 5_000;

export function createServiceRegistry(options: {
  db: Database;
  audit: AuditLog;
  now: () => Date;
  /** Known data item codes (the consent module's). */
  itemCodes: readonly string[];
  /** Whether a partner client exists (the identity provider's registry). */
  clientExists: (clientId: string) => Promise<boolean>;
}): ServiceRegistry {
  const { db, audit, now } = options;
  const cache = new Map<string, { at: number; value: RegisteredService | undefined }>();

  async function validate(input: Omit<ServiceInput, 'service'> & { service: string }): Promise<void> {
    const fail = (detail: string) => {
      throw new ProblemError('invalid-registration', { detail });
    };
    if (!input.name.trim()) fail('name is empty');
    const unknown = [...input.items, ...(input.flows ?? []).flatMap((f) => f.items)].filter(
      (i) => !options.itemCodes.includes(i),
    );
    if (unknown.length) fail(`unknown data items: ${[...new Set(unknown)].join(', ')}`);
    const codes = input.purposes.map((p) => p.code);
    if (new Set(codes).size !== codes.length) fail('purpose codes repeat');
    for (const p of input.purposes) {
      if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(p.code)) fail(`purpose code ${p.code} is not a-z0-9-`);
      if (p.suppressDays !== undefined && (!Number.isInteger(p.suppressDays) || p.suppressDays < 0))
        fail(`purpose ${p.code}: suppressDays must be a whole number of days`);
    }
    for (const f of input.flows ?? []) {
      if (f.to === input.service) fail('a flow needs another service as recipient');
      if (!(await options.clientExists(f.to))) fail(`flow recipient ${f.to} is not a partner client`);
    }
    if (!(await options.clientExists(input.service))) fail(`${input.service} is not a partner client`);
  }

  async function write(
    service: string,
    action: string,
    actor: string,
    sql: string,
    values: unknown[],
  ): Promise<RegisteredService> {
    const row = await db.transaction(async (tx) => {
      const { rows } = await tx.query<Row>(sql, values);
      if (!rows[0]) return undefined;
      await audit.recordInTransaction(tx, {
        actor,
        action: `mediation.service.${action}`,
        target: `mediation-service:${service}`,
        details: {
          version: rows[0].version,
          items: rows[0].items,
          purposes: rows[0].purposes.map((p) => p.code),
        },
      });
      return rows[0];
    });
    cache.delete(service);
    if (!row)
      throw new ProblemError('mediation-service-not-found', { detail: `${service} is not registered.` });
    return toService(row);
  }

  const registry: ServiceRegistry = {
    async add(input, actor) {
      await validate(input);
      try {
        return await write(
          input.service,
          'add',
          actor,
          `INSERT INTO mediation.services (service, name, items, purposes, flows, state, version, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, 'active', 1, $6, $6) RETURNING *`,
          [
            input.service,
            input.name,
            [...new Set(input.items)],
            JSON.stringify(input.purposes),
            JSON.stringify(input.flows ?? []),
            now(),
          ],
        );
      } catch (error) {
        if ((error as { code?: string }).code === '23505')
          throw new ProblemError('mediation-service-exists', {
            detail: `${input.service} is already registered.`,
          });
        throw error;
      }
    },
    async update(service, change, actor) {
      const existing = await registry.get(service);
      if (!existing)
        throw new ProblemError('mediation-service-not-found', { detail: `${service} is not registered.` });
      const next = { ...existing, ...change, service };
      await validate(next);
      return write(
        service,
        'update',
        actor,
        `UPDATE mediation.services SET name = $2, items = $3, purposes = $4, flows = $5,
                version = version + 1, updated_at = $6 WHERE service = $1 RETURNING *`,
        [
          service,
          next.name,
          [...new Set(next.items)],
          JSON.stringify(next.purposes),
          JSON.stringify(next.flows),
          now(),
        ],
      );
    },
    setState(service, state, actor) {
      return write(
        service,
        state === 'active' ? 'enable' : 'disable',
        actor,
        `UPDATE mediation.services SET state = $2, version = version + 1, updated_at = $3
          WHERE service = $1 RETURNING *`,
        [service, state, now()],
      );
    },
    async get(service) {
      const { rows } = await db.query<Row>('SELECT * FROM mediation.services WHERE service = $1', [service]);
      return rows[0] ? toService(rows[0]) : undefined;
    },
    async list() {
      const { rows } = await db.query<Row>('SELECT * FROM mediation.services ORDER BY service');
      return rows.map(toService);
    },
    async cached(service) {
      const hit = cache.get(service);
      if (hit && Date.now() - hit.at < CACHE_MS) return hit.value;
      const value = await registry.get(service);
      cache.set(service, { at: Date.now(), value });
      return value;
    },
  };
  return registry;
}

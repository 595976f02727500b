/**
 * Municipal services (自治体サービス): what the city offers (a watching-over service, a health
 * programme), its target residents and the relationships between them (who watches over whom).
 * Staff register, edit and retire services; a retired service keeps its targets and history but
 * takes no new ones. Targets are added one by one, in bulk from CSV, or from a directory search;
 * every change is one transaction with its audit entry, and a refused change writes nothing.
 *
 * @example
 *   const s = await registry.create({ code: 'mimamori', nameJa: '見守りサービス', nameEn: 'Watching over', descriptionJa: '' }, 'staff:st_1');
 *   await registry.addTargets(s.id, ['k3x…'], 'manual', 'staff:st_1');
 *   await registry.relate(s.id, { kind: 'watcher', from: watcherId, to: watchedId }, 'staff:st_1');
 */
import { randomUUID } from 'node:crypto';
import {
  type AuditLog,
  type Database,
  defineProblem,
  type Migration,
  ProblemError,
} from '../../core/index.ts';

defineProblem('municipal-service-not-found', { status: 404, title: 'No such municipal service' });
defineProblem('municipal-service-retired', { status: 409, title: 'The municipal service is retired' });
defineProblem('municipal-service-code-taken', {
  status: 409,
  title: 'A municipal service with this code exists',
});

export const SERVICE_MIGRATIONS: Migration[] = [
  {
    id: '002_municipal_services',
    sql: `
      CREATE TABLE portal.municipal_services (
        id              text        PRIMARY KEY,
        code            text        NOT NULL UNIQUE CHECK (code ~ '^[a-z0-9][a-z0-9_-]{1,39}$'),
        name_ja         text        NOT NULL,
        name_en         text        NOT NULL,
        description_ja  text        NOT NULL DEFAULT '',
        status          text        NOT NULL CHECK (status IN ('active', 'retired')),
        created_by      text        NOT NULL,
        created_at      timestamptz NOT NULL,
        updated_at      timestamptz NOT NULL,
        retired_at      timestamptz
      );
      -- Target residents of a service (common IDs), and how each was added.
      CREATE TABLE portal.service_targets (
        service_id  text        NOT NULL REFERENCES portal.municipal_services (id),
        common_id   text        NOT NULL,
        source      text        NOT NULL CHECK (source IN ('manual', 'csv', 'search')),
        added_by    text        NOT NULL,
        added_at    timestamptz NOT NULL,
        PRIMARY KEY (service_id, common_id)
      );
      CREATE INDEX service_targets_resident ON portal.service_targets (common_id);
      -- Relationships between residents within a service: from_id <kind> to_id (a watcher watches over).
      CREATE TABLE portal.service_relations (
        id          text        PRIMARY KEY,
        service_id  text        NOT NULL REFERENCES portal.municipal_services (id),
        kind        text        NOT NULL CHECK (kind IN ('watcher', 'guardian', 'supporter')),
        from_id     text        NOT NULL,
        to_id       text        NOT NULL CHECK (to_id <> from_id),
        created_by  text        NOT NULL,
        created_at  timestamptz NOT NULL,
        UNIQUE (service_id, kind, from_id, to_id)
      );
      CREATE INDEX service_relations_from ON portal.service_relations (from_id);
      CREATE INDEX service_relations_to ON portal.service_relations (to_id);`,
  },
];

export const RELATION_KINDS = {
  watcher: {
    ja: '見守る人 → 見守られる人',
    en: 'Watcher → watched',
    fromJa: '見守る人',
    toJa: '見守られる人',
  },
  guardian: { ja: '保護者 → 子ども', en: 'Guardian → child', fromJa: '保護者', toJa: '子ども' },
  supporter: {
    ja: '支援者 → 支援を受ける人',
    en: 'Supporter → supported',
    fromJa: '支援者',
    toJa: '支援を受ける人',
  },
} as const;
export type RelationKind = keyof typeof RELATION_KINDS;

export interface MunicipalService {
  id: string;
  code: string;
  nameJa: string;
  nameEn: string;
  descriptionJa: string;
  status: 'active' | 'retired';
  createdAt: string;
  updatedAt: string;
  retiredAt: string | null;
  targetCount: number;
}

export interface ServiceInput {
  code: string;
  nameJa: string;
  nameEn: string;
  descriptionJa: string;
}

export interface Relation {
  id: string;
  serviceId: string;
  kind: RelationKind;
  from: string;
  to: string;
  createdAt: string;
}

export type TargetSource = 'manual' | 'csv' | 'search';

export interface ServiceRegistry {
  list(): Promise<MunicipalService[]>;
  get(id: string): Promise<MunicipalService>;
  create(input: ServiceInput, actor: string): Promise<MunicipalService>;
  update(id: string, input: Omit<ServiceInput, 'code'>, actor: string): Promise<MunicipalService>;
  retire(id: string, actor: string): Promise<MunicipalService>;
  /** Adds targets (already present ones are kept); answers how many were new. */
  addTargets(id: string, commonIds: readonly string[], source: TargetSource, actor: string): Promise<number>;
  removeTarget(id: string, commonId: string, actor: string): Promise<boolean>;
  targets(
    id: string,
    page?: { offset: number; limit: number },
  ): Promise<Array<{ commonId: string; source: TargetSource; addedAt: string }>>;
  /** Every target's common ID (for notices to a service's target list). */
  targetIds(id: string): Promise<string[]>;
  relate(id: string, r: { kind: RelationKind; from: string; to: string }, actor: string): Promise<Relation>;
  unrelate(id: string, relationId: string, actor: string): Promise<boolean>;
  relations(id: string): Promise<Relation[]>;
  /** What a resident sees: the services they are a target of, and their relations in them. */
  forResident(commonId: string): Promise<Array<{ service: MunicipalService; relations: Relation[] }>>;
}

interface Row {
  id: string;
  code: string;
  name_ja: string;
  name_en: string;
  description_ja: string;
  status: 'active' | 'retired';
  created_at: Date;
  updated_at: Date;
  retired_at: Date | null;
  target_count?: string;
}

const toService = (r: Row): MunicipalService => ({
  id: r.id,
  code: r.code,
  nameJa: r.name_ja,
  nameEn: r.name_en,
  descriptionJa: r.description_ja,
  status: r.status,
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
  retiredAt: r.retired_at?.toISOString() ?? null,
  targetCount: Number(r.target_count ?? 0),
});

const toRelation = (r: {
  id: string;
  service_id: string;
  kind: RelationKind;
  from_id: string;
  to_id: string;
  created_at: Date;
}): Relation => ({
  id: r.id,
  serviceId: r.service_id,
  kind: r.kind,
  from: r.from_id,
  to: r.to_id,
  createdAt: r.created_at.toISOString(),
});

const SELECT = `SELECT s.*, (SELECT count(*) FROM portal.service_targets t WHERE t.service_id = s.id) AS target_count
                  FROM portal.municipal_services s`;

function checkInput(input: Partial<ServiceInput>): void {
  const errors: string[] = [];
  if (input.code !== undefined && !/^[a-z0-9][a-z0-9_-]{1,39}$/.test(input.code))
    errors.push('code: 2–40 lower-case letters, digits, - or _');
  if (!input.nameJa?.trim() || input.nameJa.length > 200)
    errors.push('nameJa: required, at most 200 characters');
  if (!input.nameEn?.trim() || input.nameEn.length > 200)
    errors.push('nameEn: required, at most 200 characters');
  if ((input.descriptionJa ?? '').length > 4000) errors.push('descriptionJa: at most 4000 characters');
  if (errors.length) throw new ProblemError('validation-failed', { detail: errors.join('; '), errors });
}

/** Residents' common IDs: 26 characters of lower-case base32. */
export const COMMON_ID = /^[a-z2-7]{26}$/;

export function createServiceRegistry(db: Database, audit: AuditLog, now: () => Date): ServiceRegistry {
  const get = async (id: string) => {
    const { rows } = await db.query<Row>(`${SELECT} WHERE s.id = $1`, [id]);
    if (!rows[0]) throw new ProblemError('municipal-service-not-found');
    return toService(rows[0]);
  };
  const active = async (id: string) => {
    const s = await get(id);
    if (s.status === 'retired') throw new ProblemError('municipal-service-retired');
    return s;
  };

  return {
    async list() {
      const { rows } = await db.query<Row>(`${SELECT} ORDER BY s.status, s.created_at DESC`);
      return rows.map(toService);
    },
    get,
    async create(input, actor) {
      checkInput(input);
      const id = randomUUID();
      try {
        await db.transaction(async (tx) => {
          const at = now();
          await tx.query(
            `INSERT INTO portal.municipal_services (id, code, name_ja, name_en, description_ja, status, created_by, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, 'active', $6, $7, $7)`,
            [id, input.code, input.nameJa.trim(), input.nameEn.trim(), input.descriptionJa.trim(), actor, at],
          );
          await audit.recordInTransaction(tx, {
            actor,
            action: 'portal.service.create',
            target: `service:${id}`,
            details: { code: input.code },
          });
        });
      } catch (error) {
        if ((error as { code?: string }).code === '23505')
          throw new ProblemError('municipal-service-code-taken');
        throw error;
      }
      return get(id);
    },
    async update(id, input, actor) {
      checkInput(input);
      await active(id);
      await db.transaction(async (tx) => {
        await tx.query(
          `UPDATE portal.municipal_services SET name_ja = $2, name_en = $3, description_ja = $4, updated_at = $5 WHERE id = $1`,
          [id, input.nameJa.trim(), input.nameEn.trim(), input.descriptionJa.trim(), now()],
        );
        await audit.recordInTransaction(tx, {
          actor,
          action: 'portal.service.update',
          target: `service:${id}`,
          details: {},
        });
      });
      return get(id);
    },
    async retire(id, actor) {
      await active(id);
      await db.transaction(async (tx) => {
        const at = now();
        await tx.query(
          `UPDATE portal.municipal_services SET status = 'retired', retired_at = $2, updated_at = $2 WHERE id = $1 AND status = 'active'`,
          [id, at],
        );
        await audit.recordInTransaction(tx, {
          actor,
          action: 'portal.service.retire',
          target: `service:${id}`,
          details: {},
        });
      });
      return get(id);
    },
    async addTargets(id, commonIds, source, actor) {
      await active(id);
      const bad = commonIds.filter((c) => !COMMON_ID.test(c));
      if (bad.length)
        throw new ProblemError('validation-failed', {
          detail: `${bad.length} value(s) are not common IDs.`,
          errors: bad.slice(0, 20).map((_, i) => `row ${commonIds.indexOf(bad[i]!) + 1}`),
        });
      const unique = [...new Set(commonIds)];
      return db.transaction(async (tx) => {
        const { rowCount } = await tx.query(
          `INSERT INTO portal.service_targets (service_id, common_id, source, added_by, added_at)
           SELECT $1, c, $3, $4, $5 FROM unnest($2::text[]) AS c ON CONFLICT DO NOTHING`,
          [id, unique, source, actor, now()],
        );
        const added = rowCount ?? 0;
        await audit.recordInTransaction(tx, {
          actor,
          action: 'portal.service.targets-add',
          target: `service:${id}`,
          details: { source, requested: unique.length, added },
        });
        return added;
      });
    },
    async removeTarget(id, commonId, actor) {
      await get(id);
      return db.transaction(async (tx) => {
        const { rowCount } = await tx.query(
          'DELETE FROM portal.service_targets WHERE service_id = $1 AND common_id = $2',
          [id, commonId],
        );
        if (!rowCount) return false;
        await audit.recordInTransaction(tx, {
          actor,
          action: 'portal.service.target-remove',
          target: `service:${id}`,
          details: { resident: commonId },
        });
        return true;
      });
    },
    async targets(id, page = { offset: 0, limit: 200 }) {
      const { rows } = await db.query<{ common_id: string; source: TargetSource; added_at: Date }>(
        `SELECT common_id, source, added_at FROM portal.service_targets WHERE service_id = $1
          ORDER BY added_at DESC, common_id OFFSET $2 LIMIT $3`,
        [id, page.offset, page.limit],
      );
      return rows.map((r) => ({
        commonId: r.common_id,
        source: r.source,
        addedAt: r.added_at.toISOString(),
      }));
    },
    async targetIds(id) {
      await get(id);
      const { rows } = await db.query<{ common_id: string }>(
        'SELECT common_id FROM portal.service_targets WHERE service_id = $1 ORDER BY common_id',
        [id],
      );
      return rows.map((r) => r.common_id);
    },
    async relate(id, r, actor) {
      await active(id);
      if (!(r.kind in RELATION_KINDS) || !COMMON_ID.test(r.from) || !COMMON_ID.test(r.to) || r.from === r.to)
        throw new ProblemError('validation-failed', {
          detail: 'A relation needs a kind and two different common IDs.',
        });
      const relationId = randomUUID();
      await db.transaction(async (tx) => {
        const { rows } = await tx.query<{ n: string }>(
          'SELECT count(*) AS n FROM portal.service_targets WHERE service_id = $1 AND common_id = ANY($2::text[])',
          [id, [r.from, r.to]],
        );
        if (Number(rows[0]!.n) !== 2)
          throw new ProblemError('validation-failed', {
            detail: 'Both residents must be targets of the service.',
          });
        const inserted = await tx.query(
          `INSERT INTO portal.service_relations (id, service_id, kind, from_id, to_id, created_by, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
          [relationId, id, r.kind, r.from, r.to, actor, now()],
        );
        if (!inserted.rowCount) throw new ProblemError('conflict', { detail: 'This relation exists.' });
        await audit.recordInTransaction(tx, {
          actor,
          action: 'portal.service.relate',
          target: `service:${id}`,
          details: { relation: relationId, kind: r.kind, from: r.from, to: r.to },
        });
      });
      return (await this.relations(id)).find((x) => x.id === relationId)!;
    },
    async unrelate(id, relationId, actor) {
      return db.transaction(async (tx) => {
        const { rowCount } = await tx.query(
          'DELETE FROM portal.service_relations WHERE service_id = $1 AND id = $2',
          [id, relationId],
        );
        if (!rowCount) return false;
        await audit.recordInTransaction(tx, {
          actor,
          action: 'portal.service.unrelate',
          target: `service:${id}`,
          details: { relation: relationId },
        });
        return true;
      });
    },
    async relations(id) {
      const { rows } = await db.query<Parameters<typeof toRelation>[0]>(
        'SELECT * FROM portal.service_relations WHERE service_id = $1 ORDER BY created_at, id',
        [id],
      );
      return rows.map(toRelation);
    },
    async forResident(commonId) {
      const { rows } = await db.query<Row>(
        `${SELECT} WHERE s.status = 'active' AND EXISTS
           (SELECT 1 FROM portal.service_targets t WHERE t.service_id = s.id AND t.common_id = $1)
         ORDER BY s.name_ja`,
        [commonId],
      );
      const rels = await db.query<Parameters<typeof toRelation>[0]>(
        'SELECT * FROM portal.service_relations WHERE from_id = $1 OR to_id = $1 ORDER BY created_at',
        [commonId],
      );
      return rows.map((r) => ({
        service: toService(r),
        relations: rels.rows.filter((x) => x.service_id === r.id).map(toRelation),
      }));
    },
  };
}

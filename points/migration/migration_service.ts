/**
 * Migration from the system a city replaces, and visit/usage history from other systems:
 *
 *   importBalances  each source lot becomes an opening lot with its expiry, granted from the
 *                   currency's `migration` pool, which the issuer funds with exactly the imported
 *                   total in the same run — the ledger stays balanced and the pool ends at zero.
 *   importHistory   the previous system's history, kept read-only (never replayed as transfers).
 *   importVisits    visits/usage (CSV or JSON with a mapping), read-only, per resident and per day.
 *
 * Every import validates every row first and writes nothing when one is wrong; `dryRun` only
 * reports. Rows are keyed (the source's id column, else a hash of the row), so a re-run of the
 * same file — or of a file with more rows — adds only what is new. The file itself is not kept:
 * only its SHA-256 in `migration_runs`. Each import answers with a reconciliation (counts and
 * totals per currency and point type, source against what the platform holds).
 *
 * Holders are resolved by the caller (`resolveHolder(user_id)` → common ID), so this module never
 * reads identity tables.
 *
 * @example
 *   const report = await points.migration.importBalances({ source: 'saijo-pilot', bytes, actor: 'cli',
 *     resolveHolder: (id) => idp.residents.findByLegacy('saijo-pilot', id) });
 */
import { createHash } from 'node:crypto';
import type { AuditLog, Database } from '../../core/index.ts';
import { ProblemError } from '../../core/index.ts';
import type { LedgerService } from '../ledger_service.ts';
import { type Mapping, parseInstant, readSource, rowKey, type Source, SourceError } from './read_source.ts';

export const MIGRATION_POOL = 'migration';

export interface ImportIssue {
  at: number;
  field: string;
  code: 'missing' | 'invalid' | 'unknown-user' | 'unknown-currency' | 'unknown-point-type';
}

export interface ReconciliationLine {
  currency: string;
  pointType: string;
  sourceRows: number;
  sourceTotal: number;
  /** Source lots already expired at import: reported, not imported. */
  expiredRows: number;
  expiredTotal: number;
  importedRows: number;
  importedTotal: number;
  /** What the ledger's lots (balances) or the history table (history) hold for this source. */
  platformRows: number;
  platformTotal: number;
  reconciled: boolean;
}

export interface ImportReport {
  kind: 'balances' | 'history' | 'visits';
  source: string;
  format: 'csv' | 'json' | null;
  fileProblem?: string;
  rows: number;
  issues: ImportIssue[];
  /** Rows already imported by an earlier run (not imported again). */
  alreadyImported: number;
  /** Rows this run imported (or would import, in a dry run). */
  imported: number;
  dryRun: boolean;
  applied: boolean;
  reconciliation: ReconciliationLine[];
  /** Balance of each currency's migration pool after the run (0 when funded exactly). */
  migrationPools?: Record<string, number>;
}

export interface ImportInput {
  source: string;
  bytes: Uint8Array;
  actor: string;
  resolveHolder: (userId: string) => Promise<string | undefined>;
  mapping?: Mapping;
  dryRun?: boolean;
}

export interface ImportedHistoryRow {
  source: string;
  currency: string;
  pointType: string | null;
  occurredAt: string;
  kind: string;
  amount: number;
  description: string | null;
}

export interface ImportedVisit {
  source: string;
  visitedAt: string;
  place: string;
  kind: string;
}

export interface MigrationService {
  importBalances(input: ImportInput): Promise<ImportReport>;
  importHistory(input: ImportInput): Promise<ImportReport>;
  importVisits(input: ImportInput): Promise<ImportReport>;
  /** The resident's imported history, newest first (shown beside the ledger's own history). */
  importedHistory(holder: string, options?: { limit?: number }): Promise<ImportedHistoryRow[]>;
  /** The resident's imported visits, newest first. */
  visits(holder: string, options?: { limit?: number }): Promise<ImportedVisit[]>;
  /** Imported visits per JST day and place (for dashboards, beside native visits). */
  visitCounts(range: {
    from: Date;
    to: Date;
  }): Promise<Array<{ day: string; place: string; visits: number }>>;
}

type Ledger = Pick<LedgerService, 'currency' | 'pointType' | 'createPool' | 'fundPool' | 'grantBulk'>;

const SOURCE = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const hashOf = (value: unknown) =>
  createHash('sha256').update(JSON.stringify(value)).digest('base64url').slice(0, 32);

export function createMigrationService(deps: {
  db: Database;
  audit: AuditLog;
  now: () => Date;
  ledger: Ledger;
}): MigrationService {
  const { db, audit, now, ledger } = deps;

  const exists = async (check: () => Promise<unknown>) => {
    try {
      await check();
      return true;
    } catch (error) {
      if (error instanceof ProblemError) return false;
      throw error;
    }
  };

  /** Reads the file and resolves what every import needs; issues for anything wrong. */
  const prepare = async (kind: ImportReport['kind'], input: ImportInput) => {
    if (!SOURCE.test(input.source))
      throw new ProblemError('invalid-ledger-request', { detail: 'source must be a short lower-case name' });
    const report: ImportReport = {
      kind,
      source: input.source,
      format: null,
      rows: 0,
      issues: [],
      alreadyImported: 0,
      imported: 0,
      dryRun: input.dryRun === true,
      applied: false,
      reconciliation: [],
    };
    let source: Source | undefined;
    try {
      source = readSource(input.bytes, input.mapping);
      report.format = source.format;
      report.rows = source.records.length;
    } catch (error) {
      if (!(error instanceof SourceError)) throw error;
      report.fileProblem = error.message;
    }
    const holders = new Map<string, string | undefined>();
    const holder = async (userId: string) => {
      if (!holders.has(userId)) holders.set(userId, await input.resolveHolder(userId));
      return holders.get(userId);
    };
    const known = new Map<string, boolean>();
    const cached = async (key: string, check: () => Promise<unknown>) => {
      if (!known.has(key)) known.set(key, await exists(check));
      return known.get(key)!;
    };
    return { report, source, holder, cached };
  };

  const existingKeys = async (table: string, source: string) =>
    new Set(
      (
        await db.query<{ row_key: string }>(`SELECT row_key FROM points.${table} WHERE source = $1`, [source])
      ).rows.map((r) => r.row_key),
    );

  const recordRun = async (report: ImportReport, sha256: string, actor: string) => {
    await db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO points.migration_runs (source, kind, file_sha256, rows, imported, skipped, actor, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [
          report.source,
          report.kind,
          sha256,
          report.rows,
          report.imported,
          report.alreadyImported,
          actor,
          now(),
        ],
      );
      await audit.recordInTransaction(tx, {
        actor,
        action: `points.migration.${report.kind}`,
        target: `points.migration:${report.source}`,
        details: {
          rows: report.rows,
          imported: report.imported,
          alreadyImported: report.alreadyImported,
          reconciled: report.reconciliation.every((l) => l.reconciled),
        },
      });
    });
  };

  return {
    async importBalances(input) {
      const { report, source, holder, cached } = await prepare('balances', input);
      if (!source) return report;
      interface Lot {
        key: string;
        holder: string;
        currency: string;
        pointType: string;
        amount: number;
        expiresAt: Date | null;
        expired: boolean;
      }
      const lots: Lot[] = [];
      const seen = new Map<string, number>();
      for (const r of source.records) {
        const issues: ImportIssue[] = [];
        const userId = r.get('user_id');
        const who = userId ? await holder(userId) : undefined;
        if (!userId) issues.push({ at: r.at, field: 'user_id', code: 'missing' });
        else if (!who) issues.push({ at: r.at, field: 'user_id', code: 'unknown-user' });
        const currency = r.get('currency');
        const pointType = r.get('point_type');
        if (!currency) issues.push({ at: r.at, field: 'currency', code: 'missing' });
        else if (!(await cached(`c:${currency}`, () => ledger.currency(currency))))
          issues.push({ at: r.at, field: 'currency', code: 'unknown-currency' });
        else if (!pointType) issues.push({ at: r.at, field: 'point_type', code: 'missing' });
        else if (!(await cached(`t:${currency}/${pointType}`, () => ledger.pointType(currency, pointType))))
          issues.push({ at: r.at, field: 'point_type', code: 'unknown-point-type' });
        const amountText = r.get('amount').normalize('NFKC').replaceAll(',', '');
        const amount = Number(amountText);
        if (!amountText) issues.push({ at: r.at, field: 'amount', code: 'missing' });
        else if (!/^\d+$/.test(amountText) || !Number.isSafeInteger(amount) || amount <= 0)
          issues.push({ at: r.at, field: 'amount', code: 'invalid' });
        const expiresText = r.get('expires_at');
        const expiresAt = expiresText ? parseInstant(expiresText, { endOfDay: true }) : null;
        if (expiresAt === undefined) issues.push({ at: r.at, field: 'expires_at', code: 'invalid' });
        if (issues.length > 0) {
          report.issues.push(...issues);
          continue;
        }
        lots.push({
          key: rowKey(r.get('id'), [userId, currency, pointType, amount, expiresText], seen),
          holder: who!,
          currency,
          pointType,
          amount,
          expiresAt: expiresAt ?? null,
          expired: expiresAt ? expiresAt <= now() : false,
        });
      }
      if (report.issues.length > 0) return report;

      const done = await existingKeys('migration_lots', input.source);
      const fresh = lots.filter((l) => !l.expired && !done.has(l.key));
      report.alreadyImported = lots.filter((l) => done.has(l.key)).length;
      report.imported = fresh.length;
      if (!report.dryRun) {
        const groups = new Map<string, Lot[]>();
        for (const lot of fresh) {
          const g = `${lot.currency}\u0000${lot.pointType}`;
          groups.set(g, [...(groups.get(g) ?? []), lot]);
        }
        for (const group of [...groups.keys()].sort()) {
          const items = groups.get(group)!;
          const { currency, pointType } = items[0]!;
          const key = hashOf([input.source, currency, pointType, items.map((l) => l.key).sort()]);
          const total = items.reduce((s, l) => s + l.amount, 0);
          await exists(() => ledger.createPool({ currency, pool: MIGRATION_POOL }, input.actor));
          const reason = `migration ${input.source}`;
          await ledger.fundPool({
            currency,
            pool: MIGRATION_POOL,
            amount: total,
            reason,
            idempotency: { scope: 'migration', key: `fund:${key}` },
            actor: input.actor,
          });
          const csv = [
            'resident,amount,expires_at',
            ...items.map((l) => `${l.holder},${l.amount},${l.expiresAt?.toISOString() ?? ''}`),
          ].join('\n');
          const granted = await ledger.grantBulk({
            currency,
            pool: MIGRATION_POOL,
            pointType,
            csv,
            reason,
            idempotency: { scope: 'migration', key: `grant:${key}` },
            actor: input.actor,
          });
          await db.query(
            `INSERT INTO points.migration_lots (source, row_key, currency, point_type, holder, amount, expires_at, journal_id, imported_at)
             SELECT $1, k, $2, $3, h, a, e, $4, $5
               FROM unnest($6::text[], $7::text[], $8::bigint[], $9::timestamptz[]) AS t(k, h, a, e)
             ON CONFLICT (source, row_key) DO NOTHING`,
            [
              input.source,
              currency,
              pointType,
              granted.journalId,
              now(),
              items.map((l) => l.key),
              items.map((l) => l.holder),
              items.map((l) => l.amount),
              items.map((l) => l.expiresAt),
            ],
          );
        }
        report.applied = true;
      }

      // Reconciliation: the file against what was recorded and what the ledger's lots hold.
      const { rows: recorded } = await db.query<{
        currency: string;
        point_type: string;
        n: string;
        total: string;
      }>(
        `SELECT currency, point_type, count(*) AS n, sum(amount) AS total FROM points.migration_lots
          WHERE source = $1 GROUP BY 1, 2`,
        [input.source],
      );
      const { rows: inLedger } = await db.query<{
        currency: string;
        point_type: string;
        n: string;
        total: string;
      }>(
        `SELECT c.code AS currency, t.code AS point_type, count(*) AS n, sum(l.original) AS total
           FROM points.lot l
           JOIN points.point_type t ON t.id = l.point_type_id
           JOIN points.currency c ON c.id = t.currency_id
          WHERE l.journal_id IN (SELECT DISTINCT journal_id FROM points.migration_lots WHERE source = $1)
          GROUP BY 1, 2`,
        [input.source],
      );
      const lines = new Map<string, ReconciliationLine>();
      const line = (currency: string, pointType: string) => {
        const k = `${currency}\u0000${pointType}`;
        if (!lines.has(k))
          lines.set(k, {
            currency,
            pointType,
            sourceRows: 0,
            sourceTotal: 0,
            expiredRows: 0,
            expiredTotal: 0,
            importedRows: 0,
            importedTotal: 0,
            platformRows: 0,
            platformTotal: 0,
            reconciled: false,
          });
        return lines.get(k)!;
      };
      for (const lot of lots) {
        const l = line(lot.currency, lot.pointType);
        l.sourceRows += 1;
        l.sourceTotal += lot.amount;
        if (lot.expired) {
          l.expiredRows += 1;
          l.expiredTotal += lot.amount;
        }
      }
      for (const r of recorded) {
        const l = line(r.currency, r.point_type);
        l.importedRows = Number(r.n);
        l.importedTotal = Number(r.total);
      }
      for (const r of inLedger) {
        const l = line(r.currency, r.point_type);
        l.platformRows = Number(r.n);
        l.platformTotal = Number(r.total);
      }
      for (const l of lines.values())
        l.reconciled = report.dryRun
          ? true
          : l.importedTotal === l.sourceTotal - l.expiredTotal &&
            l.platformTotal === l.importedTotal &&
            l.importedRows === l.sourceRows - l.expiredRows;
      report.reconciliation = [...lines.values()].sort((a, b) =>
        `${a.currency}/${a.pointType}`.localeCompare(`${b.currency}/${b.pointType}`),
      );
      const { rows: pools } = await db.query<{ currency: string; balance: string }>(
        `SELECT c.code AS currency, a.balance FROM points.account a JOIN points.currency c ON c.id = a.currency_id
          WHERE a.kind = 'pool' AND a.holder = $1 ORDER BY 1`,
        [MIGRATION_POOL],
      );
      report.migrationPools = Object.fromEntries(pools.map((p) => [p.currency, Number(p.balance)]));
      if (report.applied) await recordRun(report, source.sha256, input.actor);
      return report;
    },

    async importHistory(input) {
      const { report, source, holder, cached } = await prepare('history', input);
      if (!source) return report;
      const rows: Array<{
        key: string;
        holder: string;
        currency: string;
        pointType: string | null;
        at: Date;
        kind: string;
        amount: number;
        description: string | null;
      }> = [];
      const seen = new Map<string, number>();
      for (const r of source.records) {
        const issues: ImportIssue[] = [];
        const userId = r.get('user_id');
        const who = userId ? await holder(userId) : undefined;
        if (!userId) issues.push({ at: r.at, field: 'user_id', code: 'missing' });
        else if (!who) issues.push({ at: r.at, field: 'user_id', code: 'unknown-user' });
        const currency = r.get('currency');
        if (!currency) issues.push({ at: r.at, field: 'currency', code: 'missing' });
        else if (!(await cached(`c:${currency}`, () => ledger.currency(currency))))
          issues.push({ at: r.at, field: 'currency', code: 'unknown-currency' });
        const at = parseInstant(r.get('occurred_at'));
        if (!r.get('occurred_at')) issues.push({ at: r.at, field: 'occurred_at', code: 'missing' });
        else if (!at) issues.push({ at: r.at, field: 'occurred_at', code: 'invalid' });
        const kind = r.get('kind');
        if (!kind) issues.push({ at: r.at, field: 'kind', code: 'missing' });
        const amountText = r.get('amount').normalize('NFKC').replaceAll(',', '');
        const amount = Number(amountText);
        if (!/^-?\d+$/.test(amountText) || !Number.isSafeInteger(amount))
          issues.push({ at: r.at, field: 'amount', code: amountText ? 'invalid' : 'missing' });
        if (issues.length > 0) {
          report.issues.push(...issues);
          continue;
        }
        const pointType = r.get('point_type') || null;
        rows.push({
          key: rowKey(r.get('id'), [userId, currency, pointType, r.get('occurred_at'), kind, amount], seen),
          holder: who!,
          currency,
          pointType,
          at: at!,
          kind: kind.slice(0, 64),
          amount,
          description: r.get('description').slice(0, 200) || null,
        });
      }
      if (report.issues.length > 0) return report;
      const done = await existingKeys('migration_history', input.source);
      const fresh = rows.filter((r) => !done.has(r.key));
      report.alreadyImported = rows.length - fresh.length;
      report.imported = fresh.length;
      if (!report.dryRun && fresh.length > 0) {
        await db.query(
          `INSERT INTO points.migration_history (source, row_key, holder, currency, point_type, occurred_at, kind, amount, description, imported_at)
           SELECT $1, k, h, c, t, o, kd, a, d, $2
             FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::text[], $9::bigint[], $10::text[])
                  AS x(k, h, c, t, o, kd, a, d)
           ON CONFLICT (source, row_key) DO NOTHING`,
          [
            input.source,
            now(),
            fresh.map((r) => r.key),
            fresh.map((r) => r.holder),
            fresh.map((r) => r.currency),
            fresh.map((r) => r.pointType),
            fresh.map((r) => r.at),
            fresh.map((r) => r.kind),
            fresh.map((r) => r.amount),
            fresh.map((r) => r.description),
          ],
        );
      }
      report.applied = !report.dryRun;
      const { rows: stored } = await db.query<{
        currency: string;
        point_type: string;
        n: string;
        total: string;
      }>(
        `SELECT currency, COALESCE(point_type, '') AS point_type, count(*) AS n, sum(amount) AS total
           FROM points.migration_history WHERE source = $1 GROUP BY 1, 2`,
        [input.source],
      );
      const lines = new Map<string, ReconciliationLine>();
      for (const r of rows) {
        const k = `${r.currency}\u0000${r.pointType ?? ''}`;
        const l = lines.get(k) ?? {
          currency: r.currency,
          pointType: r.pointType ?? '',
          sourceRows: 0,
          sourceTotal: 0,
          expiredRows: 0,
          expiredTotal: 0,
          importedRows: 0,
          importedTotal: 0,
          platformRows: 0,
          platformTotal: 0,
          reconciled: false,
        };
        l.sourceRows += 1;
        l.sourceTotal += r.amount;
        lines.set(k, l);
      }
      for (const s of stored) {
        const l = lines.get(`${s.currency}\u0000${s.point_type}`);
        if (!l) continue;
        l.importedRows = l.platformRows = Number(s.n);
        l.importedTotal = l.platformTotal = Number(s.total);
      }
      for (const l of lines.values())
        l.reconciled =
          report.dryRun || (l.platformRows === l.sourceRows && l.platformTotal === l.sourceTotal);
      report.reconciliation = [...lines.values()].sort((a, b) =>
        `${a.currency}/${a.pointType}`.localeCompare(`${b.currency}/${b.pointType}`),
      );
      if (report.applied) await recordRun(report, source.sha256, input.actor);
      return report;
    },

    async importVisits(input) {
      const { report, source, holder } = await prepare('visits', input);
      if (!source) return report;
      const rows: Array<{ key: string; holder: string; at: Date; place: string; kind: string }> = [];
      const seen = new Map<string, number>();
      for (const r of source.records) {
        const issues: ImportIssue[] = [];
        const userId = r.get('user_id');
        const who = userId ? await holder(userId) : undefined;
        if (!userId) issues.push({ at: r.at, field: 'user_id', code: 'missing' });
        else if (!who) issues.push({ at: r.at, field: 'user_id', code: 'unknown-user' });
        const at = parseInstant(r.get('visited_at'));
        if (!r.get('visited_at')) issues.push({ at: r.at, field: 'visited_at', code: 'missing' });
        else if (!at) issues.push({ at: r.at, field: 'visited_at', code: 'invalid' });
        const place = r.get('place');
        if (!place) issues.push({ at: r.at, field: 'place', code: 'missing' });
        if (issues.length > 0) {
          report.issues.push(...issues);
          continue;
        }
        const kind = (r.get('kind') || 'visit').slice(0, 64);
        rows.push({
          key: rowKey(r.get('id'), [userId, r.get('visited_at'), place, kind], seen),
          holder: who!,
          at: at!,
          place: place.slice(0, 200),
          kind,
        });
      }
      if (report.issues.length > 0) return report;
      const done = await existingKeys('imported_visits', input.source);
      const fresh = rows.filter((r) => !done.has(r.key));
      report.alreadyImported = rows.length - fresh.length;
      report.imported = fresh.length;
      if (!report.dryRun && fresh.length > 0) {
        await db.query(
          `INSERT INTO points.imported_visits (source, row_key, holder, visited_at, place, kind, imported_at)
           SELECT $1, k, h, v, p, kd, $2 FROM unnest($3::text[], $4::text[], $5::timestamptz[], $6::text[], $7::text[])
                  AS x(k, h, v, p, kd)
           ON CONFLICT (source, row_key) DO NOTHING`,
          [
            input.source,
            now(),
            fresh.map((r) => r.key),
            fresh.map((r) => r.holder),
            fresh.map((r) => r.at),
            fresh.map((r) => r.place),
            fresh.map((r) => r.kind),
          ],
        );
      }
      report.applied = !report.dryRun;
      const { rows: stored } = await db.query<{ n: string }>(
        'SELECT count(*) AS n FROM points.imported_visits WHERE source = $1',
        [input.source],
      );
      const platformRows = Number(stored[0]!.n);
      report.reconciliation = [
        {
          currency: '',
          pointType: '',
          sourceRows: rows.length,
          sourceTotal: 0,
          expiredRows: 0,
          expiredTotal: 0,
          importedRows: platformRows,
          importedTotal: 0,
          platformRows,
          platformTotal: 0,
          reconciled: report.dryRun || platformRows === rows.length,
        },
      ];
      if (report.applied) await recordRun(report, source.sha256, input.actor);
      return report;
    },

    async importedHistory(holder, options = {}) {
      const { rows } = await db.query<{
        source: string;
        currency: string;
        point_type: string | null;
        occurred_at: Date;
        kind: string;
        amount: string;
        description: string | null;
      }>(
        `SELECT source, currency, point_type, occurred_at, kind, amount, description FROM points.migration_history
          WHERE holder = $1 ORDER BY occurred_at DESC, id DESC LIMIT $2`,
        [holder, Math.min(Math.max(options.limit ?? 100, 1), 1000)],
      );
      return rows.map((r) => ({
        source: r.source,
        currency: r.currency,
        pointType: r.point_type,
        occurredAt: r.occurred_at.toISOString(),
        kind: r.kind,
        amount: Number(r.amount),
        description: r.description,
      }));
    },

    async visits(holder, options = {}) {
      const { rows } = await db.query<{ source: string; visited_at: Date; place: string; kind: string }>(
        `SELECT source, visited_at, place, kind FROM points.imported_visits WHERE holder = $1
          ORDER BY visited_at DESC, id DESC LIMIT $2`,
        [holder, Math.min(Math.max(options.limit ?? 100, 1), 1000)],
      );
      return rows.map((r) => ({
        source: r.source,
        visitedAt: r.visited_at.toISOString(),
        place: r.place,
        kind: r.kind,
      }));
    },

    async visitCounts(range) {
      const { rows } = await db.query<{ day: string; place: string; visits: string }>(
        `SELECT to_char(visited_at AT TIME ZONE 'Asia/Tokyo', 'YYYY-MM-DD') AS day, place, count(*) AS visits
           FROM points.imported_visits WHERE visited_at >= $1 AND visited_at < $2 GROUP BY 1, 2 ORDER BY 1, 2`,
        [range.from, range.to],
      );
      return rows.map((r) => ({ day: r.day, place: r.place, visits: Number(r.visits) }));
    },
  };
}

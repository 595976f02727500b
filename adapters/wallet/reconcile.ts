/**
 * The daily reconciliation: for one JST day, the movements the platform asked for against the
 * transactions the wallet lists for this partner, matched by reference.
 *
 *   matched              done here, the same type and amount there
 *   missing-in-wallet    done here, absent there
 *   amount-mismatch      both sides, different amount or type
 *   settled-now          pending here, present there → the exchange is posted now
 *   credited-after-void  voided or refused here, credited there → a compensating debit is queued
 *   compensated          voided here, credited there and debited back
 *   pending              pending here, absent there (the outbox is still retrying)
 *   unknown-in-platform  there, with our reference prefix, but no movement of ours
 *
 * Status `balanced` when every item is matched, pending or an expected void; `discrepancies`
 * otherwise; `failed` when the wallet could not be read (the report says why; staff run it again).
 */
import type { AuditLog, Database } from '../../core/index.ts';
import type { WalletApi, WalletTransaction } from './wallet_client.ts';
import type { WalletMovements } from './wallet_movements.ts';

const DAY = 86_400_000;
const JST = 9 * 3_600_000;
/** The wallet may stamp a transaction a little after our request: look this far past the day. */
const SLACK = 3_600_000;

export interface ReconciliationItem {
  reference: string;
  result: string;
  kind: string;
  platformAmount: number | null;
  walletAmount: number | null;
  walletTxId: string | null;
}

export interface Reconciliation {
  id: string;
  day: string;
  generatedAt: string;
  actor: string;
  status: 'balanced' | 'discrepancies' | 'failed';
  summary: Record<string, unknown>;
  items: ReconciliationItem[];
}

interface Movement {
  reference: string;
  kind: 'credit' | 'debit';
  exchangeId: string;
  resident: string;
  accountSealed: string;
  amount: string;
  status: string;
}

const FINE = new Set(['matched', 'pending', 'voided', 'refused', 'settled-now', 'compensated']);

/** [start, end) of a JST day as UTC instants. */
export function jstDayRange(day: string): { from: Date; to: Date } {
  const from = new Date(Date.parse(`${day}T00:00:00Z`) - JST);
  return { from, to: new Date(from.getTime() + DAY) };
}

export function previousJstDay(at: Date): string {
  return new Date(at.getTime() + JST - DAY).toISOString().slice(0, 10);
}

export function createReconciliation(deps: {
  db: Database;
  audit: AuditLog;
  now: () => Date;
  api: WalletApi;
  movements: WalletMovements;
  open: (reference: string, sealed: string) => string;
  referencePrefix: string;
}) {
  const { db, audit, now, api, movements } = deps;

  async function store(
    day: string,
    actor: string,
    status: Reconciliation['status'],
    summary: object,
    items: ReconciliationItem[],
  ) {
    const { rows } = await db.transaction(async (tx) => {
      const inserted = await tx.query<{ id: string }>(
        `INSERT INTO adapters.wallet_reconciliation (day, generated_at, actor, status, summary, items)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id::text`,
        [day, now(), actor, status, JSON.stringify(summary), JSON.stringify(items)],
      );
      await audit.recordInTransaction(tx, {
        actor,
        action: 'adapters.wallet.reconcile',
        target: `adapters.wallet-reconciliation:${inserted.rows[0]!.id}`,
        details: { day, status, discrepancies: items.filter((i) => !FINE.has(i.result)).length },
      });
      return inserted;
    });
    return rows[0]!.id;
  }

  async function run(day: string, actor: string): Promise<Reconciliation> {
    await movements.sweepPending();
    const { from, to } = jstDayRange(day);
    const { rows } = await db.query<Movement>(
      `SELECT reference, kind, exchange_id AS "exchangeId", resident, account_sealed AS "accountSealed",
              amount::text, status
         FROM adapters.wallet_movement WHERE created_at >= $1 AND created_at < $2 ORDER BY id`,
      [from, to],
    );
    const listed = await api.transactions(new Date(from.getTime() - SLACK), new Date(to.getTime() + SLACK));
    if (listed.kind !== 'done') {
      const summary = { reason: listed.kind === 'refused' ? listed.code : listed.reason };
      const id = await store(day, actor, 'failed', summary, []);
      return get(id) as Promise<Reconciliation>;
    }
    const theirs = new Map<string, WalletTransaction>();
    for (const tx of listed.value)
      if (tx.reference.startsWith(deps.referencePrefix)) theirs.set(tx.reference, tx);

    const items: ReconciliationItem[] = [];
    const ours = new Set(rows.map((m) => m.reference));
    for (const m of rows) {
      const t = theirs.get(m.reference);
      const item = (result: string): ReconciliationItem => ({
        reference: m.reference,
        result,
        kind: m.kind,
        platformAmount: Number(m.amount),
        walletAmount: t?.amount ?? null,
        walletTxId: t?.id ?? null,
      });
      if (m.status === 'done') {
        if (!t) items.push(item('missing-in-wallet'));
        else if (t.amount !== Number(m.amount) || t.type !== m.kind) items.push(item('amount-mismatch'));
        else items.push(item('matched'));
      } else if (m.status === 'pending') {
        if (t && m.kind === 'credit' && t.amount === Number(m.amount)) {
          const account = deps.open(m.reference, m.accountSealed);
          await movements.settleFound(
            { exchangeId: m.exchangeId, reference: m.reference, account, amount: Number(m.amount) },
            t.id,
          );
          items.push(item('settled-now'));
        } else items.push(item(t ? 'amount-mismatch' : 'pending'));
      } else if (t && m.kind === 'credit') {
        // Voided or refused here, yet credited there: take it back (once).
        const back = await db.query<{ status: string }>(
          'SELECT status FROM adapters.wallet_movement WHERE reference = $1',
          [`${m.reference}-r`],
        );
        if (back.rows[0]?.status === 'done') {
          items.push(item('compensated'));
          continue;
        }
        const account = deps.open(m.reference, m.accountSealed);
        await movements.compensate(
          { exchangeId: m.exchangeId, reference: m.reference, account, amount: t.amount },
          m.resident,
          'reconciliation: credited after void',
        );
        items.push(item('credited-after-void'));
      } else items.push(item(m.status));
    }
    // The wallet's transactions of this day with our prefix that we never asked for.
    for (const t of theirs.values()) {
      const at = Date.parse(t.createdAt);
      if (ours.has(t.reference) || at < from.getTime() || at >= to.getTime()) continue;
      const known = await db.query('SELECT 1 FROM adapters.wallet_movement WHERE reference = $1', [
        t.reference,
      ]);
      if ((known.rowCount ?? 0) > 0) continue; // another day's movement
      items.push({
        reference: t.reference,
        result: 'unknown-in-platform',
        kind: t.type,
        platformAmount: null,
        walletAmount: t.amount,
        walletTxId: t.id,
      });
    }
    const sum = (list: Array<{ amount: number }>) => list.reduce((s, x) => s + x.amount, 0);
    const platformDone = rows
      .filter((m) => m.status === 'done')
      .map((m) => ({ kind: m.kind, amount: Number(m.amount) }));
    const walletDay = [...theirs.values()].filter((t) => {
      const at = Date.parse(t.createdAt);
      return at >= from.getTime() && at < to.getTime();
    });
    const summary = {
      platform: {
        credits: {
          count: platformDone.filter((m) => m.kind === 'credit').length,
          amount: sum(platformDone.filter((m) => m.kind === 'credit')),
        },
        debits: {
          count: platformDone.filter((m) => m.kind === 'debit').length,
          amount: sum(platformDone.filter((m) => m.kind === 'debit')),
        },
      },
      wallet: {
        credits: {
          count: walletDay.filter((t) => t.type === 'credit').length,
          amount: sum(walletDay.filter((t) => t.type === 'credit')),
        },
        debits: {
          count: walletDay.filter((t) => t.type === 'debit').length,
          amount: sum(walletDay.filter((t) => t.type === 'debit')),
        },
      },
      results: items.reduce<Record<string, number>>(
        (acc, i) => ({ ...acc, [i.result]: (acc[i.result] ?? 0) + 1 }),
        {},
      ),
    };
    const status = items.every((i) => FINE.has(i.result)) ? 'balanced' : 'discrepancies';
    const id = await store(day, actor, status, summary, items);
    return (await get(id))!;
  }

  async function get(id: string): Promise<Reconciliation | undefined> {
    const { rows } = await db.query<
      Omit<Reconciliation, 'day' | 'generatedAt'> & { day: string; generatedAt: Date }
    >(
      `SELECT id::text, to_char(day, 'YYYY-MM-DD') AS day, generated_at AS "generatedAt", actor, status, summary, items
         FROM adapters.wallet_reconciliation WHERE id = $1`,
      [id],
    );
    const r = rows[0];
    return r ? { ...r, generatedAt: r.generatedAt.toISOString() } : undefined;
  }

  return {
    run,
    get,
    async list(limit = 30) {
      const { rows } = await db.query<{
        id: string;
        day: string;
        generatedAt: Date;
        actor: string;
        status: string;
        summary: unknown;
      }>(
        `SELECT id::text, to_char(day, 'YYYY-MM-DD') AS day, generated_at AS "generatedAt", actor, status, summary
           FROM adapters.wallet_reconciliation ORDER BY day DESC, id DESC LIMIT $1`,
        [Math.min(Math.max(limit, 1), 366)],
      );
      return rows.map((r) => ({ ...r, generatedAt: r.generatedAt.toISOString() }));
    },
    /** The newest report of a day, if any. */
    async latest(day: string) {
      const { rows } = await db.query<{ id: string }>(
        'SELECT id::text FROM adapters.wallet_reconciliation WHERE day = $1 ORDER BY id DESC LIMIT 1',
        [day],
      );
      return rows[0] ? get(rows[0].id) : undefined;
    },
  };
}

export type WalletReconciliation = ReturnType<typeof createReconciliation>;

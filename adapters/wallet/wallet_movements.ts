/**
 * Exchanges into the wallet, through the outbox:
 *
 *   points.exchange   hold journal, exchange `pending`, calls our ExternalWallet.credit
 *   queueCredit       the resident's wallet account (their consent link to the wallet service),
 *                     a movement row and an outbox message in one transaction → `{ queued: true }`
 *   deliverCredit     POST credit with Idempotency-Key = reference (outbox worker, with backoff):
 *                       done     → settleExchange (posted)
 *                       refused  → voidExchange (points restored)
 *                       unknown  → retry; on the last attempt ask the wallet for the reference,
 *                                  then settle, or void and leave a dead letter for staff
 *   deliverDebit      a compensating debit when the wallet credited an exchange already voided
 *                     (found by deliverCredit or the reconciliation)
 *
 * A crash between the hold journal and the enqueue leaves a pending exchange without a movement;
 * `sweepPending` (at start and before each reconciliation) queues those.
 */
import type { AuditLog, Database, Logger, Queryable } from '../../core/index.ts';
import { ProblemError } from '../../core/index.ts';
import type { ExternalWallet, PointsService } from '../../points/index.ts';
import { type Kit, type OutboxMessage, PermanentFailure, type Sealer } from '../kit/index.ts';
import type { WalletApi } from './wallet_client.ts';
import type { WalletSettings } from './wallet_settings.ts';

export const ACTOR = 'adapter:wallet';

export interface CreditPayload {
  exchangeId: string;
  reference: string;
  account: string;
  amount: number;
}

export interface DebitPayload extends CreditPayload {
  reason: string;
}

/** Finds a resident's account at the wallet (by default their consent link to the wallet service). */
export type AccountResolver = (resident: string) => Promise<string | undefined>;

interface Deps {
  db: Database;
  audit: AuditLog;
  logger: Logger;
  now: () => Date;
  kit: Kit;
  sealer: Sealer;
  settings: WalletSettings & { referencePrefix: string; maxAttempts: number };
  api: WalletApi;
  points: () => PointsService;
  accountOf: AccountResolver;
}

export function createWalletMovements(deps: Deps) {
  const { db, kit, sealer, settings, api, now, logger } = deps;
  const referenceOf = (exchangeId: string) => `${settings.referencePrefix}${exchangeId}`;

  async function setStatus(
    q: Queryable,
    reference: string,
    status: 'done' | 'refused' | 'voided',
    fields: { walletTxId?: string; reason?: string },
  ): Promise<void> {
    await q.query(
      `UPDATE adapters.wallet_movement SET status = $2, wallet_tx_id = coalesce($3, wallet_tx_id), reason = $4, settled_at = $5
        WHERE reference = $1`,
      [reference, status, fields.walletTxId ?? null, fields.reason?.slice(0, 500) ?? null, now()],
    );
  }

  async function movementStatus(reference: string): Promise<string | undefined> {
    const { rows } = await db.query<{ status: string }>(
      'SELECT status FROM adapters.wallet_movement WHERE reference = $1',
      [reference],
    );
    return rows[0]?.status;
  }

  async function enqueue(kind: 'credit' | 'debit', payload: CreditPayload | DebitPayload, resident: string) {
    const created = await db.transaction(async (tx) => {
      const inserted = await tx.query(
        `INSERT INTO adapters.wallet_movement (reference, kind, exchange_id, resident, account_sealed, amount, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (reference) DO NOTHING`,
        [
          payload.reference,
          kind,
          payload.exchangeId,
          resident,
          sealer.seal(`wallet-movement:${payload.reference}`, payload.account),
          payload.amount,
          now(),
        ],
      );
      if (inserted.rowCount === 0) return false;
      await kit.outbox.enqueue(tx, {
        adapter: 'wallet',
        kind,
        key: `wallet:${kind}:${payload.reference}`,
        payload,
        maxAttempts: settings.maxAttempts,
      });
      return true;
    });
    if (created) kit.outbox.kick();
    return created;
  }

  /** After the wallet credited an exchange that is voided: take the credit back (audited). */
  async function compensate(credit: CreditPayload, resident: string, why: string): Promise<void> {
    const created = await enqueue(
      'debit',
      { ...credit, reference: `${credit.reference}-r`, reason: why },
      resident,
    );
    if (created)
      await deps.audit.record({
        actor: ACTOR,
        action: 'adapters.wallet.compensate',
        target: `points.exchange:${credit.exchangeId}`,
        details: { amount: credit.amount, reason: why },
      });
  }

  async function residentOf(reference: string): Promise<string> {
    const { rows } = await db.query<{ resident: string }>(
      'SELECT resident FROM adapters.wallet_movement WHERE reference = $1',
      [reference],
    );
    return rows[0]?.resident ?? '';
  }

  /** The wallet credited `reference`: post the exchange, or take the credit back if it was voided meanwhile. */
  async function credited(p: CreditPayload, walletTxId: string): Promise<void> {
    try {
      await deps.points().settleExchange(p.exchangeId, walletTxId, ACTOR);
      await setStatus(db, p.reference, 'done', { walletTxId });
    } catch (error) {
      if (!(error instanceof ProblemError) || error.code !== 'exchange-state') throw error;
      // Staff voided the exchange while we retried: the resident has the points back, so the
      // wallet credit must go.
      await setStatus(db, p.reference, 'voided', {
        walletTxId,
        reason: 'exchange voided before the credit landed',
      });
      await compensate(p, await residentOf(p.reference), 'credited after void');
    }
  }

  async function voidIt(p: CreditPayload, reason: string, status: 'refused' | 'voided'): Promise<void> {
    try {
      await deps.points().voidExchange(p.exchangeId, reason, ACTOR);
    } catch (error) {
      // Already posted by someone else (staff settle): nothing to void; the reconciliation reports it.
      if (!(error instanceof ProblemError) || error.code !== 'exchange-state') throw error;
      logger.warn({ exchange: p.exchangeId }, 'wallet: exchange no longer pending when voiding');
    }
    await setStatus(db, p.reference, status, { reason });
  }

  const port: ExternalWallet = {
    async credit(request) {
      const account = await deps.accountOf(request.resident);
      if (!account) return { ok: false, reason: 'wallet account not linked' };
      await enqueue(
        'credit',
        {
          exchangeId: request.reference,
          reference: referenceOf(request.reference),
          account,
          amount: request.amount,
        },
        request.resident,
      );
      return { queued: true };
    },
  };

  return {
    port,
    compensate,

    async deliverCredit(message: OutboxMessage): Promise<void> {
      const p = message.payload as CreditPayload;
      const status = await movementStatus(p.reference);
      if (status === 'done') return; // the reconciliation found and posted it meanwhile
      if (status && status !== 'pending')
        throw new PermanentFailure(`movement is ${status}; a retry does not credit again`);
      const r = await api.credit({ account: p.account, amount: p.amount, reference: p.reference });
      if (r.kind === 'done') return credited(p, r.value.id);
      if (r.kind === 'refused') return voidIt(p, `wallet refused: ${r.code}`, 'refused');
      if (message.attempt < message.maxAttempts) throw new Error(`wallet outcome unknown: ${r.reason}`);
      // Last attempt: the credit may have landed although no answer came back.
      const found = await api.findByReference(p.reference);
      if (found.kind === 'done' && found.value) return credited(p, found.value.id);
      await voidIt(p, `wallet unreachable after ${message.attempt} attempts (${r.reason})`, 'voided');
      throw new PermanentFailure(
        `wallet unreachable after ${message.attempt} attempts; exchange voided, points restored`,
      );
    },

    async deliverDebit(message: OutboxMessage): Promise<void> {
      const p = message.payload as DebitPayload;
      const r = await api.debit({ account: p.account, amount: p.amount, reference: p.reference });
      if (r.kind === 'done') return setStatus(db, p.reference, 'done', { walletTxId: r.value.id });
      if (r.kind === 'refused') {
        await setStatus(db, p.reference, 'refused', { reason: `wallet refused: ${r.code}` });
        throw new PermanentFailure(`compensating debit refused: ${r.code}`);
      }
      throw new Error(`wallet outcome unknown: ${r.reason}`);
    },

    /** Queues pending exchanges into this wallet that have no movement yet (after a crash). */
    async sweepPending(): Promise<number> {
      const pending = (await deps.points().pendingExchanges(1000)).filter(
        (e) => e.target === settings.currency,
      );
      let queued = 0;
      for (const e of pending) {
        if (await movementStatus(referenceOf(e.id))) continue;
        const outcome = await port.credit({
          wallet: settings.currency,
          resident: e.resident,
          amount: e.targetAmount,
          reference: e.id,
        });
        if ('queued' in outcome) queued += 1;
        else await deps.points().voidExchange(e.id, outcome.ok ? 'unexpected' : outcome.reason, ACTOR);
      }
      return queued;
    },

    async list(query: { status?: string; limit?: number }) {
      const { rows } = await db.query<{
        reference: string;
        kind: string;
        exchangeId: string;
        amount: string;
        status: string;
        walletTxId: string | null;
        reason: string | null;
        createdAt: Date;
        settledAt: Date | null;
      }>(
        `SELECT reference, kind, exchange_id AS "exchangeId", amount::text, status, wallet_tx_id AS "walletTxId",
                reason, created_at AS "createdAt", settled_at AS "settledAt"
           FROM adapters.wallet_movement WHERE ($1::text IS NULL OR status = $1)
          ORDER BY id DESC LIMIT $2`,
        [query.status ?? null, Math.min(Math.max(query.limit ?? 100, 1), 500)],
      );
      return rows.map((r) => ({
        ...r,
        amount: Number(r.amount),
        createdAt: r.createdAt.toISOString(),
        settledAt: r.settledAt?.toISOString() ?? null,
      }));
    },

    /** The reconciliation found a pending credit in the wallet: post it as if the answer had come. */
    settleFound: (p: CreditPayload, walletTxId: string) => credited(p, walletTxId),

    referenceOf,
  };
}

export type WalletMovements = ReturnType<typeof createWalletMovements>;

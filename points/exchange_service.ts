/**
 * Cross-service exchange: a resident's points of one service become another currency at a set rate.
 * Allowed only when the ExchangePolicy port says the resident is linked to both services and has
 * consented to the data flow (denied when no policy is wired in). Idempotent per (service, event id).
 *
 *   target in this ledger   one journal: resident(source) → clearing(source), clearing(target) → resident(target)
 *   target external wallet  hold journal resident(source) → clearing(source), status `pending`;
 *                           the wallet credit succeeds → `posted`; it refuses → the hold is reversed
 *                           (exact lots restored) → `voided`; unknown outcome → stays `pending`
 *                           until `settleExchange` or `voidExchange` (e.g. from the wallet adapter).
 *
 * @example
 *   await exchange.exchange({ service: 'health-app', eventId: 'ex-1', resident: 'cid-1',
 *     source: 'health-pt', target: 'saijo-lsp', amount: 500, actor: 'client:health-app' });
 */
import type { AuditLog, Database, Logger } from '../core/index.ts';
import { ProblemError } from '../core/index.ts';
import type { LedgerService } from './ledger_service.ts';
import type { Ports } from './ports.ts';
import { requestHash, runCommand } from './run_command.ts';

export interface RateInput {
  source: string;
  target: string;
  /** Required when the target is in this ledger: the point type the resident receives. */
  targetPointType?: string;
  rateNum: number;
  rateDen: number;
  rounding: 'floor' | 'round' | 'ceil';
  minSource?: number;
  maxSource?: number | null;
}

export interface ExchangeRecord {
  id: string;
  service: string;
  eventId: string;
  resident: string;
  status: 'pending' | 'posted' | 'voided';
  source: string;
  target: string;
  sourceAmount: number;
  targetAmount: number;
  rate: string;
  holdJournalId: string;
  walletTxId: string | null;
  replayed?: boolean;
}

/** target = source × num / den, rounded as configured (exact integer arithmetic). */
export function convert(amount: number, num: number, den: number, rounding: RateInput['rounding']): number {
  const product = BigInt(amount) * BigInt(num);
  const d = BigInt(den);
  let q = product / d;
  const r = product % d;
  if (rounding === 'ceil' && r > 0n) q += 1n;
  if (rounding === 'round' && r * 2n >= d) q += 1n;
  return Number(q);
}

interface Deps {
  db: Database;
  audit: AuditLog;
  logger: Logger;
  now: () => Date;
  ports: Ports;
  ledger: LedgerService;
}

const SELECT_EXCHANGE = `
  SELECT e.id::text, e.service, e.event_id AS "eventId", e.resident, e.status, s.code AS source, t.code AS target,
         e.source_amount::int AS "sourceAmount", e.target_amount::int AS "targetAmount", e.rate,
         e.hold_journal_id::text AS "holdJournalId", e.wallet_tx_id AS "walletTxId"
    FROM points.exchange e
    JOIN points.currency s ON s.id = e.source_currency_id
    JOIN points.currency t ON t.id = e.target_currency_id`;

export function createExchangeService(deps: Deps) {
  const { db, audit, logger, now, ports, ledger } = deps;

  async function find(service: string, eventId: string): Promise<ExchangeRecord | undefined> {
    const { rows } = await db.query<ExchangeRecord>(
      `${SELECT_EXCHANGE} WHERE e.service = $1 AND e.event_id = $2`,
      [service, eventId],
    );
    return rows[0];
  }

  async function byId(id: string): Promise<ExchangeRecord> {
    const { rows } = await db.query<ExchangeRecord>(`${SELECT_EXCHANGE} WHERE e.id = $1`, [id]);
    if (!rows[0]) throw new ProblemError('unknown-exchange', { detail: `No exchange ${id}.` });
    return rows[0];
  }

  const service = {
    /** Sets the rate, rounding and limits for (source, target); audited. */
    async setRate(input: RateInput, actor: string) {
      const source = await ledger.currency(input.source);
      const target = await ledger.currency(input.target);
      if (source.id === target.id)
        throw new ProblemError('invalid-ledger-request', { detail: 'source and target must differ' });
      let typeId: number | null = null;
      if (!target.externalWallet) {
        if (!input.targetPointType)
          throw new ProblemError('invalid-ledger-request', { detail: 'targetPointType is required' });
        typeId = (await ledger.pointType(input.target, input.targetPointType)).id;
      }
      await db.transaction(async (tx) => {
        await tx.query(
          `INSERT INTO points.exchange_rate (source_currency_id, target_currency_id, target_point_type, rate_num,
                  rate_den, rounding, min_source, max_source, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
           ON CONFLICT (source_currency_id, target_currency_id) DO UPDATE SET target_point_type = EXCLUDED.target_point_type,
             rate_num = EXCLUDED.rate_num, rate_den = EXCLUDED.rate_den, rounding = EXCLUDED.rounding,
             min_source = EXCLUDED.min_source, max_source = EXCLUDED.max_source, updated_at = EXCLUDED.updated_at`,
          [
            source.id,
            target.id,
            typeId,
            input.rateNum,
            input.rateDen,
            input.rounding,
            input.minSource ?? 1,
            input.maxSource ?? null,
            now(),
          ],
        );
        await audit.recordInTransaction(tx, {
          actor,
          action: 'points.exchange-rate.set',
          target: `points.exchange-rate:${input.source}>${input.target}`,
          details: {
            rate: `${input.rateNum}/${input.rateDen}`,
            rounding: input.rounding,
            minSource: input.minSource ?? 1,
            maxSource: input.maxSource ?? null,
          },
        });
      });
      return { ...input };
    },

    /** Exchanges `amount` source points of a resident; see the module comment for the two flows. */
    async exchange(input: {
      service: string;
      eventId: string;
      resident: string;
      source: string;
      target: string;
      amount: number;
      actor: string;
    }): Promise<ExchangeRecord> {
      const existing = await find(input.service, input.eventId);
      if (existing) {
        const same =
          existing.source === input.source &&
          existing.target === input.target &&
          existing.sourceAmount === input.amount;
        if (!same)
          throw new ProblemError('idempotency-key-reused', {
            detail: 'This event id was used for another exchange.',
          });
        return { ...existing, replayed: true };
      }
      const source = await ledger.currency(input.source);
      const target = await ledger.currency(input.target);
      const allowed = await ports.exchangePolicy().mayExchange({
        resident: input.resident,
        sourceService: source.service,
        targetService: target.service,
      });
      if (!allowed)
        throw new ProblemError('exchange-not-permitted', {
          detail: 'The resident must link both services and consent to this data flow.',
        });
      const { rows } = await db.query<{
        num: string;
        den: string;
        rounding: RateInput['rounding'];
        min: string;
        max: string | null;
        type: number | null;
      }>(
        `SELECT rate_num AS num, rate_den AS den, rounding, min_source AS min, max_source AS max, target_point_type AS type
           FROM points.exchange_rate WHERE source_currency_id = $1 AND target_currency_id = $2`,
        [source.id, target.id],
      );
      const rate = rows[0];
      if (!rate)
        throw new ProblemError('exchange-not-permitted', {
          detail: `No rate from ${input.source} to ${input.target}.`,
        });
      const max = rate.max === null ? null : Number(rate.max);
      if (input.amount < Number(rate.min) || (max !== null && input.amount > max))
        throw new ProblemError('exchange-out-of-range', {
          detail: `Exchange between ${rate.min} and ${max ?? 'any'} points.`,
          min: Number(rate.min),
          max,
        });
      const targetAmount = convert(input.amount, Number(rate.num), Number(rate.den), rate.rounding);
      if (targetAmount < 1)
        throw new ProblemError('exchange-out-of-range', { detail: 'The amount converts to nothing.' });
      const rateText = `${rate.num}/${rate.den} ${rate.rounding}`;
      const at = now();
      const hold = {
        currency: source.id,
        currencyCode: source.code,
        from: { kind: 'resident', holder: input.resident },
        to: { kind: 'exchange', holder: 'exchange' },
        amount: input.amount,
      };
      const moves = target.externalWallet
        ? [hold]
        : [
            hold,
            {
              currency: target.id,
              currencyCode: target.code,
              from: { kind: 'exchange', holder: 'exchange' },
              to: { kind: 'resident', holder: input.resident },
              amount: targetAmount,
              pointType: rate.type,
              expiresAt: await ledger.expiryForType(rate.type!, at),
            },
          ];
      const request = {
        op: 'exchange',
        resident: input.resident,
        source: input.source,
        target: input.target,
        amount: input.amount,
      };
      await runCommand(
        db,
        { scope: `exchange:${input.service}`, key: input.eventId },
        requestHash(request),
        'points.post',
        [
          target.externalWallet ? 'exchange_hold' : 'exchange',
          input.actor,
          null,
          { service: input.service, eventId: input.eventId, target: input.target },
          JSON.stringify(moves),
          at,
        ],
        at,
        async (tx, answer) => {
          await tx.query(
            `INSERT INTO points.exchange (service, event_id, resident, source_currency_id, target_currency_id,
                    source_amount, target_amount, rate, status, hold_journal_id, created_at, settled_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
            [
              input.service,
              input.eventId,
              input.resident,
              source.id,
              target.id,
              input.amount,
              targetAmount,
              rateText,
              target.externalWallet ? 'pending' : 'posted',
              answer.journalId,
              at,
              target.externalWallet ? null : at,
            ],
          );
        },
      );
      const record = await find(input.service, input.eventId);
      if (!record) throw new Error('exchange row missing after its journal');
      if (!target.externalWallet) return record;

      const wallet = ports.externalWallet(target.code);
      if (!wallet) return record; // stays pending until an adapter settles or voids it
      let outcome: Awaited<ReturnType<typeof wallet.credit>>;
      try {
        outcome = await wallet.credit({
          wallet: target.code,
          resident: input.resident,
          amount: targetAmount,
          reference: record.id,
        });
      } catch (err) {
        logger.warn({ err, exchange: record.id }, 'wallet credit outcome unknown; exchange stays pending');
        return record;
      }
      if ('queued' in outcome) return record; // the wallet adapter's outbox settles or voids it
      return outcome.ok
        ? service.settleExchange(record.id, outcome.walletTxId, input.actor)
        : service.voidExchange(record.id, outcome.reason, input.actor);
    },

    /** pending → posted once the external wallet confirmed the credit. */
    async settleExchange(id: string, walletTxId: string, actor: string): Promise<ExchangeRecord> {
      const { rowCount } = await db.query(
        `UPDATE points.exchange SET status = 'posted', wallet_tx_id = $2, settled_at = $3
          WHERE id = $1 AND status = 'pending'`,
        [id, walletTxId, now()],
      );
      const record = await byId(id);
      if (rowCount === 0 && !(record.status === 'posted' && record.walletTxId === walletTxId))
        throw new ProblemError('exchange-state', { detail: `Exchange ${id} is ${record.status}.` });
      if (rowCount)
        await audit.record({ actor, action: 'points.exchange.post', target: `points.exchange:${id}` });
      return record;
    },

    /** pending → voided: the hold journal is reversed, so the resident gets the exact lots back. */
    async voidExchange(id: string, reason: string, actor: string): Promise<ExchangeRecord> {
      const record = await byId(id);
      if (record.status === 'voided') return record;
      if (record.status !== 'pending')
        throw new ProblemError('exchange-state', { detail: `Exchange ${id} is ${record.status}.` });
      const at = now();
      await runCommand(
        db,
        { scope: 'exchange-void', key: id },
        requestHash({ op: 'void', id }),
        'points.reverse',
        [record.holdJournalId, actor, `exchange voided: ${reason}`.slice(0, 500), at],
        at,
        async (tx, answer) => {
          const updated = await tx.query(
            `UPDATE points.exchange SET status = 'voided', void_journal_id = $2, void_reason = $3, settled_at = $4
              WHERE id = $1 AND status = 'pending'`,
            [id, answer.journalId, reason.slice(0, 500), at],
          );
          if (updated.rowCount === 0)
            throw new ProblemError('exchange-state', { detail: `Exchange ${id} is no longer pending.` });
          await audit.recordInTransaction(tx, {
            actor,
            action: 'points.exchange.void',
            target: `points.exchange:${id}`,
            details: { reversal: answer.journalId },
          });
        },
      );
      return byId(id);
    },

    async pendingExchanges(limit = 100): Promise<ExchangeRecord[]> {
      const { rows } = await db.query<ExchangeRecord>(
        `${SELECT_EXCHANGE} WHERE e.status = 'pending' ORDER BY e.created_at LIMIT $1`,
        [limit],
      );
      return rows;
    },
  };
  return service;
}

export type ExchangeService = ReturnType<typeof createExchangeService>;

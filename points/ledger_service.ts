/**
 * The ledger's public service: currencies, point types, merchants, pools, grants, cash charges,
 * payments, reversals, expiry, balances and history. Every posting call takes an idempotency key;
 * a retry with the same key and request returns the first answer, failures included.
 *
 * @example
 *   const paid = await points.pay({ currency: 'saijo-lsp', resident: 'cid-1', merchant: 'm-7', amount: 300,
 *     idempotency: { scope: 'client-merchant-app', key: 'pos-42-0001' }, actor: 'client:merchant-app' });
 */
import type { AuditLog, Database, Logger } from '../core/index.ts';
import { ProblemError } from '../core/index.ts';
import { computeRewards, createCampaignCache, type Reward, recordRewards } from './campaign_rewards.ts';
import { parseGrantCsv } from './parse_grant_csv.ts';
import type { Ports } from './ports.ts';
import { type Idempotency, type JournalAnswer, requestHash, runCommand } from './run_command.ts';
import { jstMidnightAfter } from './time.ts';

export interface CurrencyInput {
  code: string;
  municipality: string;
  name: string;
  /** The service that owns the currency (for exchange consent); defaults to the code. */
  service?: string;
  externalWallet?: boolean;
  expiryNoticeDays?: number;
}

export interface PointTypeInput {
  currency: string;
  code: string;
  name: string;
  spendPriority?: number;
  validityDays?: number | null;
  cashCharged?: boolean;
  issuer: string;
}

interface Actor {
  idempotency: Idempotency;
  /** Who acts, for the journal and the audit log: `staff:<id>`, `client:<id>`, `system`. */
  actor: string;
}

export interface LedgerDeps {
  db: Database;
  audit: AuditLog;
  logger: Logger;
  now: () => Date;
  ports: Ports;
}

interface CurrencyRow {
  id: number;
  code: string;
  municipality: string;
  service: string;
  externalWallet: boolean;
}

interface PointTypeRow {
  id: number;
  code: string;
  validityDays: number | null;
  cashCharged: boolean;
}

const CODE = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export function createLedgerService(deps: LedgerDeps) {
  const { db, audit, logger, now, ports } = deps;
  const currencies = new Map<string, CurrencyRow>();
  const pointTypes = new Map<string, PointTypeRow>();
  const campaignCache = createCampaignCache(db);

  async function currency(code: string): Promise<CurrencyRow> {
    const cached = currencies.get(code);
    if (cached) return cached;
    const { rows } = await db.query<CurrencyRow>(
      `SELECT id, code, municipality, service, external_wallet AS "externalWallet"
         FROM points.currency WHERE code = $1`,
      [code],
    );
    if (!rows[0]) throw new ProblemError('unknown-currency', { detail: `No currency ${code}.` });
    currencies.set(code, rows[0]);
    return rows[0];
  }

  async function pointType(currencyCode: string, code: string): Promise<PointTypeRow> {
    const key = `${currencyCode}/${code}`;
    const cached = pointTypes.get(key);
    if (cached) return cached;
    const c = await currency(currencyCode);
    const { rows } = await db.query<PointTypeRow>(
      `SELECT id, code, validity_days AS "validityDays", cash_charged AS "cashCharged"
         FROM points.point_type WHERE currency_id = $1 AND code = $2`,
      [c.id, code],
    );
    if (!rows[0])
      throw new ProblemError('unknown-point-type', { detail: `No point type ${code} in ${currencyCode}.` });
    pointTypes.set(key, rows[0]);
    return rows[0];
  }

  function expiryOf(type: PointTypeRow, explicit: string | undefined, at: Date): string | null {
    if (explicit) return new Date(explicit).toISOString();
    return type.validityDays === null ? null : jstMidnightAfter(at, type.validityDays).toISOString();
  }

  async function created<T>(what: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if ((error as { code?: string }).code === '23505')
        throw new ProblemError('already-exists', { detail: `${what} already exists.` });
      throw error;
    }
  }

  function positive(amount: number): void {
    if (!Number.isSafeInteger(amount) || amount <= 0)
      throw new ProblemError('invalid-ledger-request', { detail: 'amount must be a positive integer' });
  }

  function notifyHolders(answer: JournalAnswer): void {
    const notifier = ports.notifier();
    if (!notifier || answer.replayed) return;
    for (const p of answer.postings ?? []) {
      if (p.kind !== 'resident' && p.kind !== 'merchant') continue;
      notifier
        .notify({
          to: { kind: p.kind, holder: p.holder },
          event: 'balance-changed',
          currency: p.currency,
          amount: p.amount,
          at: new Date(answer.createdAt),
          journalId: answer.journalId,
        })
        .catch((err: unknown) => logger.warn({ err }, 'points notice failed'));
    }
  }

  const service = {
    async createCurrency(input: CurrencyInput, actor: string) {
      if (!CODE.test(input.code))
        throw new ProblemError('invalid-ledger-request', { detail: 'bad currency code' });
      const at = now();
      return created(`Currency ${input.code}`, () =>
        db.transaction(async (tx) => {
          const { rows } = await tx.query<{ id: number }>(
            `INSERT INTO points.currency (code, municipality, name, service, external_wallet, expiry_notice_days, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
            [
              input.code,
              input.municipality,
              input.name,
              input.service ?? input.code,
              input.externalWallet ?? false,
              input.expiryNoticeDays ?? 14,
              at,
            ],
          );
          const id = rows[0]!.id;
          await tx.query(
            `INSERT INTO points.account (currency_id, kind, holder, allow_negative, created_at)
             VALUES ($1, 'issuer', 'issuer', true, $2), ($1, 'expiry', 'expiry', false, $2),
                    ($1, 'exchange', 'exchange', true, $2)`,
            [id, at],
          );
          await audit.recordInTransaction(tx, {
            actor,
            action: 'points.currency.create',
            target: `points.currency:${input.code}`,
            details: { municipality: input.municipality, service: input.service ?? input.code },
          });
          return { code: input.code, municipality: input.municipality, name: input.name };
        }),
      );
    },

    async createPointType(input: PointTypeInput, actor: string) {
      const c = await currency(input.currency);
      if (!CODE.test(input.code))
        throw new ProblemError('invalid-ledger-request', { detail: 'bad point type code' });
      return created(`Point type ${input.code}`, () =>
        db.transaction(async (tx) => {
          await tx.query(
            `INSERT INTO points.point_type (currency_id, code, name, spend_priority, validity_days, cash_charged, issuer)
             VALUES ($1, $2, $3, $4, $5, $6, $7)`,
            [
              c.id,
              input.code,
              input.name,
              input.spendPriority ?? 100,
              input.validityDays ?? null,
              input.cashCharged ?? false,
              input.issuer,
            ],
          );
          await audit.recordInTransaction(tx, {
            actor,
            action: 'points.point-type.create',
            target: `points.point-type:${input.currency}/${input.code}`,
            details: { validityDays: input.validityDays ?? null, spendPriority: input.spendPriority ?? 100 },
          });
          return { ...input };
        }),
      );
    },

    async registerMerchant(
      input: { id: string; municipality: string; name: string; place?: string },
      actor: string,
    ) {
      return created(`Merchant ${input.id}`, () =>
        db.transaction(async (tx) => {
          await tx.query(
            `INSERT INTO points.merchant (id, municipality, name, place, created_at) VALUES ($1, $2, $3, $4, $5)`,
            [input.id, input.municipality, input.name, input.place ?? null, now()],
          );
          await audit.recordInTransaction(tx, {
            actor,
            action: 'points.merchant.register',
            target: `points.merchant:${input.id}`,
            details: { municipality: input.municipality },
          });
          return { ...input };
        }),
      );
    },

    async createPool(input: { currency: string; pool: string }, actor: string) {
      const c = await currency(input.currency);
      if (!CODE.test(input.pool))
        throw new ProblemError('invalid-ledger-request', { detail: 'bad pool code' });
      return created(`Pool ${input.pool}`, () =>
        db.transaction(async (tx) => {
          await tx.query(
            `INSERT INTO points.account (currency_id, kind, holder, allow_negative, created_at)
             VALUES ($1, 'pool', $2, false, $3)`,
            [c.id, input.pool, now()],
          );
          await audit.recordInTransaction(tx, {
            actor,
            action: 'points.pool.create',
            target: `points.pool:${input.currency}/${input.pool}`,
          });
          return { currency: input.currency, pool: input.pool, balance: 0 };
        }),
      );
    },

    /** 原資: the issuer puts value into a funding pool. */
    async fundPool(input: { currency: string; pool: string; amount: number; reason?: string } & Actor) {
      positive(input.amount);
      const c = await currency(input.currency);
      const request = { op: 'fund', currency: input.currency, pool: input.pool, amount: input.amount };
      const moves = [
        {
          currency: c.id,
          currencyCode: c.code,
          from: { kind: 'issuer', holder: 'issuer' },
          to: { kind: 'pool', holder: input.pool },
          amount: input.amount,
        },
      ];
      const at = now();
      return runCommand(
        db,
        input.idempotency,
        requestHash(request),
        'points.post',
        ['fund', input.actor, input.reason ?? null, { pool: input.pool }, JSON.stringify(moves), at],
        at,
        (tx, answer) =>
          audit
            .recordInTransaction(tx, {
              actor: input.actor,
              action: 'points.pool.fund',
              target: `points.journal:${answer.journalId}`,
              details: { currency: input.currency, pool: input.pool, amount: input.amount },
            })
            .then(() => {}),
      );
    },

    /** Grants points of a type from a pool to one resident; the pool balance caps it. */
    async grant(
      input: {
        currency: string;
        pool: string;
        resident: string;
        amount: number;
        pointType: string;
        expiresAt?: string;
        reason?: string;
        meta?: Record<string, unknown>;
      } & Actor,
    ) {
      positive(input.amount);
      const c = await currency(input.currency);
      const type = await pointType(input.currency, input.pointType);
      const at = now();
      const request = {
        op: 'grant',
        currency: input.currency,
        pool: input.pool,
        resident: input.resident,
        amount: input.amount,
        pointType: input.pointType,
        expiresAt: input.expiresAt ?? null,
      };
      const moves = [
        {
          currency: c.id,
          currencyCode: c.code,
          from: { kind: 'pool', holder: input.pool },
          to: { kind: 'resident', holder: input.resident },
          amount: input.amount,
          pointType: type.id,
          expiresAt: expiryOf(type, input.expiresAt, at),
        },
      ];
      const answer = await runCommand(
        db,
        input.idempotency,
        requestHash(request),
        'points.post',
        [
          'grant',
          input.actor,
          input.reason ?? null,
          { pool: input.pool, pointType: input.pointType, ...input.meta },
          JSON.stringify(moves),
          at,
        ],
        at,
        (tx, a) =>
          audit
            .recordInTransaction(tx, {
              actor: input.actor,
              action: 'points.grant',
              target: `points.journal:${a.journalId}`,
              details: {
                currency: input.currency,
                pool: input.pool,
                amount: input.amount,
                pointType: input.pointType,
              },
            })
            .then(() => {}),
      );
      notifyHolders(answer);
      return answer;
    },

    /** Grants to many residents from a CSV (`resident,amount[,expires_at]`), one journal, all or nothing. */
    async grantBulk(
      input: { currency: string; pool: string; pointType: string; csv: string; reason?: string } & Actor,
    ) {
      const c = await currency(input.currency);
      const type = await pointType(input.currency, input.pointType);
      const rows = parseGrantCsv(input.csv);
      const at = now();
      const request = {
        op: 'grant-bulk',
        currency: input.currency,
        pool: input.pool,
        pointType: input.pointType,
        csv: requestHash(input.csv),
      };
      return runCommand(
        db,
        input.idempotency,
        requestHash(request),
        'points.grant_bulk',
        [
          c.id,
          input.pool,
          type.id,
          rows.map((r) => r.resident),
          rows.map((r) => r.amount),
          rows.map((r) => expiryOf(type, r.expiresAt, at)),
          input.actor,
          input.reason ?? null,
          at,
        ],
        at,
        (tx, a) =>
          audit
            .recordInTransaction(tx, {
              actor: input.actor,
              action: 'points.grant.bulk',
              target: `points.journal:${a.journalId}`,
              details: {
                currency: input.currency,
                pool: input.pool,
                rows: rows.length,
                total: a['total'] as number,
              },
            })
            .then(() => {}),
      );
    },

    /** Cash charge at a merchant: the cash funds the pool, the pool credits the resident's prepaid lot. */
    async charge(
      input: {
        currency: string;
        pool: string;
        resident: string;
        merchant: string;
        amount: number;
        pointType: string;
      } & Actor,
    ) {
      positive(input.amount);
      const c = await currency(input.currency);
      const type = await pointType(input.currency, input.pointType);
      if (!type.cashCharged)
        throw new ProblemError('invalid-ledger-request', {
          detail: 'cash charges need a cash-charged point type',
        });
      const at = now();
      const request = {
        op: 'charge',
        currency: input.currency,
        pool: input.pool,
        resident: input.resident,
        merchant: input.merchant,
        amount: input.amount,
        pointType: input.pointType,
      };
      const moves = [
        {
          currency: c.id,
          currencyCode: c.code,
          from: { kind: 'issuer', holder: 'issuer' },
          to: { kind: 'pool', holder: input.pool },
          amount: input.amount,
        },
        {
          currency: c.id,
          currencyCode: c.code,
          from: { kind: 'pool', holder: input.pool },
          to: { kind: 'resident', holder: input.resident },
          amount: input.amount,
          pointType: type.id,
          expiresAt: expiryOf(type, undefined, at),
        },
      ];
      const answer = await runCommand(
        db,
        input.idempotency,
        requestHash(request),
        'points.post',
        [
          'charge',
          input.actor,
          null,
          { merchant: input.merchant, pool: input.pool },
          JSON.stringify(moves),
          at,
        ],
        at,
      );
      notifyHolders(answer);
      return answer;
    },

    /** A resident pays a merchant; lots are spent by type priority, then soonest expiry. */
    async pay(input: { currency: string; resident: string; merchant: string; amount: number } & Actor) {
      positive(input.amount);
      const c = await currency(input.currency);
      const at = now();
      const request = {
        op: 'pay',
        currency: input.currency,
        resident: input.resident,
        merchant: input.merchant,
        amount: input.amount,
      };
      const payment = {
        currency: c.id,
        currencyCode: c.code,
        from: { kind: 'resident', holder: input.resident },
        to: { kind: 'merchant', holder: input.merchant },
        amount: input.amount,
      };
      const meta = { merchant: input.merchant };
      const args = (moves: unknown[], extra: Record<string, unknown> = {}) => [
        'payment',
        input.actor,
        null,
        { ...meta, ...extra },
        JSON.stringify(moves),
        at,
      ];
      const campaigns = await campaignCache.active(c.id, input.merchant, at);
      let answer: JournalAnswer;
      if (campaigns.length === 0) {
        answer = await runCommand(
          db,
          input.idempotency,
          requestHash(request),
          'points.pay',
          [c.id, c.code, input.resident, input.merchant, input.amount, input.actor, at],
          at,
        );
      } else {
        let rewards: Reward[] = [];
        answer = await runCommand(
          db,
          input.idempotency,
          requestHash(request),
          'points.post',
          args([payment]),
          at,
          (tx) => recordRewards(tx, input.resident, rewards),
          async (tx) => {
            rewards = await computeRewards(tx, campaigns, input.resident, input.amount, at);
            // permanent cashback is paid by the merchant in the same journal; limited ones only accrue
            const cashback = rewards
              .filter((r) => r.campaign.kind === 'permanent')
              .map((r) => ({
                currency: c.id,
                currencyCode: c.code,
                from: { kind: 'merchant', holder: input.merchant },
                to: { kind: 'resident', holder: input.resident },
                amount: r.amount,
                pointType: r.campaign.pointTypeId,
                expiresAt: r.expiresAt,
              }));
            const accrued = rewards.map((r) => ({
              campaign: r.campaign.id,
              amount: r.amount,
              kind: r.campaign.kind,
              period: r.period,
            }));
            return args([payment, ...cashback], accrued.length ? { rewards: accrued } : {});
          },
        );
      }
      notifyHolders(answer);
      return answer;
    },

    /** Staff correction: a compensating journal that undoes `journalId` exactly; audited with the reason. */
    async reverse(input: { journalId: string; reason: string } & Actor) {
      if (!input.reason.trim())
        throw new ProblemError('invalid-ledger-request', { detail: 'a reason is required' });
      const at = now();
      const request = { op: 'reverse', journalId: input.journalId, reason: input.reason };
      return runCommand(
        db,
        input.idempotency,
        requestHash(request),
        'points.reverse',
        [input.journalId, input.actor, input.reason, at],
        at,
        async (tx, a) => {
          // A reversed payment gives back the campaign headroom it used (accruals not yet posted).
          await tx.query(
            `UPDATE points.campaign_accrual ca SET amount = ca.amount - (r ->> 'amount')::bigint
               FROM points.journal j, jsonb_array_elements(j.meta -> 'rewards') r, points.posting p,
                    points.account acc
              WHERE j.id = $1 AND j.kind = 'payment' AND p.journal_id = j.id AND acc.id = p.account_id
                AND acc.kind = 'resident' AND p.amount < 0 AND r ? 'period'
                AND ca.campaign_id = (r ->> 'campaign')::integer AND ca.resident = acc.holder
                AND ca.period = r ->> 'period'`,
            [input.journalId],
          );
          await audit.recordInTransaction(tx, {
            actor: input.actor,
            action: 'points.reverse',
            target: `points.journal:${input.journalId}`,
            details: { reversal: a.journalId, reason: input.reason },
          });
        },
      );
    },

    /** Expires every lot past its expiry (as of `at`) into the expiry accounts; safe to repeat. */
    async runExpiry(at: Date = now(), actor = 'system:expiry') {
      let lots = 0;
      let amount = 0;
      for (;;) {
        const { rows } = await db.query<{ lots: string; amount: string }>(
          'SELECT lots, amount FROM points.expire_due($1, $2, $3)',
          [at, 5000, actor],
        );
        const batch = { lots: Number(rows[0]!.lots), amount: Number(rows[0]!.amount) };
        lots += batch.lots;
        amount += batch.amount;
        if (batch.lots === 0) break;
      }
      if (lots > 0)
        await audit.record({
          actor,
          action: 'points.expiry.run',
          target: 'points.expiry',
          details: { lots, amount },
        });
      return { lots, amount };
    },

    /**
     * Tells residents, through the notifier port, about points expiring within their currency's
     * notice period (one notice per resident, currency and expiry instant; each lot noticed once).
     */
    async sendExpiryNotices(at: Date = now()) {
      const notifier = ports.notifier();
      if (!notifier) return { notices: 0 };
      const { rows } = await db.query<{
        holder: string;
        currency: string;
        expiresAt: Date;
        amount: string;
        lots: string[];
      }>(
        `SELECT a.holder, c.code AS currency, l.expires_at AS "expiresAt", sum(l.remaining) AS amount,
                array_agg(l.id::text) AS lots
           FROM points.lot l JOIN points.account a ON a.id = l.account_id AND a.kind = 'resident'
           JOIN points.currency c ON c.id = a.currency_id
          WHERE l.remaining > 0 AND l.expires_at > $1 AND l.expires_at <= $1 + make_interval(days => c.expiry_notice_days)
            AND NOT EXISTS (SELECT 1 FROM points.expiry_notice n WHERE n.lot_id = l.id)
          GROUP BY a.holder, c.code, l.expires_at ORDER BY l.expires_at, a.holder`,
        [at],
      );
      let notices = 0;
      for (const r of rows) {
        try {
          await notifier.notify({
            to: { kind: 'resident', holder: r.holder },
            event: 'expiry-soon',
            currency: r.currency,
            amount: Number(r.amount),
            at: r.expiresAt,
          });
        } catch (err) {
          logger.warn({ err }, 'expiry notice failed; retried on the next run');
          continue;
        }
        await db.query(
          `INSERT INTO points.expiry_notice (lot_id, sent_at) SELECT unnest($1::bigint[]), $2 ON CONFLICT DO NOTHING`,
          [r.lots, at],
        );
        notices += 1;
      }
      return { notices };
    },

    /** A holder's balance, spendable amount and lots by point type (portal, staff, partners). */
    async balance(input: { currency: string; kind?: 'resident' | 'merchant'; holder: string }) {
      const c = await currency(input.currency);
      const at = now();
      const { rows } = await db.query<{
        balance: string | null;
        pointType: string | null;
        remaining: string | null;
        expiresAt: Date | null;
      }>(
        `SELECT a.balance, t.code AS "pointType", l.remaining, l.expires_at AS "expiresAt"
           FROM points.account a
           LEFT JOIN points.lot l ON l.account_id = a.id AND l.remaining > 0
           LEFT JOIN points.point_type t ON t.id = l.point_type_id
          WHERE a.currency_id = $1 AND a.kind = $2 AND a.holder = $3
          ORDER BY l.priority, l.expires_at NULLS LAST, l.id`,
        [c.id, input.kind ?? 'resident', input.holder],
      );
      const lots = rows
        .filter((r) => r.remaining !== null)
        .map((r) => ({
          pointType: r.pointType!,
          amount: Number(r.remaining),
          expiresAt: r.expiresAt ? r.expiresAt.toISOString() : null,
          expired: r.expiresAt !== null && r.expiresAt <= at,
        }));
      return {
        currency: input.currency,
        holder: input.holder,
        balance: rows[0]?.balance ? Number(rows[0].balance) : 0,
        spendable: lots.filter((l) => !l.expired).reduce((s, l) => s + l.amount, 0),
        lots,
      };
    },

    /** Postings of one account, newest first; `before` is the cursor from the previous page. */
    async history(input: {
      currency: string;
      kind?: string;
      holder: string;
      limit?: number;
      before?: string;
    }) {
      const c = await currency(input.currency);
      const limit = Math.min(Math.max(input.limit ?? 50, 1), 500);
      const { rows } = await db.query<{
        id: string;
        journalId: string;
        kind: string;
        amount: string;
        balanceAfter: string;
        at: Date;
        reversesId: string | null;
        meta: Record<string, unknown>;
      }>(
        `SELECT p.id, p.journal_id AS "journalId", j.kind, p.amount, p.balance_after AS "balanceAfter",
                j.created_at AS at, j.reverses_id AS "reversesId", j.meta
           FROM points.account a
           JOIN points.posting p ON p.account_id = a.id
           JOIN points.journal j ON j.id = p.journal_id
          WHERE a.currency_id = $1 AND a.kind = $2 AND a.holder = $3 AND ($4::bigint IS NULL OR p.id < $4)
          ORDER BY p.id DESC LIMIT $5`,
        [c.id, input.kind ?? 'resident', input.holder, input.before ?? null, limit],
      );
      return {
        items: rows.map((r) => ({
          journalId: r.journalId,
          kind: r.kind,
          amount: Number(r.amount),
          balanceAfter: Number(r.balanceAfter),
          at: r.at.toISOString(),
          ...(r.reversesId ? { reverses: r.reversesId } : {}),
          ...(typeof r.meta['merchant'] === 'string' ? { merchant: r.meta['merchant'] } : {}),
        })),
        next: rows.length === limit ? rows[rows.length - 1]!.id : null,
      };
    },

    /**
     * The currencies a holder has an account in, with the currency's and its point types' names
     * (the resident portal's home). One probe of the account key per currency.
     */
    async holdings(input: { kind?: 'resident' | 'merchant'; holder: string }) {
      const { rows } = await db.query<{
        currency: string;
        name: string;
        municipality: string;
        pointTypes: Record<string, string>;
      }>(
        `SELECT c.code AS currency, c.name, c.municipality,
                coalesce((SELECT jsonb_object_agg(t.code, t.name) FROM points.point_type t WHERE t.currency_id = c.id),
                         '{}'::jsonb) AS "pointTypes"
           FROM points.currency c
           JOIN points.account a ON a.currency_id = c.id AND a.kind = $1 AND a.holder = $2
          ORDER BY c.code`,
        [input.kind ?? 'resident', input.holder],
      );
      return rows;
    },

    /** The ledger's invariants as violation counts; every count is zero on a healthy ledger. */
    async invariants(): Promise<Record<string, number>> {
      const { rows } = await db.query<{ check_name: string; violations: string }>(
        'SELECT check_name, violations FROM points.invariant_violations()',
      );
      return Object.fromEntries(rows.map((r) => [r.check_name, Number(r.violations)]));
    },

    /** The expiry a credit of point type `typeId` made at `at` gets (ISO string), or null. */
    async expiryForType(typeId: number, at: Date): Promise<string | null> {
      const { rows } = await db.query<{ days: number | null }>(
        'SELECT validity_days AS days FROM points.point_type WHERE id = $1',
        [typeId],
      );
      const days = rows[0]?.days ?? null;
      return days === null ? null : jstMidnightAfter(at, days).toISOString();
    },

    currency,
    pointType,
    campaignCache,
  };
  return service;
}

export type LedgerService = ReturnType<typeof createLedgerService>;

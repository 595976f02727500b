/**
 * Staff API under /api/points/admin: admin IP allow-list + bearer token with `points:admin`. Every
 * change is audited by the ledger service in the same transaction.
 *
 *   POST /currencies  /point-types  /merchants  /pools          set-up
 *   POST /pools/:pool/fund                                      原資 into a pool (Idempotency-Key)
 *   POST /grants      /grants/bulk (text/csv body)              grants (Idempotency-Key)
 *   POST /charges                                               cash charge at a merchant (Idempotency-Key)
 *   POST /reversals                                             correction with a reason (Idempotency-Key)
 *   POST /expiry/run                                            expire what is due now
 *   POST /exchange-rates                                        rate, rounding, min/max per (source, target)
 *   POST /exchanges/:id/settle  /exchanges/:id/void             finish a pending exchange by hand
 *   PUT  /merchants/:id/bank                                    payout bank account
 *   GET  /merchants/:id/qr?currency=                            the merchant's signed payment QR payload
 *   POST /settlements  GET /settlements  POST /settlements/zengin   settle a period, list, 全銀 file
 *   POST /campaigns  /campaigns/:code/fund  /campaigns/settle   cashback campaigns
 *   GET  /reports/totals  /reports/kpis  /reports/unused-cash   totals, KPIs, 基準日未使用残高
 *   GET  /invariants                                            ledger health
 *   GET  /currencies/:currency/balances/:holder, /history/:holder
 */
import express from 'express';
import type { ModuleContext } from '../../core/index.ts';
import { ProblemError } from '../../core/index.ts';
import type { PointsService } from '../index.ts';
import type { createMerchantQr } from '../merchant_qr.ts';
import { idempotencyKey, sendJournal } from './idempotency_key.ts';
import { amount, balanceParams, code, holder, isoTime, journalSchema } from './schemas.ts';

export const ADMIN_PREFIX = '/api/points/admin';

type MerchantQr = ReturnType<typeof createMerchantQr>;

const BANK_PROPS = {
  bankCode: { type: 'string', pattern: '^[0-9]{4}$' },
  bankName: { type: 'string', maxLength: 15 },
  branchCode: { type: 'string', pattern: '^[0-9]{3}$' },
  branchName: { type: 'string', maxLength: 15 },
  accountType: { enum: ['1', '2', '4', '9'] },
  accountNumber: { type: 'string', pattern: '^[0-9]{7}$' },
  holderKana: { type: 'string', minLength: 1, maxLength: 30 },
};

export function adminRouter(ctx: ModuleContext, ledger: PointsService, qr: MerchantQr) {
  const { router, route } = ctx.http.createRouter(ADMIN_PREFIX);
  const guard = [ctx.http.adminOnly, ctx.http.requireToken(['points:admin'])];
  const security = { bearer: ['points:admin'] };
  const tags = ['points-admin'];
  const staff = (req: express.Request) => `staff:${req.auth!.subject}`;
  const idem = (req: express.Request) => ({ scope: 'staff', key: idempotencyKey(req) });

  route(
    {
      method: 'post',
      path: '/currencies',
      summary: 'Create a currency or point scheme of a municipality',
      tags,
      security,
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['code', 'municipality', 'name'],
        properties: {
          code,
          municipality: code,
          name: { type: 'string', minLength: 1, maxLength: 200 },
          service: code,
          externalWallet: { type: 'boolean' },
          expiryNoticeDays: { type: 'integer', minimum: 0, maximum: 365 },
        },
      },
    },
    ...guard,
    async (req, res) => {
      res.status(201).json(await ledger.createCurrency(req.body, staff(req)));
    },
  );

  route(
    {
      method: 'post',
      path: '/point-types',
      summary: 'Create a point type (種別) with spend priority and validity',
      tags,
      security,
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['currency', 'code', 'name', 'issuer'],
        properties: {
          currency: code,
          code,
          name: { type: 'string', minLength: 1, maxLength: 200 },
          spendPriority: { type: 'integer', minimum: 0, maximum: 32767 },
          validityDays: { type: ['integer', 'null'], minimum: 1, maximum: 36500 },
          cashCharged: { type: 'boolean' },
          issuer: code,
        },
      },
    },
    ...guard,
    async (req, res) => {
      res.status(201).json(await ledger.createPointType(req.body, staff(req)));
    },
  );

  route(
    {
      method: 'post',
      path: '/merchants',
      summary: 'Register a merchant (加盟店)',
      tags,
      security,
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'municipality', 'name'],
        properties: {
          id: code,
          municipality: code,
          name: { type: 'string', minLength: 1, maxLength: 200 },
          place: { type: 'string', maxLength: 200 },
        },
      },
    },
    ...guard,
    async (req, res) => {
      res.status(201).json(await ledger.registerMerchant(req.body, staff(req)));
    },
  );

  route(
    {
      method: 'post',
      path: '/pools',
      summary: 'Create a funding pool (原資)',
      tags,
      security,
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['currency', 'pool'],
        properties: { currency: code, pool: code },
      },
    },
    ...guard,
    async (req, res) => {
      res.status(201).json(await ledger.createPool(req.body, staff(req)));
    },
  );

  route(
    {
      method: 'post',
      path: '/pools/:pool/fund',
      summary: 'Put value into a funding pool (Idempotency-Key required)',
      tags,
      security,
      params: { type: 'object', properties: { pool: code } },
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['currency', 'amount'],
        properties: { currency: code, amount, reason: { type: 'string', maxLength: 500 } },
      },
      responses: { '201': { description: 'Posted', schema: journalSchema } },
    },
    ...guard,
    async (req, res) => {
      const answer = await ledger.fundPool({
        ...req.body,
        pool: req.params['pool'] as string,
        idempotency: idem(req),
        actor: staff(req),
      });
      sendJournal(res, answer);
    },
  );

  route(
    {
      method: 'post',
      path: '/grants',
      summary: 'Grant points of a type from a pool to a resident (Idempotency-Key required)',
      tags,
      security,
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['currency', 'pool', 'resident', 'amount', 'pointType'],
        properties: {
          currency: code,
          pool: code,
          resident: holder,
          amount,
          pointType: code,
          expiresAt: isoTime,
          reason: { type: 'string', maxLength: 500 },
        },
      },
      responses: { '201': { description: 'Posted', schema: journalSchema } },
    },
    ...guard,
    async (req, res) => {
      sendJournal(res, await ledger.grant({ ...req.body, idempotency: idem(req), actor: staff(req) }));
    },
  );

  route(
    {
      method: 'post',
      path: '/grants/bulk',
      summary: 'Grant from a CSV body (resident,amount[,expires_at]); query: currency, pool, pointType',
      tags,
      security,
      query: {
        type: 'object',
        additionalProperties: false,
        required: ['currency', 'pool', 'pointType'],
        properties: { currency: code, pool: code, pointType: code },
      },
    },
    ...guard,
    express.text({ type: ['text/csv', 'text/plain'], limit: '20mb' }),
    async (req, res) => {
      if (typeof req.body !== 'string')
        throw new ProblemError('unsupported-media-type', { detail: 'Send the CSV as text/csv.' });
      const q = req.query as unknown as { currency: string; pool: string; pointType: string };
      sendJournal(
        res,
        await ledger.grantBulk({ ...q, csv: req.body, idempotency: idem(req), actor: staff(req) }),
      );
    },
  );

  route(
    {
      method: 'post',
      path: '/charges',
      summary: 'Cash charge at a merchant into a resident balance (Idempotency-Key required)',
      tags,
      security,
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['currency', 'pool', 'resident', 'merchant', 'amount', 'pointType'],
        properties: {
          currency: code,
          pool: code,
          resident: holder,
          merchant: holder,
          amount,
          pointType: code,
        },
      },
      responses: { '201': { description: 'Posted', schema: journalSchema } },
    },
    ...guard,
    async (req, res) => {
      sendJournal(res, await ledger.charge({ ...req.body, idempotency: idem(req), actor: staff(req) }));
    },
  );

  route(
    {
      method: 'post',
      path: '/reversals',
      summary: 'Reverse a double or wrong transaction with a reason (Idempotency-Key required)',
      tags,
      security,
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['journalId', 'reason'],
        properties: {
          journalId: { type: 'string', pattern: '^[0-9]{1,18}$' },
          reason: { type: 'string', minLength: 1, maxLength: 500 },
        },
      },
      responses: { '201': { description: 'Reversal posted', schema: journalSchema } },
    },
    ...guard,
    async (req, res) => {
      sendJournal(res, await ledger.reverse({ ...req.body, idempotency: idem(req), actor: staff(req) }));
    },
  );

  route(
    { method: 'post', path: '/expiry/run', summary: 'Expire every lot that is due now', tags, security },
    ...guard,
    async (req, res) => {
      res.json(await ledger.runExpiry(ctx.now(), staff(req)));
    },
  );

  route(
    {
      method: 'get',
      path: '/invariants',
      summary: 'Ledger invariant violations (all zero when healthy)',
      tags,
      security,
    },
    ...guard,
    async (_req, res) => {
      const violations = await ledger.invariants();
      res.json({ healthy: Object.values(violations).every((n) => n === 0), violations });
    },
  );

  route(
    {
      method: 'post',
      path: '/exchange-rates',
      summary: 'Set the exchange rate, rounding and limits from one currency to another',
      tags,
      security,
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['source', 'target', 'rateNum', 'rateDen', 'rounding'],
        properties: {
          source: code,
          target: code,
          targetPointType: code,
          rateNum: { type: 'integer', minimum: 1, maximum: 1_000_000 },
          rateDen: { type: 'integer', minimum: 1, maximum: 1_000_000 },
          rounding: { enum: ['floor', 'round', 'ceil'] },
          minSource: { type: 'integer', minimum: 1 },
          maxSource: { type: ['integer', 'null'], minimum: 1 },
        },
      },
    },
    ...guard,
    async (req, res) => {
      res.status(201).json(await ledger.setRate(req.body, staff(req)));
    },
  );

  route(
    {
      method: 'post',
      path: '/exchanges/:id/settle',
      summary: 'Mark a pending exchange posted (the wallet confirmed the credit)',
      tags,
      security,
      params: { type: 'object', properties: { id: { type: 'string', pattern: '^[0-9]{1,18}$' } } },
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['walletTxId'],
        properties: { walletTxId: { type: 'string', minLength: 1, maxLength: 200 } },
      },
    },
    ...guard,
    async (req, res) => {
      res.json(await ledger.settleExchange(req.params['id'] as string, req.body.walletTxId, staff(req)));
    },
  );

  route(
    {
      method: 'post',
      path: '/exchanges/:id/void',
      summary: "Void a pending exchange: the resident's points are restored",
      tags,
      security,
      params: { type: 'object', properties: { id: { type: 'string', pattern: '^[0-9]{1,18}$' } } },
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['reason'],
        properties: { reason: { type: 'string', minLength: 1, maxLength: 500 } },
      },
    },
    ...guard,
    async (req, res) => {
      res.json(await ledger.voidExchange(req.params['id'] as string, req.body.reason, staff(req)));
    },
  );

  const bankSchema = {
    type: 'object',
    additionalProperties: false,
    required: [
      'bankCode',
      'bankName',
      'branchCode',
      'branchName',
      'accountType',
      'accountNumber',
      'holderKana',
    ],
    properties: BANK_PROPS,
  };
  const periodProps = { currency: code, from: isoTime, to: isoTime };

  route(
    {
      method: 'put',
      path: '/merchants/:id/bank',
      summary: "Set a merchant's payout bank account",
      tags,
      security,
      params: { type: 'object', properties: { id: code } },
      body: bankSchema,
    },
    ...guard,
    async (req, res) => {
      await ledger.setMerchantBank(req.params['id'] as string, req.body, staff(req));
      res.status(204).end();
    },
  );

  route(
    {
      method: 'get',
      path: '/merchants/:id/qr',
      summary: "The merchant's signed QR payload for a currency (print it at the till)",
      tags,
      security,
      params: { type: 'object', properties: { id: code } },
      query: {
        type: 'object',
        additionalProperties: false,
        required: ['currency'],
        properties: { currency: code },
      },
    },
    ...guard,
    async (req, res) => {
      const currency = (req.query as { currency: string }).currency;
      await ledger.currency(currency);
      res.json({
        merchant: req.params['id'],
        currency,
        payload: qr.payload(currency, req.params['id'] as string),
      });
    },
  );

  route(
    {
      method: 'post',
      path: '/settlements',
      summary: 'Settle every merchant for a period (received − cashback, circulated points only)',
      tags,
      security,
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['currency', 'from', 'to'],
        properties: periodProps,
      },
    },
    ...guard,
    async (req, res) => {
      res.status(201).json({ settlements: await ledger.settle({ ...req.body, actor: staff(req) }) });
    },
  );

  route(
    {
      method: 'get',
      path: '/settlements',
      summary: 'Settlements of a period',
      tags,
      security,
      query: {
        type: 'object',
        additionalProperties: false,
        required: ['currency', 'from', 'to'],
        properties: periodProps,
      },
    },
    ...guard,
    async (req, res) => {
      res.json({
        settlements: await ledger.settlements(
          req.query as unknown as { currency: string; from: string; to: string },
        ),
      });
    },
  );

  route(
    {
      method: 'post',
      path: '/settlements/zengin',
      summary: "The period's payouts as a 全銀 総合振込 file (Shift_JIS, 120-byte records)",
      tags,
      security,
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['currency', 'from', 'to', 'requester'],
        properties: {
          ...periodProps,
          requester: {
            type: 'object',
            additionalProperties: false,
            required: ['code', 'nameKana', 'transferDate', 'account'],
            properties: {
              code: { type: 'string', pattern: '^[0-9]{10}$' },
              nameKana: { type: 'string', minLength: 1, maxLength: 40 },
              transferDate: { type: 'string', format: 'date' },
              account: bankSchema,
            },
          },
        },
      },
    },
    ...guard,
    async (req, res) => {
      const file = await ledger.exportZengin({ ...req.body, actor: staff(req) });
      res
        .type('application/octet-stream')
        .set('Content-Disposition', 'attachment; filename="zengin.txt"')
        .send(file);
    },
  );

  route(
    {
      method: 'post',
      path: '/campaigns',
      summary:
        'Create a cashback campaign (permanent: merchant-funded, immediate; limited: city-funded, period end)',
      tags,
      security,
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['currency', 'code', 'kind', 'pointType', 'rateBp', 'startsAt'],
        properties: {
          currency: code,
          code,
          kind: { enum: ['permanent', 'limited'] },
          merchant: code,
          pointType: code,
          rateBp: { type: 'integer', minimum: 1, maximum: 10000 },
          perTxnCap: { type: 'integer', minimum: 1 },
          perResidentCap: { type: 'integer', minimum: 1 },
          startsAt: isoTime,
          endsAt: isoTime,
        },
      },
    },
    ...guard,
    async (req, res) => {
      res.status(201).json(await ledger.createCampaign(req.body, staff(req)));
    },
  );

  route(
    {
      method: 'post',
      path: '/campaigns/:code/fund',
      summary: "Fund a limited campaign's budget from a pool (Idempotency-Key required)",
      tags,
      security,
      params: { type: 'object', properties: { code } },
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['currency', 'pool', 'amount'],
        properties: { currency: code, pool: code, amount },
      },
      responses: { '201': { description: 'Posted', schema: journalSchema } },
    },
    ...guard,
    async (req, res) => {
      const answer = await ledger.fundCampaign({
        ...req.body,
        code: req.params['code'] as string,
        idempotency: idem(req),
        actor: staff(req),
      });
      sendJournal(res, answer);
    },
  );

  route(
    {
      method: 'post',
      path: '/campaigns/settle',
      summary: 'Post the accruals of ended limited campaigns',
      tags,
      security,
    },
    ...guard,
    async (req, res) => {
      res.json({ settled: await ledger.settleCampaigns(ctx.now(), staff(req)) });
    },
  );

  const periodQuery = {
    type: 'object',
    additionalProperties: false,
    required: ['currency', 'from', 'to'],
    properties: periodProps,
  };
  route(
    {
      method: 'get',
      path: '/reports/totals',
      summary: 'Issued, used (per merchant and place), expired, exchanged',
      tags,
      security,
      query: periodQuery,
    },
    ...guard,
    async (req, res) => {
      res.json(await ledger.totals(req.query as unknown as { currency: string; from: string; to: string }));
    },
  );
  route(
    {
      method: 'get',
      path: '/reports/kpis',
      summary: 'Active residents, circulation and expiry rates',
      tags,
      security,
      query: periodQuery,
    },
    ...guard,
    async (req, res) => {
      res.json(await ledger.kpis(req.query as unknown as { currency: string; from: string; to: string }));
    },
  );
  route(
    {
      method: 'get',
      path: '/reports/unused-cash',
      summary: 'Unused cash-charged balance per issuer at the end of a base date (資金決済法)',
      tags,
      security,
      query: {
        type: 'object',
        additionalProperties: false,
        required: ['currency', 'baseDate'],
        properties: { currency: code, baseDate: { type: 'string', format: 'date' } },
      },
    },
    ...guard,
    async (req, res) => {
      res.json(
        await ledger.unusedCashBalance(req.query as unknown as { currency: string; baseDate: string }),
      );
    },
  );

  for (const view of ['balances', 'history'] as const) {
    route(
      {
        method: 'get',
        path: `/currencies/:currency/${view}/:holder`,
        summary: view === 'balances' ? 'Balance of a holder (staff)' : 'History of a holder (staff)',
        tags,
        security,
        params: balanceParams,
        query: {
          type: 'object',
          additionalProperties: false,
          properties: {
            kind: {
              enum: ['resident', 'merchant', 'pool', 'issuer', 'expiry', 'exchange', 'campaign'],
              default: 'resident',
            },
            limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
            before: { type: 'string', pattern: '^[0-9]{1,18}$' },
          },
        },
      },
      ...guard,
      async (req, res) => {
        const { currency, holder: who } = req.params as { currency: string; holder: string };
        const q = req.query as unknown as { kind: 'resident' | 'merchant'; limit: number; before?: string };
        const result =
          view === 'balances'
            ? await ledger.balance({ currency, kind: q.kind, holder: who })
            : await ledger.history({ currency, holder: who, ...q });
        await ctx.audit.record({
          actor: staff(req),
          action: `points.${view === 'balances' ? 'balance' : 'history'}.read`,
          target: `points.${q.kind}:${who}`,
          details: { currency },
        });
        res.json(result);
      },
    );
  }

  return { prefix: ADMIN_PREFIX, router };
}

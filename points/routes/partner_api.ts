/**
 * Partner API (OAuth2 bearer tokens), under /api/points/v1:
 *
 *   GET  /currencies/:currency/balances/:holder   points:read      balance, spendable, lots
 *   GET  /currencies/:currency/history/:holder    points:read      postings, newest first
 *   POST /payments                                 points:pay       resident → merchant (Idempotency-Key)
 *   POST /events                                   points:grant     earned points from the client's pool
 *   POST /exchanges                                points:exchange  the client's service points → another currency
 *   POST /me/payments                              points:pay-self  the token's resident pays the merchant of a scanned QR
 *
 * A partner's grants come from the funding pool named after its client id; the event id (or the
 * Idempotency-Key) makes a re-delivered event a replay.
 */
import type { ModuleContext } from '../../core/index.ts';
import type { PointsService } from '../index.ts';
import type { createMerchantQr } from '../merchant_qr.ts';
import { idempotencyKey, sendJournal } from './idempotency_key.ts';
import { amount, balanceParams, code, holder, isoTime, journalSchema } from './schemas.ts';

export const PARTNER_PREFIX = '/api/points/v1';

type MerchantQr = ReturnType<typeof createMerchantQr>;

export function partnerRouter(ctx: ModuleContext, ledger: PointsService, qr: MerchantQr) {
  const { router, route } = ctx.http.createRouter(PARTNER_PREFIX);
  const clientOf = (auth: { clientId: string } | undefined) => `client:${auth!.clientId}`;

  route(
    {
      method: 'get',
      path: '/currencies/:currency/balances/:holder',
      summary: 'Balance of a resident or merchant',
      tags: ['points'],
      security: { bearer: ['points:read'] },
      params: balanceParams,
      query: {
        type: 'object',
        additionalProperties: false,
        properties: { kind: { enum: ['resident', 'merchant'], default: 'resident' } },
      },
    },
    ctx.http.requireToken(['points:read']),
    async (req, res) => {
      const { currency, holder: who } = req.params as { currency: string; holder: string };
      const kind = (req.query as { kind: 'resident' | 'merchant' }).kind;
      const balance = await ledger.balance({ currency, kind, holder: who });
      await ctx.audit.record({
        actor: clientOf(req.auth),
        action: 'points.balance.read',
        target: `points.${kind}:${who}`,
        details: { currency },
      });
      res.json(balance);
    },
  );

  route(
    {
      method: 'get',
      path: '/currencies/:currency/history/:holder',
      summary: 'Transaction history of a resident or merchant, newest first',
      tags: ['points'],
      security: { bearer: ['points:read'] },
      params: balanceParams,
      query: {
        type: 'object',
        additionalProperties: false,
        properties: {
          kind: { enum: ['resident', 'merchant'], default: 'resident' },
          limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
          before: { type: 'string', pattern: '^[0-9]{1,18}$' },
        },
      },
    },
    ctx.http.requireToken(['points:read']),
    async (req, res) => {
      const { currency, holder: who } = req.params as { currency: string; holder: string };
      const q = req.query as unknown as { kind: string; limit: number; before?: string };
      const history = await ledger.history({ currency, holder: who, ...q });
      await ctx.audit.record({
        actor: clientOf(req.auth),
        action: 'points.history.read',
        target: `points.${q.kind}:${who}`,
        details: { currency, count: history.items.length },
      });
      res.json(history);
    },
  );

  route(
    {
      method: 'post',
      path: '/payments',
      summary: 'A resident pays a merchant (Idempotency-Key required)',
      tags: ['points'],
      security: { bearer: ['points:pay'] },
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['currency', 'resident', 'merchant', 'amount'],
        properties: { currency: code, resident: holder, merchant: holder, amount },
      },
      responses: { '201': { description: 'Posted (or the replayed first answer)', schema: journalSchema } },
    },
    ctx.http.requireToken(['points:pay']),
    async (req, res) => {
      const body = req.body as { currency: string; resident: string; merchant: string; amount: number };
      const answer = await ledger.pay({
        ...body,
        idempotency: { scope: clientOf(req.auth), key: idempotencyKey(req) },
        actor: clientOf(req.auth),
      });
      sendJournal(res, answer);
    },
  );

  route(
    {
      method: 'post',
      path: '/events',
      summary: "Points a resident earned at the partner's service, granted from the partner's pool",
      tags: ['points'],
      security: { bearer: ['points:grant'] },
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['eventId', 'currency', 'resident', 'amount', 'pointType'],
        properties: {
          eventId: { type: 'string', minLength: 1, maxLength: 200 },
          currency: code,
          resident: holder,
          amount,
          pointType: code,
          expiresAt: isoTime,
        },
      },
      responses: { '201': { description: 'Granted (or the replayed first answer)', schema: journalSchema } },
    },
    ctx.http.requireToken(['points:grant']),
    async (req, res) => {
      const { eventId, ...body } = req.body as {
        eventId: string;
        currency: string;
        resident: string;
        amount: number;
        pointType: string;
        expiresAt?: string;
      };
      const answer = await ledger.grant({
        ...body,
        pool: req.auth!.clientId,
        meta: { eventId },
        idempotency: { scope: `event:${req.auth!.clientId}`, key: eventId },
        actor: clientOf(req.auth),
      });
      sendJournal(res, answer);
    },
  );

  route(
    {
      method: 'post',
      path: '/exchanges',
      summary: "Exchange a resident's points into another currency (idempotent per event id)",
      tags: ['points'],
      security: { bearer: ['points:exchange'] },
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['eventId', 'resident', 'source', 'target', 'amount'],
        properties: {
          eventId: { type: 'string', minLength: 1, maxLength: 200 },
          resident: holder,
          source: code,
          target: code,
          amount,
        },
      },
      responses: { '201': { description: 'The exchange: posted, pending or voided' } },
    },
    ctx.http.requireToken(['points:exchange']),
    async (req, res) => {
      const body = req.body as {
        eventId: string;
        resident: string;
        source: string;
        target: string;
        amount: number;
      };
      const { replayed, ...record } = await ledger.exchange({
        ...body,
        service: req.auth!.clientId,
        actor: clientOf(req.auth),
      });
      if (replayed) res.set('Idempotent-Replayed', 'true');
      res.status(201).json(record);
    },
  );

  route(
    {
      method: 'post',
      path: '/me/payments',
      summary:
        'The signed-in resident pays the merchant named by a scanned QR code (Idempotency-Key required)',
      tags: ['points'],
      security: { bearer: ['points:pay-self'] },
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['qr', 'amount'],
        properties: { qr: { type: 'string', minLength: 1, maxLength: 500 }, amount },
      },
      responses: { '201': { description: 'Posted (or the replayed first answer)', schema: journalSchema } },
    },
    ctx.http.requireToken(['points:pay-self']),
    async (req, res) => {
      const { qr: payload, amount: value } = req.body as { qr: string; amount: number };
      const { currency, merchant } = qr.verify(payload);
      const resident = req.auth!.subject;
      const answer = await ledger.pay({
        currency,
        resident,
        merchant,
        amount: value,
        idempotency: { scope: `resident:${resident}`, key: idempotencyKey(req) },
        actor: `resident:${resident}`,
      });
      sendJournal(res, answer);
    },
  );

  return { prefix: PARTNER_PREFIX, router };
}

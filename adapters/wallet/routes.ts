/**
 * Wallet staff API (admin allow-list + `adapters:admin`), under /api/admin/adapters/wallet:
 *
 *   GET  /movements?status&limit       credits and debits the platform asked for (no account ids)
 *   GET  /reconciliations?limit        daily reports, newest first (summaries)
 *   GET  /reconciliations/:day         the newest report of a JST day, with its items
 *   POST /reconciliations {day}        reconcile a JST day now (audited)
 *
 * The outbox's own views (pending, dead letters, retry) are the kit's staff API.
 */
import type { ModuleContext } from '../../core/index.ts';
import { ProblemError } from '../../core/index.ts';
import { STAFF_SCOPE } from '../kit/index.ts';
import type { WalletReconciliation } from './reconcile.ts';
import type { WalletMovements } from './wallet_movements.ts';
import './problems.ts';

export const WALLET_STAFF_PREFIX = '/api/admin/adapters/wallet';

const day = { type: 'string', pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$', format: 'date' };

export function walletRouter(
  ctx: ModuleContext,
  movements: WalletMovements,
  reconciliation: WalletReconciliation,
) {
  const { router, route } = ctx.http.createRouter(WALLET_STAFF_PREFIX);
  const guard = [ctx.http.adminOnly, ctx.http.requireToken([STAFF_SCOPE])];
  const tags = ['adapters-admin'];
  const security = { bearer: [STAFF_SCOPE] };

  route(
    {
      method: 'get',
      path: '/movements',
      summary: 'Wallet credits and debits the platform asked for',
      tags,
      security,
      query: {
        type: 'object',
        additionalProperties: false,
        properties: {
          status: { enum: ['pending', 'done', 'refused', 'voided'] },
          limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 },
        },
      },
    },
    ...guard,
    async (req, res) => {
      res.json({ items: await movements.list(req.query as unknown as { status?: string; limit?: number }) });
    },
  );

  route(
    {
      method: 'get',
      path: '/reconciliations',
      summary: 'Daily wallet reconciliation reports, newest first',
      tags,
      security,
      query: {
        type: 'object',
        additionalProperties: false,
        properties: { limit: { type: 'integer', minimum: 1, maximum: 366, default: 30 } },
      },
    },
    ...guard,
    async (req, res) => {
      res.json({ items: await reconciliation.list((req.query as unknown as { limit: number }).limit) });
    },
  );

  route(
    {
      method: 'get',
      path: '/reconciliations/:day',
      summary: 'The newest reconciliation report of a JST day',
      tags,
      security,
      params: { type: 'object', required: ['day'], properties: { day } },
    },
    ...guard,
    async (req, res) => {
      const report = await reconciliation.latest((req.params as { day: string }).day);
      if (!report) throw new ProblemError('wallet-reconciliation-unknown', { detail: 'Run it first.' });
      res.json(report);
    },
  );

  route(
    {
      method: 'post',
      path: '/reconciliations',
      summary: 'Reconcile one JST day against the wallet now',
      tags,
      security,
      body: { type: 'object', additionalProperties: false, required: ['day'], properties: { day } },
    },
    ...guard,
    async (req, res) => {
      const report = await reconciliation.run(
        (req.body as { day: string }).day,
        `staff:${req.auth!.subject}`,
      );
      res.status(201).json(report);
    },
  );

  return { prefix: WALLET_STAFF_PREFIX, router };
}

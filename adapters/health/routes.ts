/**
 * The health-app adapter's HTTP surface.
 *
 * Staff, `/api/admin/adapters/health` (admin IP allow-list + `adapters:admin`):
 *   POST /imports?fileName=   upload a CSV file (text/csv): 201 with the report, 200 `duplicate`
 *   GET  /imports             import attempts, newest first     GET /imports/:id   one report
 *   POST /accounts            { email, commonId }: link a health-app address to a resident (audited)
 *
 * Residents, `/adapters/health/link`: sign in through our provider, then enter the address used in
 * the health app (the form carries a sealed, 10-minute token naming the signed-in resident).
 */
import express from 'express';
import type { ModuleContext } from '../../core/index.ts';
import { ProblemError } from '../../core/index.ts';
import { bilingual, escapeHtml, type Kit, page, STAFF_SCOPE } from '../kit/index.ts';
import type { HealthAccounts } from './accounts.ts';
import type { Importer } from './import_file.ts';

export const HEALTH_STAFF_PREFIX = '/api/admin/adapters/health';
export const HEALTH_LINK_PREFIX = '/adapters/health';
const FORM_TTL_MS = 10 * 60_000;

export function healthStaffRouter(ctx: ModuleContext, importer: Importer, accounts: HealthAccounts) {
  const { router, route } = ctx.http.createRouter(HEALTH_STAFF_PREFIX);
  const guard = [ctx.http.adminOnly, ctx.http.requireToken([STAFF_SCOPE])];
  const security = { bearer: [STAFF_SCOPE] };
  const tags = ['adapters-health'];

  route(
    {
      method: 'post',
      path: '/imports',
      summary: 'Import a health-app CSV file (text/csv)',
      tags,
      security,
      query: {
        type: 'object',
        properties: { fileName: { type: 'string', pattern: '^[^/\\\\]{1,200}$' } },
      },
    },
    ...guard,
    express.text({ type: ['text/csv', 'text/plain'], limit: '50mb' }),
    async (req, res) => {
      if (typeof req.body !== 'string')
        throw new ProblemError('unsupported-media-type', { detail: 'Send the CSV as text/csv.' });
      const report = await importer.importText({
        fileName: String(req.query['fileName'] ?? 'upload.csv'),
        text: req.body,
        via: 'upload',
        actor: `staff:${req.auth!.subject}`,
      });
      res.status(report.status === 'duplicate' ? 200 : report.status === 'failed' ? 422 : 201).json(report);
    },
  );

  route(
    {
      method: 'get',
      path: '/imports',
      summary: 'Import attempts with their reports, newest first',
      tags,
      security,
      query: { type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: 500 } } },
    },
    ...guard,
    async (req, res) => {
      res.json({ items: await importer.list(req.query['limit'] as number | undefined) });
    },
  );

  route(
    {
      method: 'get',
      path: '/imports/:id',
      summary: 'One import report',
      tags,
      security,
      params: { type: 'object', properties: { id: { type: 'string', pattern: '^[0-9]{1,18}$' } } },
    },
    ...guard,
    async (req, res) => {
      const report = await importer.get(String(req.params['id']));
      if (!report) throw new ProblemError('import-unknown');
      res.json(report);
    },
  );

  route(
    {
      method: 'post',
      path: '/accounts',
      summary: 'Link a health-app e-mail address to a resident',
      tags,
      security,
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['email', 'commonId'],
        properties: {
          email: { type: 'string', minLength: 3, maxLength: 320 },
          commonId: { type: 'string', pattern: '^[a-z0-9]{26}$' },
        },
      },
    },
    ...guard,
    async (req, res) => {
      const body = req.body as { email: string; commonId: string };
      const result = await accounts.link({ ...body, via: 'staff', actor: `staff:${req.auth!.subject}` });
      res.status(result.moved ? 200 : 201).json({ commonId: body.commonId, moved: result.moved });
    },
  );

  return { prefix: HEALTH_STAFF_PREFIX, router };
}

function formPage(token: string, error?: string): string {
  return page({
    titleJa: '健康アプリの連携',
    titleEn: 'Link the health app',
    body: `${error ? `<p role="alert">${error}</p>` : ''}
<form method="post" action="${HEALTH_LINK_PREFIX}/link">
<input type="hidden" name="token" value="${escapeHtml(token)}">
<p><label for="email">${bilingual('健康アプリに登録したメールアドレス', 'The e-mail address you use in the health app')}</label><br>
<input id="email" name="email" type="email" autocomplete="email" required maxlength="320" style="min-height:44px;width:100%;font-size:1rem"></p>
<p><button type="submit">連携する / Link</button></p>
</form>`,
  });
}

export function healthLinkRouter(ctx: ModuleContext, kit: Kit, accounts: HealthAccounts) {
  const { router, route } = ctx.http.createRouter(HEALTH_LINK_PREFIX);
  const sealer = kit.sealer('health-link-form');
  const token = (commonId: string) =>
    sealer.seal('health-link', JSON.stringify({ commonId, exp: ctx.now().getTime() + FORM_TTL_MS }));

  kit.signIn.on('health-link', async ({ commonId }, _req, res) => {
    res.type('html').send(formPage(token(commonId)));
  });

  route(
    {
      method: 'get',
      path: '/link',
      summary: 'Link the health app: sign in, then enter the address',
      tags: ['adapters-health'],
    },
    async (_req, res) => {
      await kit.signIn.begin(res, { purpose: 'health-link', carry: {} });
    },
  );

  route(
    {
      method: 'post',
      path: '/link',
      summary: 'Link the health app: the address of the signed-in resident',
      tags: ['adapters-health'],
      body: {
        type: 'object',
        required: ['token', 'email'],
        properties: { token: { type: 'string', maxLength: 2000 }, email: { type: 'string', maxLength: 320 } },
      },
    },
    async (req, res) => {
      const body = req.body as { token: string; email: string };
      let commonId: string | undefined;
      try {
        const t = JSON.parse(sealer.open('health-link', body.token)) as { commonId: string; exp: number };
        if (t.exp > ctx.now().getTime()) commonId = t.commonId;
      } catch {
        commonId = undefined;
      }
      if (!commonId) throw new ProblemError('link-invalid', { detail: 'Sign in again and retry.' });
      try {
        await accounts.link({ email: body.email, commonId, via: 'resident', actor: `resident:${commonId}` });
      } catch (error) {
        if (!(error instanceof ProblemError) || error.status >= 500) throw error;
        const message =
          error.code === 'conflict'
            ? bilingual(
                'このアドレスは別の方に連携されています。市役所にお問い合わせください。',
                'This address is linked to someone else; please contact the city office.',
              )
            : bilingual('メールアドレスを確認してください。', 'Please check the e-mail address.');
        res
          .status(error.status)
          .type('html')
          .send(formPage(token(commonId), message));
        return;
      }
      res.type('html').send(
        page({
          titleJa: '連携しました',
          titleEn: 'Linked',
          body: `<p>${bilingual('健康アプリのポイントがつなぐポイントとして付与されます。', 'Your health-app points will be granted as Tsunagu points.')}</p>`,
        }),
      );
    },
  );

  return { prefix: HEALTH_LINK_PREFIX, router };
}

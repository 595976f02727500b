/**
 * The adapters' staff pages in the admin console (role `adapters`), over the adapters module's
 * services (looked up at request time):
 *
 *   GET  /admin/adapters                      every adapter: inbox and outbox figures, its own status
 *   GET  /admin/adapters/inbox?adapter=       events acted on, newest first
 *   GET  /admin/adapters/outbox?adapter=&status=   outgoing messages (never their payloads)
 *   GET  /admin/adapters/dead-letters?adapter=     dead letters, each with a retry button
 *   POST /admin/adapters/outbox/:id/retry     queue a dead letter again (audited by the kit)
 *   GET  /admin/adapters/imports              health-app import reports   GET …/imports/:id  one report
 */
import express from 'express';
import type { AdaptersServices, Importer, OutboxStatus } from '../../adapters/index.ts';
import { ProblemError } from '../../core/index.ts';
import { csrfField, errorLine, sendAdminPage, staffMember, statusLine } from '../admin/layout.ts';
import { bi, escapeHtml } from '../shared/html.ts';
import type { PortalContext, PortalSection } from '../shared/section.ts';
import { ADAPTERS_BASE, importBody, importsBody, inboxBody, outboxBody, statusBody } from './pages.ts';

const NAME = /^[a-z][a-z0-9_-]{0,31}$/;
const ID = /^[0-9]{1,18}$/;

function adaptersOf(p: PortalContext): AdaptersServices | undefined {
  return p.ctx.services['adapters'] as AdaptersServices | undefined;
}

function adapterQuery(req: express.Request): string | undefined {
  const a = req.query['adapter'];
  return typeof a === 'string' && NAME.test(a) ? a : undefined;
}

export function adapterPages(p: PortalContext): express.Router {
  const router = express.Router();
  router.use(p.requireStaff('adapters'));
  const title = { title: 'アダプター', titleEn: 'Adapters' };
  const unavailable = (req: express.Request, res: express.Response) =>
    sendAdminPage(req, res, {
      ...title,
      status: 503,
      body: `<p>${bi('アダプターが動いていません。', 'The adapters module is not running.')}</p>`,
    });

  router.get('/', async (req, res) => {
    const a = adaptersOf(p);
    if (!a) return unavailable(req, res);
    sendAdminPage(req, res, { ...title, body: statusBody(await a.status()) });
  });

  router.get('/inbox', async (req, res) => {
    const a = adaptersOf(p);
    if (!a) return unavailable(req, res);
    const adapter = adapterQuery(req);
    const items = await a.kit.inbox.list({ ...(adapter ? { adapter } : {}), limit: 100 });
    sendAdminPage(req, res, { title: '受信', titleEn: 'Inbox', body: inboxBody(items) });
  });

  router.get('/outbox', async (req, res) => {
    const a = adaptersOf(p);
    if (!a) return unavailable(req, res);
    const adapter = adapterQuery(req);
    const status = ['pending', 'done', 'dead'].includes(String(req.query['status']))
      ? (String(req.query['status']) as OutboxStatus)
      : undefined;
    const items = await a.kit.outbox.list({
      ...(adapter ? { adapter } : {}),
      ...(status ? { status } : {}),
      limit: 100,
    });
    sendAdminPage(req, res, { title: '送信', titleEn: 'Outbox', body: outboxBody(items) });
  });

  router.get('/dead-letters', async (req, res) => {
    const a = adaptersOf(p);
    if (!a) return unavailable(req, res);
    const adapter = adapterQuery(req);
    const items = await a.kit.outbox.list({ ...(adapter ? { adapter } : {}), status: 'dead', limit: 100 });
    const done =
      req.query['done'] === 'retried' ? statusLine('再送を予約しました。', 'Queued for another try.') : '';
    const error =
      req.query['error'] === 'not-dead'
        ? errorLine('このメッセージは送信失敗ではありません。', 'That message is not a dead letter.')
        : '';
    const retry = (m: { id: string }) =>
      `<form method="post" action="${ADAPTERS_BASE}/outbox/${encodeURIComponent(m.id)}/retry">${csrfField(res)}<button type="submit" id="retry-${escapeHtml(m.id)}">${bi('再送', 'Retry')}<span class="visually-hidden"> ${escapeHtml(m.id)}</span></button></form>`;
    sendAdminPage(req, res, {
      title: '送信失敗',
      titleEn: 'Dead letters',
      body: `${done}${error}${outboxBody(items, retry)}`,
    });
  });

  router.post('/outbox/:id/retry', express.urlencoded({ extended: false }), async (req, res) => {
    const a = adaptersOf(p);
    if (!a) return unavailable(req, res);
    const id = String(req.params['id']);
    if (!ID.test(id)) throw new ProblemError('not-found');
    try {
      await a.kit.outbox.retry(id, `staff:${staffMember(res).staffId}`);
    } catch (error) {
      if (error instanceof ProblemError && error.code === 'outbox-not-dead')
        return res.redirect(303, `${ADAPTERS_BASE}/dead-letters?error=not-dead`);
      throw error;
    }
    res.redirect(303, `${ADAPTERS_BASE}/dead-letters?done=retried`);
  });

  const importer = () => (adaptersOf(p)?.adapters['health'] as { importer?: Importer } | undefined)?.importer;

  router.get('/imports', async (req, res) => {
    const i = importer();
    sendAdminPage(req, res, {
      title: '取込レポート',
      titleEn: 'Import reports',
      body: importsBody(i ? await i.list(100) : undefined),
    });
  });

  router.get('/imports/:id', async (req, res) => {
    const id = String(req.params['id']);
    const report = ID.test(id) ? await importer()?.get(id) : undefined;
    if (!report)
      return sendAdminPage(req, res, {
        title: '取込レポート',
        titleEn: 'Import report',
        status: 404,
        body: `<p>${bi('その取込はありません。', 'No such import.')}</p>`,
      });
    sendAdminPage(req, res, { title: '取込レポート', titleEn: 'Import report', body: importBody(report) });
  });

  return router;
}

export const adaptersAdminSection: PortalSection = {
  name: 'admin-adapters',
  prefix: ADAPTERS_BASE,
  adminNav: [{ href: ADAPTERS_BASE, ja: 'アダプター', en: 'Adapters', role: 'adapters' }],
  create: (p) => adapterPages(p),
};

/**
 * Our login and consent pages for the OpenID provider (its `interactions.url`):
 *
 *   GET  /idp/interaction/:uid           the page for the pending prompt (login or consent)
 *   POST /idp/interaction/:uid/abort     the resident cancels: access_denied back to the client
 */
import express from 'express';
import type Provider from 'oidc-provider';
import type { ModuleContext } from '../../core/index.ts';
import type { Accounts } from '../accounts/accounts.ts';
import { bilingual, escapeHtml, page } from './page.ts';

export function interactionRoutes(options: {
  ctx: ModuleContext;
  provider: () => Provider;
  accounts: Accounts;
}): { router: express.Router } {
  const router = express.Router();
  router.use((_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });

  router.get('/interaction/:uid', async (req, res) => {
    const provider = options.provider();
    const details = await provider.interactionDetails(req, res);
    const client = await provider.Client.find(String(details.params['client_id']));
    res.type('html').send(
      page({
        title: 'ログイン',
        titleEn: 'Sign in',
        body: `<p>${bilingual(`${client?.clientName ?? ''} にログインします。`, `Signing in to ${client?.clientName ?? ''}.`)}</p>
<form method="post" action="/idp/interaction/${escapeHtml(details.uid)}/abort">
<button type="submit" class="secondary">${bilingual('キャンセル', 'Cancel')}</button>
</form>`,
      }),
    );
  });

  router.post('/interaction/:uid/abort', async (req, res) => {
    await options
      .provider()
      .interactionFinished(
        req,
        res,
        { error: 'access_denied', error_description: 'End-User aborted interaction' },
        { mergeWithLastSubmission: false },
      );
  });

  return { router };
}

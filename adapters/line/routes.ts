/**
 * The LINE adapter's HTTP surface.
 *
 *   POST /api/adapters/line/webhook   LINE's webhook: X-Line-Signature → body → each event, once
 *   GET  /adapters/line/link?linkToken=   account link: the resident signs in through our provider,
 *                                         then goes to LINE's account-link dialog with our nonce
 *
 * The webhook pipeline:
 *   configured        503 adapter-not-configured without a channel secret
 *   raw body          the signature covers the exact bytes (the router parses nothing)
 *   check signature   401 signature-invalid: nothing is read or written
 *   parse body        400 payload-malformed: nothing is written
 *   handle events     each in its own inbox transaction; a replay changes nothing
 */
import { randomBytes } from 'node:crypto';
import { validateSignature } from '@line/bot-sdk';
import express from 'express';
import type { ModuleContext } from '../../core/index.ts';
import { ProblemError } from '../../core/index.ts';
import { bilingual, type Kit, page } from '../kit/index.ts';
import { type EventDeps, handleEvent, nonceHash } from './handle_event.ts';
import type { LineSettings } from './settings.ts';
import { parseWebhookBody } from './webhook_body.ts';

export const WEBHOOK_PREFIX = '/api/adapters/line';
export const LINK_PREFIX = '/adapters/line';
const NONCE_TTL_MS = 10 * 60_000;

export function webhookRouter(ctx: ModuleContext, settings: LineSettings, deps: EventDeps) {
  const { router, route } = ctx.http.createRouter(WEBHOOK_PREFIX);
  route(
    {
      method: 'post',
      path: '/webhook',
      summary: 'LINE Messaging API webhook (X-Line-Signature)',
      tags: ['adapters-line'],
      responses: {
        '200': { description: 'Events accepted (replays included)' },
        '400': { description: 'payload-malformed' },
        '401': { description: 'signature-invalid' },
      },
    },
    (_req, _res, next) => {
      next(
        settings.channelSecret
          ? undefined
          : new ProblemError('adapter-not-configured', { detail: 'LINE_CHANNEL_SECRET is not set.' }),
      );
    },
    express.raw({ type: () => true, limit: '1mb' }),
    async (req, res) => {
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const signature = req.get('x-line-signature');
      if (!signature || !validateSignature(body, settings.channelSecret!, signature))
        throw new ProblemError('signature-invalid', { detail: 'X-Line-Signature does not match the body.' });
      const webhook = parseWebhookBody(body);
      // Events of one delivery in order (a follow before its first message).
      for (const event of webhook.events) await handleEvent(deps, webhook.destination, event);
      res.status(200).json({});
    },
  );
  return { prefix: WEBHOOK_PREFIX, router, parseBody: false, rateLimit: false };
}

export function linkRouter(ctx: ModuleContext, settings: LineSettings, kit: Kit) {
  const { router, route } = ctx.http.createRouter(LINK_PREFIX);

  kit.signIn.on('line-link', async ({ commonId, carry }, _req, res) => {
    const nonce = randomBytes(32).toString('base64url');
    const at = ctx.now();
    await ctx.db.query(
      `INSERT INTO adapters.line_link_nonce (nonce_hash, common_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
      [nonceHash(nonce), commonId, at, new Date(at.getTime() + NONCE_TTL_MS)],
    );
    const target = new URL(`${settings.accessBaseUrl}/dialog/bot/accountLink`);
    target.searchParams.set('linkToken', carry['linkToken'] ?? '');
    target.searchParams.set('nonce', nonce);
    res.redirect(303, target.href);
  });

  route(
    {
      method: 'get',
      path: '/link',
      summary: 'LINE account link: sign in, then continue to LINE with a nonce',
      tags: ['adapters-line'],
      query: {
        type: 'object',
        required: ['linkToken'],
        properties: { linkToken: { type: 'string', pattern: '^[0-9A-Za-z_-]{1,128}$' } },
      },
    },
    async (req, res) => {
      if (!settings.channelSecret) {
        res
          .status(503)
          .type('html')
          .send(
            page({
              titleJa: 'LINE連携は準備中です',
              titleEn: 'LINE linking is not available yet',
              body: `<p>${bilingual('しばらくしてからお試しください。', 'Please try again later.')}</p>`,
            }),
          );
        return;
      }
      await kit.signIn.begin(res, {
        purpose: 'line-link',
        carry: { linkToken: String(req.query['linkToken']) },
      });
    },
  );
  return { prefix: LINK_PREFIX, router };
}

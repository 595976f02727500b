/**
 * The resident's notification settings (通知の設定), one checkbox per kind and channel, no scripts:
 *
 *   GET  {base}         the settings
 *   POST {base}         save them (CSRF token); unticked boxes turn a notification off
 */
import express, { type Router } from 'express';
import { ProblemError } from '../../core/index.ts';
import { bi, escapeHtml, residentPage } from '../shared/html.ts';
import type { PortalContext } from '../shared/section.ts';
import {
  NOTIFICATION_CHANNELS,
  NOTIFICATION_KINDS,
  type NotificationPreferences,
  type Preferences,
} from './preferences.ts';

const KIND_TEXT = {
  notices: [
    'お知らせ',
    'Notices',
    '市町村からのお知らせが届いたとき',
    'When your municipality sends a notice',
  ],
  points: [
    'ポイント',
    'Points',
    '残高が変わったときと、失効が近いとき',
    'When your balance changes or points expire soon',
  ],
  consent: [
    '同意と連携',
    'Consents and links',
    '同意や連携サービスが変わったとき',
    'When a consent or a linked service changes',
  ],
} as const;
const CHANNEL_TEXT = { email: ['メール', 'E-mail'], line: ['LINE', 'LINE'] } as const;

export function preferencesPage(
  portal: PortalContext,
  preferences: NotificationPreferences,
  base: string,
): Router {
  const router = express.Router();
  const shell = { nav: portal.residentNav, session: portal.resident };

  router.get('/', async (req, res) => {
    const resident = portal.resident.residentOf(req);
    if (!resident) return res.redirect(303, portal.residentLoginUrl(req.originalUrl));
    const current: Preferences = await preferences.get(resident);
    const csrf = portal.resident.csrfFor(req);
    const rows = NOTIFICATION_KINDS.map((kind) => {
      const [ja, en, hintJa, hintEn] = KIND_TEXT[kind];
      const cells = NOTIFICATION_CHANNELS.map((channel) => {
        const id = `p-${kind}-${channel}`;
        const [cja, cen] = CHANNEL_TEXT[channel];
        return `<td><label for="${id}"><input type="checkbox" id="${id}" name="${kind}.${channel}" value="on"${current[kind][channel] ? ' checked' : ''}><span class="visually-hidden">${escapeHtml(`${ja}：${cja}`)} <span lang="en">${escapeHtml(`${en}: ${cen}`)}</span></span></label></td>`;
      }).join('');
      return `<tr><th scope="row">${bi(ja, en)}<span class="meta">${bi(hintJa, hintEn)}</span></th>${cells}</tr>`;
    }).join('\n');
    const saved = req.query['saved'] === '1';
    res.type('html').send(
      residentPage(shell, req, {
        title: '通知の設定',
        titleEn: 'Notification settings',
        current: base,
        csrf,
        body: `${saved ? `<p class="status" role="status">${bi('設定を保存しました。', 'Your settings are saved.')}</p>` : ''}
<p>${bi(
          '受け取りたい通知を選んでください。選ばなかった通知は送られません。ポータルではいつでも確認できます。',
          'Choose the notifications you want. Nothing you leave unticked is sent; the portal always shows everything.',
        )}</p>
<form method="post" action="${base}">
<input type="hidden" name="csrf" value="${escapeHtml(csrf)}">
<table class="prefs">
<caption>${bi('通知の種類と受け取り方', 'What to be told, and how')}</caption>
<thead><tr><th scope="col">${bi('種類', 'Kind')}</th>${NOTIFICATION_CHANNELS.map((c) => `<th scope="col">${bi(CHANNEL_TEXT[c][0], CHANNEL_TEXT[c][1])}</th>`).join('')}</tr></thead>
<tbody>${rows}</tbody>
</table>
<p><button type="submit">${bi('保存する', 'Save')}</button></p>
</form>`,
      }),
    );
  });

  router.post('/', async (req, res) => {
    const resident = portal.resident.residentOf(req);
    if (!resident) return res.redirect(303, portal.residentLoginUrl(req.originalUrl));
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (!portal.resident.checkCsrf(req, body['csrf']))
      throw new ProblemError('forbidden', { detail: 'The form is out of date. Reload the page.' });
    const changes: Record<string, Record<string, boolean>> = {};
    for (const kind of NOTIFICATION_KINDS) {
      changes[kind] = {};
      for (const channel of NOTIFICATION_CHANNELS)
        changes[kind][channel] = body[`${kind}.${channel}`] === 'on';
    }
    await preferences.set(resident, changes, 'resident');
    res.redirect(303, `${base}?saved=1`);
  });
  return router;
}

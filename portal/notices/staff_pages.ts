/**
 * Staff pages for notices (`/admin/notices`, role `notices`):
 *
 *   GET  /       sent notices with read and delivery counts
 *   GET  /new    compose: text in Japanese and English, audience, channels
 *   POST /       send
 *   GET  /:id    one notice: audience, recipients, read, deliveries per channel
 */
import express, { type Request, type RequestHandler } from 'express';
import { field, fields, formHandler } from '../admin/forms.ts';
import { csrfField, sendAdminPage, staffMember, statusLine } from '../admin/layout.ts';
import { criteriaFields, criteriaOf, describeCriteria } from '../municipal_services/criteria_form.ts';
import type { ServiceRegistry } from '../municipal_services/service_registry.ts';
import { bi, escapeHtml, time } from '../shared/html.ts';
import type { PortalContext } from '../shared/section.ts';
import type { Audience, Channel, NoticeStore, NoticeSummary } from './notice_store.ts';

export const NOTICES_ADMIN_BASE = '/admin/notices';

const CHANNEL_LABELS: Record<Channel, [string, string]> = {
  email: ['メール', 'E-mail'],
  line: ['LINE', 'LINE'],
};

export function describeAudience(a: Audience, serviceName?: string): string {
  switch (a.kind) {
    case 'all':
      return 'すべての住民 / Everyone';
    case 'municipality':
      return `${a.municipality}の住民 / Residents of ${a.municipality}`;
    case 'attributes':
      return `条件：${describeCriteria(a.criteria)} / Matching residents`;
    case 'service':
      return `サービスの対象者：${serviceName ?? a.serviceId} / Service targets`;
  }
}

function audienceOf(req: Request): Audience {
  const kind = field(req, 'audience');
  switch (kind) {
    case 'all':
      return { kind };
    case 'municipality':
      return { kind, municipality: field(req, 'municipality') };
    case 'attributes':
      return { kind, criteria: criteriaOf(req.body) };
    case 'service':
      return { kind, serviceId: field(req, 'serviceId') };
    default:
      return { kind: 'unknown' } as unknown as Audience;
  }
}

export function noticesStaffPages(
  p: PortalContext,
  notices: NoticeStore,
  registry: ServiceRegistry,
): RequestHandler {
  const router = express.Router();
  const base = NOTICES_ADMIN_BASE;
  router.use(p.requireStaff('notices'));
  const serviceNames = async () => new Map((await registry.list()).map((s) => [s.id, s.nameJa]));
  const deliveryText = (n: NoticeSummary) =>
    n.channels
      .map((c) => {
        const d = n.deliveries[c];
        return `${CHANNEL_LABELS[c][0]}: ${bi(`送信${d.sent}・待機${d.pending}・対象外${d.skipped}・失敗${d.failed}`, `sent ${d.sent}, pending ${d.pending}, skipped ${d.skipped}, failed ${d.failed}`)}`;
      })
      .join('<br>') || '—';

  router.get('/', async (req, res) => {
    const [list, names] = await Promise.all([notices.list(), serviceNames()]);
    sendAdminPage(req, res, {
      title: 'お知らせ',
      titleEn: 'Notices',
      body: `<p><a class="button" href="${base}/new" id="compose">${bi('お知らせを作成する', 'Write a notice')}</a></p>
<div class="table-wrap"><table>
<caption>${bi('送信済みのお知らせ（新しい順）', 'Sent notices (newest first)')}</caption>
<thead><tr><th scope="col">${bi('件名', 'Title')}</th><th scope="col">${bi('宛先', 'Audience')}</th><th scope="col">${bi('既読／対象', 'Read / recipients')}</th><th scope="col">${bi('送信日時', 'Sent')}</th></tr></thead>
<tbody>${
        list
          .map(
            (n) =>
              `<tr><td><a href="${base}/${escapeHtml(n.id)}">${escapeHtml(n.titleJa)}</a></td><td>${escapeHtml(describeAudience(n.audience, n.audience.kind === 'service' ? names.get(n.audience.serviceId) : undefined))}</td><td>${n.readCount} / ${n.audience.kind === 'all' ? '—' : n.recipientCount}</td><td>${time(n.sentAt)}</td></tr>`,
          )
          .join('') || `<tr><td colspan="4">${bi('まだありません。', 'None yet.')}</td></tr>`
      }</tbody></table></div>`,
    });
  });

  router.get('/new', async (req, res) => {
    const services = (await registry.list()).filter((s) => s.status === 'active');
    const radio = (value: string, ja: string, en: string, checked = false) =>
      `<div class="choice"><input type="radio" id="audience-${value}" name="audience" value="${value}"${checked ? ' checked' : ''}><label for="audience-${value}">${bi(ja, en)}</label></div>`;
    sendAdminPage(req, res, {
      title: 'お知らせを作成する',
      titleEn: 'Write a notice',
      body: `<form method="post" action="${base}">${csrfField(res)}
<label for="titleJa">${bi('件名', 'Title (Japanese)')}</label><input type="text" id="titleJa" name="titleJa" required maxlength="200">
<label for="bodyJa">${bi('本文', 'Text (Japanese)')}</label><textarea id="bodyJa" name="bodyJa" required maxlength="10000"></textarea>
<label for="titleEn">${bi('件名（英語）', 'Title (English)')}</label><input type="text" id="titleEn" name="titleEn" required maxlength="200">
<label for="bodyEn">${bi('本文（英語）', 'Text (English)')}</label><textarea id="bodyEn" name="bodyEn" required maxlength="10000"></textarea>
<fieldset><legend>${bi('宛先', 'Audience')}</legend>
${radio('all', 'すべての住民', 'Everyone', true)}
${radio('municipality', '市区町村の住民（下の「市区町村」）', 'Residents of a municipality (below)')}
${radio('attributes', '条件に当てはまる住民（下の条件）', 'Residents matching the criteria below')}
${radio('service', '自治体サービスの対象者', 'Targets of a municipal service')}
<label for="serviceId">${bi('自治体サービス', 'Municipal service')}</label>
<select id="serviceId" name="serviceId"><option value="">${escapeHtml('選択してください / Choose')}</option>${services
        .map(
          (s) =>
            `<option value="${escapeHtml(s.id)}">${escapeHtml(`${s.nameJa}（${s.targetCount}人）`)}</option>`,
        )
        .join('')}</select>
</fieldset>
<fieldset><legend>${bi('条件（市区町村・属性）', 'Criteria (municipality, attributes)')}</legend>
${criteriaFields()}
</fieldset>
<fieldset><legend>${bi('ポータル以外の配信（住民が許可している場合のみ）', 'Also deliver (only to residents who allow it)')}</legend>
${(['email', 'line'] as const)
  .map(
    (c) =>
      `<div class="choice"><input type="checkbox" id="channel-${c}" name="channels" value="${c}"><label for="channel-${c}">${bi(CHANNEL_LABELS[c][0], CHANNEL_LABELS[c][1])}</label></div>`,
  )
  .join('')}
</fieldset>
<div class="actions"><button type="submit" id="send">${bi('送信する', 'Send')}</button></div>
</form>`,
    });
  });

  router.post(
    '/',
    formHandler(
      () => `${base}/new`,
      async (req, res) => {
        const channels = fields(req, 'channels') as Channel[];
        const n = await notices.send(
          {
            titleJa: field(req, 'titleJa'),
            titleEn: field(req, 'titleEn'),
            bodyJa: field(req, 'bodyJa'),
            bodyEn: field(req, 'bodyEn'),
            audience: audienceOf(req),
            channels: [...new Set(channels)],
          },
          `staff:${staffMember(res).staffId}`,
        );
        res.redirect(303, `${base}/${n.id}?done=sent`);
      },
    ),
  );

  router.get('/:id', async (req, res, next) => {
    const n = await notices.summary(String(req.params['id'])).catch(() => undefined);
    if (!n) return next();
    const names = await serviceNames();
    sendAdminPage(req, res, {
      title: n.titleJa,
      titleEn: n.titleEn,
      body: `${req.query['done'] === 'sent' ? statusLine('お知らせを送信しました。', 'Notice sent.') : ''}
<p><a href="${base}">${bi('お知らせの一覧へ', 'All notices')}</a></p>
<dl>
<dt>${bi('宛先', 'Audience')}</dt><dd id="audience">${escapeHtml(describeAudience(n.audience, n.audience.kind === 'service' ? names.get(n.audience.serviceId) : undefined))}</dd>
<dt>${bi('対象者数', 'Recipients')}</dt><dd id="recipients">${n.audience.kind === 'all' ? bi('すべての住民', 'everyone') : n.recipientCount}</dd>
<dt>${bi('既読', 'Read')}</dt><dd id="read-count">${n.readCount}</dd>
<dt>${bi('配信', 'Deliveries')}</dt><dd id="deliveries">${deliveryText(n)}</dd>
<dt>${bi('送信日時', 'Sent')}</dt><dd>${time(n.sentAt)}</dd>
</dl>
<section class="card"><h2>${escapeHtml(n.titleJa)}</h2><p style="white-space: pre-wrap">${escapeHtml(n.bodyJa)}</p>
<h2 lang="en">${escapeHtml(n.titleEn)}</h2><p lang="en" style="white-space: pre-wrap">${escapeHtml(n.bodyEn)}</p></section>`,
    });
  });

  return router;
}

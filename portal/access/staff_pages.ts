/**
 * The staff view of the access log (アクセスログ): filters by service, resident, purpose, result and
 * period, with CSV and JSON export of the same selection. Every view and export is audited
 * (`mediation.log.read`), naming the filter and how many entries were shown.
 *
 *   GET {base}?service=&resident=&purpose=&decision=&from=&to=   the filtered list (newest 200)
 *   GET {base}/export.csv?…, {base}/export.json?…                 the same selection (up to 10 000)
 */
import express, { type Request, type Response, type Router } from 'express';
import type { ConsentServices } from '../../consent/index.ts';
import type { MediationServices, StaffFilter } from '../../mediation/index.ts';
import { sendAdminPage, staffMember } from '../admin/layout.ts';
import { bi, escapeHtml, time } from '../shared/html.ts';
import type { PortalContext } from '../shared/section.ts';
import { decisionText, loadLabels } from './history_view.ts';

const FIELDS = ['service', 'resident', 'purpose', 'decision', 'from', 'to'] as const;

function filterOf(req: Request): { filter: StaffFilter; values: Record<string, string> } {
  const values: Record<string, string> = {};
  for (const f of FIELDS) {
    const v = req.query[f];
    if (typeof v === 'string' && v.trim() !== '') values[f] = v.trim().slice(0, 200);
  }
  const filter: StaffFilter = {};
  if (values['service']) filter.service = values['service'];
  if (values['resident']) filter.resident = values['resident'];
  if (values['purpose']) filter.purpose = values['purpose'];
  if (values['decision'] === 'allow' || values['decision'] === 'partial' || values['decision'] === 'deny')
    filter.decision = values['decision'];
  // Days are JST calendar days.
  const day = (s: string | undefined, plus: number) =>
    s && /^\d{4}-\d{2}-\d{2}$/.test(s)
      ? new Date(Date.parse(`${s}T00:00:00+09:00`) + plus * 86_400_000)
      : undefined;
  const from = day(values['from'], 0);
  const to = day(values['to'], 1);
  if (from) filter.from = from;
  if (to) filter.to = to;
  return { filter, values };
}

export function staffAccessPages(portal: PortalContext, base: string): Router {
  const router = express.Router();
  const mediation = () => portal.ctx.services['mediation'] as MediationServices;
  const consent = () => portal.ctx.services['consent'] as ConsentServices | undefined;
  router.use(portal.requireStaff('access-log'));

  const audited = async (res: Response, filter: Record<string, string>, shown: number, format: string) => {
    await portal.ctx.audit.record({
      actor: `staff:${staffMember(res).staffId}`,
      action: 'mediation.log.read',
      target: 'mediation:access-log',
      details: { filter, entries: shown, format },
    });
  };

  router.get('/', async (req, res) => {
    const { filter, values } = filterOf(req);
    const all = await mediation().staffLog({ ...filter, limit: 10_000 });
    const entries = all.slice(-200).reverse();
    const labels = await loadLabels(mediation(), consent());
    await audited(res, values, entries.length, 'page');
    const input = (name: string, ja: string, en: string, type = 'text') =>
      `<div><label for="f-${name}">${bi(ja, en)}</label><input id="f-${name}" name="${name}" type="${type}" value="${escapeHtml(values[name] ?? '')}"></div>`;
    const query = new URLSearchParams(values).toString();
    const rows = entries
      .map(
        (e) => `<tr>
<td>${time(e.at)}</td>
<td>${escapeHtml(labels.service(e.service))}${e.source ? `<br>← ${escapeHtml(labels.service(e.source))}` : ''}</td>
<td><code>${escapeHtml(e.resident ?? '—')}</code></td>
<td>${labels.items(e.items)}</td>
<td>${labels.purpose(e.service, e.purpose)}</td>
<td>${decisionText(e.decision)}${e.code ? `<br><code>${escapeHtml(e.code)}</code>` : ''}${e.suppressedUntil ? `<br>${bi('本人への表示保留', 'Held back from the resident')}` : ''}</td>
</tr>`,
      )
      .join('\n');
    sendAdminPage(req, res, {
      title: 'アクセスログ',
      titleEn: 'Personal-data access log',
      body: `<form method="get" action="${escapeHtml(base)}" class="filters">
<fieldset><legend>${bi('絞り込み', 'Filters')}</legend>
${input('service', 'サービス（クライアントID）', 'Service (client id)')}
${input('resident', '住民（共通ID）', 'Resident (common ID)')}
${input('purpose', '目的コード', 'Purpose code')}
<div><label for="f-decision">${bi('結果', 'Result')}</label><select id="f-decision" name="decision">
<option value="">${bi('すべて', 'All')}</option>
${(['allow', 'partial', 'deny'] as const)
  .map(
    (d) => `<option value="${d}"${values['decision'] === d ? ' selected' : ''}>${decisionText(d)}</option>`,
  )
  .join('')}
</select></div>
${input('from', '開始日', 'From', 'date')}
${input('to', '終了日', 'To', 'date')}
<div class="actions"><button type="submit" id="apply">${bi('表示', 'Show')}</button></div>
</fieldset></form>
<p id="count">${bi(`${all.length}件（新しい順に最大200件を表示）`, `${all.length} entries (newest 200 shown)`)}</p>
<p class="actions"><a id="export-csv" href="${escapeHtml(base)}/export.csv?${escapeHtml(query)}">CSV</a>
<a id="export-json" href="${escapeHtml(base)}/export.json?${escapeHtml(query)}">JSON</a></p>
<div class="table-wrap"><table>
<caption>${bi('アクセスログ', 'Access log')}</caption>
<thead><tr><th scope="col">${bi('日時', 'When')}</th><th scope="col">${bi('サービス', 'Service')}</th><th scope="col">${bi('住民', 'Resident')}</th><th scope="col">${bi('項目', 'Items')}</th><th scope="col">${bi('目的', 'Purpose')}</th><th scope="col">${bi('結果', 'Result')}</th></tr></thead>
<tbody id="entries">${rows}</tbody>
</table></div>`,
    });
  });

  router.get('/export.csv', async (req, res) => {
    const { filter, values } = filterOf(req);
    const csv = await mediation().staffLogCsv({ ...filter, limit: 10_000 });
    await audited(res, values, csv.split('\r\n').length - 2, 'csv');
    res
      .set('cache-control', 'no-store')
      .type('text/csv; charset=utf-8')
      .attachment('access-log.csv')
      .send(csv);
  });
  router.get('/export.json', async (req, res) => {
    const { filter, values } = filterOf(req);
    const entries = await mediation().staffLog({ ...filter, limit: 10_000 });
    await audited(res, values, entries.length, 'json');
    res.set('cache-control', 'no-store').attachment('access-log.json').json({ entries });
  });
  return router;
}

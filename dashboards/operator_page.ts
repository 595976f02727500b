/**
 * The built-in operator dashboard at /admin/dashboards (admin address allow-list): KPI tiles, a
 * daily chart of points issued and used, and the NGSIv2 entity counts, for one currency and a date
 * range shared by every panel. Rendered on the server as HTML + SVG; Japanese first, English after.
 */
import type { ModuleContext } from '../core/index.ts';
import { chartSvg, escapeHtml, formatNumber } from './render_svg.ts';

interface Kpi {
  day: string;
  active_residents: number;
  active_merchants: number;
  payments: number;
  issued: number;
  used: number;
  expired: number;
}

function jstDay(at: Date): string {
  return new Date(at.getTime() + 9 * 3_600_000).toISOString().slice(0, 10);
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

const STYLE = `
body{font-family:system-ui,"Hiragino Sans","Noto Sans JP",sans-serif;margin:0;color:#1a1a1a;background:#f6f7f9;line-height:1.6}
header{background:#0b3d75;color:#fff;padding:.75rem 1rem}h1{font-size:1.3rem;margin:0}
main{padding:1rem;max-width:72rem;margin:auto}.en{color:#555;font-size:.9em}header .en,button .en{color:#e6eefa}
form{display:flex;flex-wrap:wrap;gap:.75rem;align-items:flex-end;background:#fff;padding:.75rem;border-radius:6px}
label{display:flex;flex-direction:column;font-size:.9rem}input,select,button{font-size:1rem;padding:.4rem;min-height:44px}
button{background:#0b3d75;color:#fff;border:0;border-radius:4px;padding:.4rem 1rem}
button:focus-visible,input:focus-visible,select:focus-visible{outline:3px solid #f5a623;outline-offset:2px}
.tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(10rem,1fr));gap:.75rem;margin:1rem 0;padding:0;list-style:none}
.tile{background:#fff;border-radius:6px;padding:.75rem}.tile .value{font-size:1.6rem;font-weight:700}
section{background:#fff;border-radius:6px;padding:.75rem;margin:1rem 0}h2{font-size:1.1rem;margin:.25rem 0}
table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{border-bottom:1px solid #ddd;padding:.3rem;text-align:right}
th:first-child,td:first-child{text-align:left}.scroll{overflow-x:auto}
`;

export function operatorPageRouter(ctx: ModuleContext) {
  const { router, route } = ctx.http.createRouter('/admin/dashboards');
  route(
    {
      method: 'get',
      path: '/',
      summary: 'Operator dashboard (HTML)',
      tags: ['dashboards'],
      query: {
        type: 'object',
        properties: {
          currency: { type: 'string', maxLength: 100 },
          from: { type: 'string' },
          to: { type: 'string' },
        },
      },
    },
    ctx.http.adminOnly,
    async (req, res) => {
      const { rows: currencies } = await ctx.db.query<{ currency: string }>(
        'SELECT DISTINCT currency FROM analytics.points_kpi_daily ORDER BY 1',
      );
      const today = jstDay(ctx.now());
      const to = DAY.test(String(req.query['to'] ?? '')) ? String(req.query['to']) : today;
      const from = DAY.test(String(req.query['from'] ?? ''))
        ? String(req.query['from'])
        : jstDay(new Date(Date.parse(`${to}T00:00:00Z`) - 29 * 86_400_000));
      const currency = String(req.query['currency'] ?? currencies[0]?.currency ?? '');
      const { rows } = await ctx.db.query<Kpi>(
        `SELECT to_char(day, 'YYYY-MM-DD') AS day, active_residents, active_merchants, payments,
                issued::float8, used::float8, expired::float8
           FROM analytics.points_kpi_daily WHERE currency = $1 AND day BETWEEN $2 AND $3 ORDER BY day`,
        [currency, from, to],
      );
      const { rows: entities } = await ctx.db.query<{
        service: string;
        entity_type: string;
        entities: number;
      }>(
        'SELECT service, entity_type, entities FROM analytics.broker_entity_types ORDER BY entities DESC, entity_type LIMIT 20',
      );
      const sum = (k: keyof Omit<Kpi, 'day'>) => rows.reduce((a, r) => a + Number(r[k]), 0);
      const issued = sum('issued');
      const used = sum('used');
      const tiles: Array<[string, string, string]> = [
        ['発行ポイント', 'Points issued', formatNumber(issued)],
        ['利用ポイント', 'Points used', formatNumber(used)],
        ['決済件数', 'Payments', formatNumber(sum('payments'))],
        [
          '循環率',
          'Circulation (used ÷ issued)',
          issued > 0 ? `${formatNumber((used / issued) * 100)}%` : '—',
        ],
        ['失効ポイント', 'Points expired', formatNumber(sum('expired'))],
      ];
      const chart = chartSvg({
        title: '日別の発行・利用ポイント / Points issued and used per day',
        labels: rows.map((r) => r.day.slice(5)),
        series: [
          { name: '発行 / issued', values: rows.map((r) => r.issued) },
          { name: '利用 / used', values: rows.map((r) => r.used) },
        ],
        kind: 'bar',
      });
      const options = currencies
        .map((c) => `<option${c.currency === currency ? ' selected' : ''}>${escapeHtml(c.currency)}</option>`)
        .join('');
      res.type('html').send(`<!doctype html>
<html lang="ja">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>運用ダッシュボード / Operator dashboard — Tsunagu</title><style>${STYLE}</style></head>
<body>
<header><h1>運用ダッシュボード <span class="en">/ Operator dashboard</span></h1></header>
<main>
<form method="get" aria-label="表示条件 / Filters">
  <label for="currency">通貨 <span class="en">/ Currency</span><select id="currency" name="currency">${options}</select></label>
  <label for="from">開始日 <span class="en">/ From</span><input id="from" name="from" type="date" value="${from}"></label>
  <label for="to">終了日 <span class="en">/ To</span><input id="to" name="to" type="date" value="${to}"></label>
  <button type="submit">表示 <span class="en">/ Show</span></button>
</form>
<ul class="tiles" aria-label="主要指標 / Key figures">
${tiles.map(([ja, en, v]) => `<li class="tile"><div>${ja} <span class="en">/ ${en}</span></div><div class="value" data-kpi="${escapeHtml(en)}">${v}</div></li>`).join('\n')}
</ul>
<section aria-labelledby="daily-heading">
  <h2 id="daily-heading">日別推移 <span class="en">/ Daily trend</span> (${escapeHtml(currency)} ${from} – ${to})</h2>
  <figure style="margin:0">${chart}</figure>
  <details><summary>データ表 <span class="en">/ Data table</span></summary><div class="scroll"><table id="daily-table">
    <thead><tr><th scope="col">日付 <span class="en">/ Day</span></th><th scope="col">発行 <span class="en">/ Issued</span></th><th scope="col">利用 <span class="en">/ Used</span></th><th scope="col">決済件数 <span class="en">/ Payments</span></th></tr></thead>
    <tbody>${rows.map((r) => `<tr><td>${r.day}</td><td>${formatNumber(r.issued)}</td><td>${formatNumber(r.used)}</td><td>${formatNumber(r.payments)}</td></tr>`).join('')}</tbody>
  </table></div></details>
</section>
<section aria-labelledby="entities-heading">
  <h2 id="entities-heading">オープンデータ <span class="en">/ Open data entities</span></h2>
  <div class="scroll"><table id="entities-table"><thead><tr><th scope="col">種類 <span class="en">/ Type</span></th><th scope="col">件数 <span class="en">/ Entities</span></th></tr></thead>
  <tbody>${entities.map((e) => `<tr><td>${escapeHtml(e.entity_type)}${e.service ? ` (${escapeHtml(e.service)})` : ''}</td><td>${formatNumber(e.entities)}</td></tr>`).join('')}</tbody></table></div>
</section>
</main>
</body>
</html>`);
    },
  );
  return { prefix: '/admin/dashboards', router };
}

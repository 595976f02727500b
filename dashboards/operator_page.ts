/**
 * The built-in operator dashboard at /admin/dashboards (admin address allow-list): KPI tiles, a
 * daily chart of points issued and used, and the NGSIv2 entity counts, for one currency and a date
 * range shared by every panel, KPI tiles against monthly targets, breakdowns per municipality,
 * issuer, merchant, place, age band and area. Rendered on the server as HTML + SVG; Japanese first,
 * English after.
 */
import type { ModuleContext } from '../core/index.ts';
import { adminPage, type PagesMount } from './admin_shell.ts';
import { chartSvg, escapeHtml, formatNumber } from './render_svg.ts';

export const KPI_NAMES = ['issued', 'used', 'payments', 'circulation', 'expired'] as const;
export type KpiName = (typeof KPI_NAMES)[number];

/**
 * Targets for the range: amounts sum the monthly targets of every month the range touches; the
 * circulation rate (a percentage) averages them.
 */
async function kpiTargets(ctx: ModuleContext, currency: string, from: string, to: string) {
  const { rows } = await ctx.db.query<{ kpi: KpiName; target: number }>(
    `SELECT kpi, CASE WHEN kpi = 'circulation' THEN avg(target) ELSE sum(target) END::float8 AS target
       FROM analytics.kpi_target
      WHERE currency = $1 AND month BETWEEN date_trunc('month', $2::date) AND $3::date GROUP BY kpi`,
    [currency, from, to],
  );
  return Object.fromEntries(rows.map((r) => [r.kpi, r.target])) as Partial<Record<KpiName, number>>;
}

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

export function operatorPageRouter(ctx: ModuleContext, mount: PagesMount) {
  const { router, route } = ctx.http.createRouter(mount.base);
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
    mount.gate,
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
      const actuals: Record<KpiName, number | undefined> = {
        issued,
        used,
        payments: sum('payments'),
        circulation: issued > 0 ? (used / issued) * 100 : undefined,
        expired: sum('expired'),
      };
      const tiles: Array<[string, string, string, KpiName]> = [
        ['発行ポイント', 'Points issued', formatNumber(issued), 'issued'],
        ['利用ポイント', 'Points used', formatNumber(used), 'used'],
        ['決済件数', 'Payments', formatNumber(sum('payments')), 'payments'],
        [
          '循環率',
          'Circulation (used ÷ issued)',
          issued > 0 ? `${formatNumber((used / issued) * 100)}%` : '—',
          'circulation',
        ],
        ['失効ポイント', 'Points expired', formatNumber(sum('expired')), 'expired'],
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
      const breakdown = async (sql: string, params: unknown[]) =>
        (await ctx.db.query<{ key: string; value: number }>(sql, params)).rows;
      const flowBy = (column: string, flow: string) =>
        breakdown(
          `SELECT "${column}" AS key, sum(amount)::float8 AS value FROM analytics.points_flow_daily
            WHERE currency = $1 AND flow = $2 AND day BETWEEN $3 AND $4 GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10`,
          [currency, flow, from, to],
        );
      const visitsBy = (column: string) =>
        breakdown(
          `SELECT "${column}" AS key, sum(visits)::float8 AS value FROM analytics.visits_daily
            WHERE day BETWEEN $1 AND $2 GROUP BY 1 ORDER BY 1`,
          [from, to],
        );
      const municipalities = await breakdown(
        `SELECT currency AS key, sum(used)::float8 AS value FROM analytics.points_kpi_daily
          WHERE day BETWEEN $1 AND $2 GROUP BY 1 ORDER BY 2 DESC, 1`,
        [from, to],
      );
      const breakdowns: Array<[string, string, string, Array<{ key: string; value: number }>]> = [
        [
          'by-municipality',
          '自治体（通貨）別の利用',
          'Points used per municipality (currency)',
          municipalities,
        ],
        ['by-issuer', '発行元別の発行', 'Points issued per issuer', await flowBy('issuer', 'issued')],
        ['by-merchant', '加盟店別の利用', 'Points used per merchant', await flowBy('merchant', 'used')],
        ['by-place', '場所別の利用', 'Points used per place', await flowBy('place', 'used')],
        ['by-age-band', '年齢層別の施設利用', 'Facility visits per age band', await visitsBy('age_band')],
        ['by-area', '地区別の施設利用', 'Facility visits per area', await visitsBy('area')],
      ];
      const targets = await kpiTargets(ctx, currency, from, to);
      const tileHtml = tiles
        .map(([ja, en, v, key]) => {
          const target = targets[key];
          const actual = actuals[key];
          const progress =
            target === undefined
              ? ''
              : `<div class="target">目標 <span class="en">/ target</span> ${key === 'circulation' ? `${formatNumber(target)}%` : formatNumber(target)}${
                  target > 0 && actual !== undefined
                    ? ` — 達成率 <span class="en">/ achieved</span> <span data-achieved="${escapeHtml(en)}">${formatNumber(Math.round((actual / target) * 1000) / 10)}%</span>`
                    : ''
                }</div>`;
          return `<li class="tile"><div>${ja} <span class="en">/ ${en}</span></div><div class="value" data-kpi="${escapeHtml(en)}">${v}</div>${progress}</li>`;
        })
        .join('\n');
      res.type('html').send(
        adminPage({
          title: { ja: '運用ダッシュボード', en: 'Operator dashboard' },
          path: '',
          base: mount.base,
          body: `<form method="get" class="filters" aria-label="表示条件 / Filters">
  <label for="currency">通貨 <span class="en">/ Currency</span><select id="currency" name="currency">${options}</select></label>
  <label for="from">開始日 <span class="en">/ From</span><input id="from" name="from" type="date" value="${from}"></label>
  <label for="to">終了日 <span class="en">/ To</span><input id="to" name="to" type="date" value="${to}"></label>
  <button type="submit">表示 <span class="en">/ Show</span></button>
</form>
<ul class="tiles" aria-label="主要指標 / Key figures">
${tileHtml}
</ul>
<section aria-labelledby="daily-heading">
  <h2 id="daily-heading">日別推移 <span class="en">/ Daily trend</span> (${escapeHtml(currency)} ${from} – ${to})</h2>
  <figure style="margin:0">${chart}</figure>
  <details><summary>データ表 <span class="en">/ Data table</span></summary><div class="scroll"><table id="daily-table">
    <thead><tr><th scope="col">日付 <span class="en">/ Day</span></th><th scope="col">発行 <span class="en">/ Issued</span></th><th scope="col">利用 <span class="en">/ Used</span></th><th scope="col">決済件数 <span class="en">/ Payments</span></th></tr></thead>
    <tbody>${rows.map((r) => `<tr><td>${r.day}</td><td>${formatNumber(r.issued)}</td><td>${formatNumber(r.used)}</td><td>${formatNumber(r.payments)}</td></tr>`).join('')}</tbody>
  </table></div></details>
</section>
<div class="grid">
${breakdowns
  .map(
    ([
      id,
      ja,
      en,
      list,
    ]) => `<section style="--x:${(breakdowns.findIndex((b) => b[0] === id) % 2) * 6 + 1};--w:6" aria-labelledby="${id}-heading">
  <h2 id="${id}-heading">${ja} <span class="en">/ ${en}</span></h2>
  <div class="scroll"><table id="${id}"><thead><tr><th scope="col">区分 <span class="en">/ Group</span></th><th scope="col">値 <span class="en">/ Value</span></th></tr></thead>
  <tbody>${list.length === 0 ? '<tr><td colspan="2">データなし / No data</td></tr>' : list.map((b) => `<tr><td>${escapeHtml(b.key || '（不明） / unknown')}</td><td>${formatNumber(b.value)}</td></tr>`).join('')}</tbody></table></div>
</section>`,
  )
  .join('\n')}
</div>
<section aria-labelledby="entities-heading">
  <h2 id="entities-heading">オープンデータ <span class="en">/ Open data entities</span></h2>
  <div class="scroll"><table id="entities-table"><thead><tr><th scope="col">種類 <span class="en">/ Type</span></th><th scope="col">件数 <span class="en">/ Entities</span></th></tr></thead>
  <tbody>${entities.map((e) => `<tr><td>${escapeHtml(e.entity_type)}${e.service ? ` (${escapeHtml(e.service)})` : ''}</td><td>${formatNumber(e.entities)}</td></tr>`).join('')}</tbody></table></div>
  <p><a href="${mount.base}/map">地図で見る <span class="en">/ See on the map</span></a></p>
</section>`,
        }),
      );
    },
  );
  return { prefix: mount.base, router };
}

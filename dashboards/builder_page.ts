/**
 * The chart builder page (/admin/dashboards/builder, admin address allow-list). The page itself
 * holds no data: its script (assets/builder.js) calls the analysts' API with the analyst's bearer
 * token, so every save, publication and dashboard is checked (maintainer scope) and audited under
 * the analyst's name. The view catalogue and boundary layers are embedded so the form needs no
 * request to draw itself.
 */
import { adminPage } from './admin_shell.ts';
import type { LayerSummary } from './boundary_layers.ts';
import { CHART_TYPES } from './chart_definition.ts';
import { escapeHtml } from './render_svg.ts';
import { VIEWS } from './views.ts';

const CHART_LABELS: Record<(typeof CHART_TYPES)[number], string> = {
  bar: '棒 / Bar',
  line: '折れ線 / Line',
  area: '面 / Area',
  pie: '円 / Pie',
  table: '表 / Table',
  map: '地図 / Map',
  heatmap: 'ヒートマップ / Heat map',
};

/** JSON inside a script element: `<` escaped so no string can close the element. */
function jsonScript(id: string, data: unknown): string {
  return `<script type="application/json" id="${id}">${JSON.stringify(data).replace(/</g, '\\u003c')}</script>`;
}

export function builderHtml(
  layers: LayerSummary[],
  base = '/admin/dashboards',
  staffApi?: { url: string; csrf: string },
): string {
  const views = VIEWS.map((v) => ({
    name: v.name,
    title: v.title,
    dimensions: v.dimensions,
    measures: v.measures,
  }));
  // In the staff console the session signs the calls; elsewhere the analyst's bearer token does.
  const connection = staffApi
    ? `<p><button type="button" id="load-charts" class="secondary">保存済みグラフを読み込む <span class="en">/ Load saved charts</span></button></p>`
    : `<section aria-labelledby="token-heading">
  <h2 id="token-heading">接続 <span class="en">/ Connection</span></h2>
  <label for="token">アクセストークン <span class="en">/ Access token (dashboards:read, dashboards:write; kept in this tab only)</span>
    <input id="token" type="password" autocomplete="off"></label>
  <p><button type="button" id="load-charts" class="secondary">保存済みグラフを読み込む <span class="en">/ Load saved charts</span></button></p>
</section>`;
  const body = `
${connection}
<form id="chart-form" aria-labelledby="chart-heading">
  <h2 id="chart-heading">グラフ <span class="en">/ Chart</span></h2>
  <label for="title">タイトル <span class="en">/ Title</span><input id="title" maxlength="200"></label>
  <label for="view">ビュー <span class="en">/ View</span><select id="view">${views
    .map((v) => `<option value="${v.name}">${escapeHtml(v.title.ja)} / ${escapeHtml(v.title.en)}</option>`)
    .join('')}</select></label>
  <label for="chartType">グラフの種類 <span class="en">/ Chart type</span><select id="chartType">${CHART_TYPES.map(
    (t) => `<option value="${t}">${CHART_LABELS[t]}</option>`,
  ).join('')}</select></label>
  <div id="layer-field" hidden><label for="layer">境界レイヤー <span class="en">/ Boundary layer</span><select id="layer">${layers
    .map((l) => `<option value="${escapeHtml(l.name)}">${escapeHtml(l.title)}</option>`)
    .join('')}</select></label></div>
  <fieldset><legend>分類（軸） <span class="en">/ Dimensions</span></legend><div id="dimension-list"></div></fieldset>
  <fieldset><legend>指標 <span class="en">/ Measures</span></legend><div id="measure-list"></div></fieldset>
  <fieldset><legend>絞り込み <span class="en">/ Filters</span></legend><div id="filter-list"></div>
    <button type="button" id="add-filter" class="secondary">条件を追加 <span class="en">/ Add filter</span></button></fieldset>
  <p>
    <button type="button" id="preview-button" class="secondary">プレビュー <span class="en">/ Preview</span></button>
    <button type="submit">保存 <span class="en">/ Save</span></button>
    <button type="button" id="new-chart" class="secondary">新規 <span class="en">/ New</span></button>
  </p>
</form>
<p id="status" role="status" aria-live="polite"></p>
<section aria-labelledby="preview-heading"><h2 id="preview-heading">プレビュー <span class="en">/ Preview</span></h2><div id="preview"></div></section>
<section aria-labelledby="saved-heading">
  <h2 id="saved-heading">保存済みグラフ <span class="en">/ Saved charts</span></h2>
  <label for="audience">公開先 <span class="en">/ Publish to</span><select id="audience"><option value="residents">住民 / Residents</option><option value="partners">連携サービス / Partner services</option></select></label>
  <ul id="chart-list"></ul>
</section>
<form id="board-form" aria-labelledby="board-heading">
  <h2 id="board-heading">ダッシュボードを作る <span class="en">/ Arrange into a dashboard</span></h2>
  <p class="note">上の一覧で「ダッシュボードに入れる」を選んだグラフを、選んだ順に並べます。<span class="en">Charts ticked above are laid out in order.</span></p>
  <label for="board-title">タイトル <span class="en">/ Title</span><input id="board-title" required maxlength="200"></label>
  <label for="board-slug">識別名（英小文字・数字・-）<span class="en">/ Slug</span><input id="board-slug" required pattern="[a-z0-9\\-]{1,60}"></label>
  <label for="board-width">グラフの幅 <span class="en">/ Chart width</span><select id="board-width"><option value="12">1列 / full width</option><option value="6" selected>2列 / half</option><option value="4">3列 / third</option></select></label>
  <p><button type="submit">作成 <span class="en">/ Create dashboard</span></button></p>
  <p id="board-link"></p>
</form>
${jsonScript('catalogue', { views })}`;
  return adminPage({
    title: { ja: 'グラフ作成', en: 'Chart builder' },
    path: '/builder',
    base,
    body,
    ...(staffApi
      ? { bodyAttributes: `data-api="${escapeHtml(staffApi.url)}" data-csrf="${escapeHtml(staffApi.csrf)}"` }
      : {}),
    scripts: [`${base}/assets/builder.js`],
  });
}

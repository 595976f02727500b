/**
 * The staff upload page (server-rendered, Japanese first with English, usable on a phone): choose a
 * file → upload with a progress bar → report, preview of original vs normalised rows, entities and
 * their points → confirm → registered. The small script is served from the same origin (CSP).
 * Until the portal provides staff sign-in, the page asks for an `opendata:admin` access token and
 * keeps it in sessionStorage only.
 */
import { readFileSync } from 'node:fs';
import type { ModuleContext } from '../core/index.ts';
import { STANDARD_DATASETS } from './standard_datasets.ts';

const SCRIPT = readFileSync(new URL('./admin_page.js', import.meta.url), 'utf8');

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export function adminPageHtml(): string {
  const options = STANDARD_DATASETS.map(
    (d) => `<option value="${esc(d.id)}">${esc(d.title)} / ${esc(d.titleEn)}</option>`,
  ).join('');
  return `<!doctype html>
<html lang="ja">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>オープンデータ登録 / Open data upload — Tsunagu</title>
<style>
  body { font-family: system-ui, "Hiragino Sans", "Noto Sans JP", sans-serif; margin: 0; padding: 1rem; max-width: 60rem; line-height: 1.6; color: #1a1a1a; }
  h1 { font-size: 1.4rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
  label { display: block; font-weight: 600; margin-top: .75rem; }
  .en { font-weight: 400; color: #444; font-size: .9em; }
  button .en { color: inherit; }
  input, select, textarea, button { font: inherit; padding: .5rem; min-height: 44px; box-sizing: border-box; max-width: 100%; }
  input[type=text], input[type=password], input[type=number], select, textarea { width: 100%; }
  button { margin-top: 1rem; background: #0b57d0; color: #fff; border: 0; border-radius: 6px; padding: .6rem 1.2rem; cursor: pointer; }
  button:focus-visible, input:focus-visible, select:focus-visible { outline: 3px solid #f4b400; outline-offset: 2px; }
  progress { width: 100%; height: 1.5rem; }
  .table-wrap { overflow-x: auto; } table { border-collapse: collapse; font-size: .9rem; }
  th, td { border: 1px solid #bbb; padding: .25rem .5rem; text-align: left; vertical-align: top; }
  .error { color: #b3261e; } .warning { color: #7a4f00; } .changed { background: #fff3c4; }
  .table-wrap:focus-visible, pre:focus-visible { outline: 3px solid #f4b400; }
  pre { background: #f4f4f4; padding: .5rem; overflow-x: auto; font-size: .8rem; }
  [hidden] { display: none !important; }
</style>
</head>
<body>
<main>
<h1>オープンデータ登録 <span class="en">/ Open data upload</span></h1>
<form id="upload-form">
  <label for="token">アクセストークン <span class="en">/ Access token (opendata:admin)</span></label>
  <input id="token" name="token" type="password" autocomplete="off" required>
  <label for="file">CSVファイル（200MBまで） <span class="en">/ CSV file (up to 200 MB)</span></label>
  <input id="file" name="file" type="file" accept=".csv,text/csv" required>
  <label for="encoding">文字コード <span class="en">/ Encoding</span></label>
  <select id="encoding" name="encoding">
    <option value="auto">自動判定 / Detect</option><option value="utf-8">UTF-8</option><option value="shift_jis">Shift_JIS (CP932)</option>
  </select>
  <label for="dataset">データセット <span class="en">/ Dataset</span></label>
  <select id="dataset" name="dataset"><option value="">自動判定 / Detect</option>${options}</select>
  <label for="headerLine">見出し行（空欄で自動） <span class="en">/ Header line (blank: detect)</span></label>
  <input id="headerLine" name="headerLine" type="number" min="1" inputmode="numeric">
  <label for="municipalityCode">全国地方公共団体コード（6桁） <span class="en">/ Local government code</span></label>
  <input id="municipalityCode" name="municipalityCode" type="text" inputmode="numeric" pattern="[0-9]{6}">
  <label for="dropColumns">除外する列（カンマ区切り） <span class="en">/ Columns to leave out (comma-separated)</span></label>
  <input id="dropColumns" name="dropColumns" type="text">
  <button type="submit" id="upload-button">アップロードして検証 <span class="en">/ Upload and validate</span></button>
</form>
<div id="progress-box" hidden>
  <label for="progress">送信中 <span class="en">/ Uploading</span></label>
  <progress id="progress" max="100" value="0"></progress>
</div>
<p id="status" role="status" aria-live="polite"></p>
<section id="report" hidden aria-labelledby="report-title">
  <h2 id="report-title">検証結果 <span class="en">/ Validation report</span></h2>
  <dl id="summary"></dl>
  <ul id="suggestions"></ul>
  <section id="mapping" hidden aria-labelledby="mapping-title">
    <h2 id="mapping-title">列の対応（標準データセットに当てはまらないファイル） <span class="en">/ Column mapping (no standard dataset matched)</span></h2>
    <label for="entityType">エンティティ型（半角英数字） <span class="en">/ Entity type (ASCII)</span></label>
    <input id="entityType" type="text" pattern="[A-Za-z][A-Za-z0-9]{0,63}" placeholder="BicycleParking">
    <label for="customTitle">データセット名 <span class="en">/ Dataset title</span></label>
    <input id="customTitle" type="text">
    <div class="table-wrap" tabindex="0" role="region" aria-label="列の対応 / Column mapping"><table id="mapping-table"><thead><tr><th scope="col">列 / column</th><th scope="col">属性名 / attribute</th><th scope="col">種類 / kind</th></tr></thead><tbody></tbody></table></div>
    <label for="idColumn">ID の列 <span class="en">/ ID column</span></label><select id="idColumn"></select>
    <label for="latColumn">緯度の列 <span class="en">/ Latitude column</span></label><select id="latColumn"></select>
    <label for="lonColumn">経度の列 <span class="en">/ Longitude column</span></label><select id="lonColumn"></select>
    <button type="button" id="apply-mapping">この対応で再検証 <span class="en">/ Validate with this mapping</span></button>
  </section>
  <button type="button" id="reanalyse">上の設定で再検証 <span class="en">/ Validate again with the settings above</span></button>
  <button type="button" id="download-report">検証結果をCSVでダウンロード <span class="en">/ Download report (CSV)</span></button>
  <h2>指摘事項 <span class="en">/ Issues</span></h2>
  <div class="table-wrap" tabindex="0" role="region" aria-label="指摘事項 / Issues"><table id="issues"><thead><tr><th scope="col">行</th><th scope="col">列</th><th scope="col">重要度</th><th scope="col">内容</th><th scope="col">変更前 → 変更後</th></tr></thead><tbody></tbody></table></div>
  <h2>先頭行のプレビュー <span class="en">/ Preview (original → normalised)</span></h2>
  <div class="table-wrap" tabindex="0" role="region" aria-label="プレビュー / Preview"><table id="preview"></table></div>
  <h2>位置 <span class="en">/ Map of points</span></h2>
  <div id="map"></div>
  <h2>NGSIv2 エンティティ <span class="en">/ Entities</span></h2>
  <pre id="entities" tabindex="0" aria-label="NGSIv2 エンティティ / Entities"></pre>
  <h2>登録済みデータとの差分 <span class="en">/ Difference from the registered dataset</span></h2>
  <p id="diff"></p>
  <form id="confirm-form">
    <h2>登録 <span class="en">/ Register</span></h2>
    <label for="title">タイトル <span class="en">/ Title</span></label><input id="title" name="title" type="text">
    <label for="description">説明 <span class="en">/ Description</span></label><textarea id="description" name="description"></textarea>
    <label for="license">ライセンス <span class="en">/ Licence</span></label><input id="license" name="license" type="text" value="CC-BY-4.0">
    <label><input id="deleteMissing" name="deleteMissing" type="checkbox"> 今回のファイルにないエンティティを削除する <span class="en">/ Delete entities missing from this file</span></label>
    <button type="submit" id="confirm-button">確認して登録 <span class="en">/ Confirm and register</span></button>
  </form>
</section>
<div id="register-box" hidden>
  <label for="register-progress">登録の進み具合 <span class="en">/ Registration progress</span></label>
  <progress id="register-progress" max="100" value="0"></progress>
</div>
<p id="result" role="status" aria-live="polite"></p>
</main>
<script src="/admin/opendata/app.js"></script>
</body>
</html>`;
}

export function adminPageRoutes(ctx: ModuleContext) {
  const page = ctx.http.createRouter('/admin/opendata');
  page.route(
    { method: 'get', path: '/', summary: 'Open data upload page', tags: ['opendata'] },
    ctx.http.adminOnly,
    (_req, res) => {
      res.type('html').send(adminPageHtml());
    },
  );
  page.route(
    { method: 'get', path: '/app.js', summary: 'Script of the upload page', tags: ['opendata'] },
    ctx.http.adminOnly,
    (_req, res) => {
      res.type('text/javascript').send(SCRIPT);
    },
  );
  return page;
}

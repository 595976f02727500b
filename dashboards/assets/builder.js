// The chart builder (/admin/dashboards/builder): picks a view, dimensions, measures, filters and a
// chart type, previews the server-rendered figure, saves charts (new versions when editing),
// publishes them and arranges saved charts into dashboards — through /api/dashboards with the
// analyst's bearer token, which stays in this browser tab (sessionStorage) only, or, in the staff
// console, through the console's API (body data-api) with its form token (body data-csrf).
(function () {
  'use strict';
  const $ = (id) => document.getElementById(id);
  const catalogue = JSON.parse($('catalogue').textContent);
  const status = $('status');
  const tokenInput = $('token');
  const apiBase = document.body.dataset.api || '/api/dashboards';
  const csrf = document.body.dataset.csrf;
  const pagesBase = location.pathname.replace(/\/builder$/, '');
  if (tokenInput) tokenInput.value = sessionStorage.getItem('tsunagu-dashboards-token') || '';
  let editing = null; // { id, version }

  function say(text, isError) {
    status.textContent = text;
    status.className = isError ? 'error' : '';
  }

  function credentials() {
    if (csrf) return { 'x-csrf-token': csrf };
    const token = tokenInput.value.trim();
    if (!token) throw new Error('アクセストークンを入力してください / Enter an access token');
    sessionStorage.setItem('tsunagu-dashboards-token', token);
    return { authorization: 'Bearer ' + token };
  }

  async function api(method, path, body) {
    const res = await fetch(apiBase + path, {
      method,
      credentials: 'same-origin',
      headers: { ...credentials(), ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const data = res.status === 204 ? null : await res.json();
    if (!res.ok) throw new Error((data && (data.detail || data.title)) || 'HTTP ' + res.status);
    return data;
  }

  function view() {
    return catalogue.views.find((v) => v.name === $('view').value);
  }

  function option(value, label, selected) {
    const o = document.createElement('option');
    o.value = value;
    o.textContent = label || value;
    if (selected) o.selected = true;
    return o;
  }

  function checkbox(name, value, label, checked) {
    const l = document.createElement('label');
    l.className = 'check';
    const i = document.createElement('input');
    i.type = 'checkbox';
    i.name = name;
    i.value = value;
    i.checked = !!checked;
    l.append(i, document.createTextNode(label));
    return l;
  }

  function renderFields(def) {
    const v = view();
    const dims = $('dimension-list');
    dims.replaceChildren(
      ...Object.keys(v.dimensions).map((d) =>
        checkbox('dimension', d, d, def ? def.dimensions.includes(d) : false),
      ),
    );
    const measures = $('measure-list');
    measures.replaceChildren(
      ...Object.keys(v.measures).map((m) => {
        const chosen = def && def.measures.find((x) => x.column === m);
        const row = document.createElement('div');
        const box = checkbox('measure', m, m, !!chosen);
        const agg = document.createElement('select');
        agg.name = 'aggregate-' + m;
        agg.setAttribute('aria-label', '集計方法 / Aggregate: ' + m);
        for (const a of ['sum', 'avg', 'min', 'max'])
          agg.append(option(a, a, chosen ? chosen.aggregate === a : a === 'sum'));
        row.append(box, agg);
        return row;
      }),
    );
    $('filter-list').replaceChildren();
    for (const f of (def && def.filters) || []) addFilter(f);
    $('layer-field').hidden = $('chartType').value !== 'map';
  }

  let filterCount = 0;
  function addFilter(f) {
    const v = view();
    const n = ++filterCount;
    const row = document.createElement('div');
    row.className = 'filter';
    const column = document.createElement('select');
    column.setAttribute('aria-label', '絞り込む項目 / Filter column ' + n);
    for (const d of Object.keys(v.dimensions)) column.append(option(d, d, f && f.column === d));
    const op = document.createElement('select');
    op.setAttribute('aria-label', '条件 / Condition ' + n);
    for (const [o, label] of [
      ['eq', '= (eq)'],
      ['in', 'いずれか / in'],
      ['gte', '≥ (gte)'],
      ['lte', '≤ (lte)'],
    ])
      op.append(option(o, label, f && f.op === o));
    const value = document.createElement('input');
    value.setAttribute('aria-label', '値 / Value ' + n);
    value.value = f ? (Array.isArray(f.value) ? f.value.join(',') : String(f.value)) : '';
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.className = 'secondary';
    remove.textContent = '削除 / Remove';
    remove.addEventListener('click', () => row.remove());
    row.append(column, op, value, remove);
    $('filter-list').append(row);
  }

  function definition() {
    const form = $('chart-form');
    const dims = [...form.querySelectorAll('input[name=dimension]:checked')].map((i) => i.value);
    const measures = [...form.querySelectorAll('input[name=measure]:checked')].map((i) => ({
      column: i.value,
      aggregate: form.querySelector('select[name="aggregate-' + i.value + '"]').value,
    }));
    const filters = [...form.querySelectorAll('.filter')].map((row) => {
      const [column, op, value] = row.querySelectorAll('select, input');
      return {
        column: column.value,
        op: op.value,
        value: op.value === 'in' ? value.value.split(',').map((s) => s.trim()) : value.value.trim(),
      };
    });
    const d = { view: $('view').value, chartType: $('chartType').value, dimensions: dims, measures, filters };
    if (d.chartType === 'map') d.layer = $('layer').value;
    return d;
  }

  async function preview() {
    const d = definition();
    const { view: name, ...rest } = d;
    const out = await api('POST', '/views/' + name + '/preview', {
      ...rest,
      title: $('title').value || name,
    });
    $('preview').innerHTML = out.html; // server-rendered, escaped on the server
    say('プレビューを表示しました / Preview shown');
  }

  async function save() {
    const body = { title: $('title').value, definition: definition() };
    if (!body.title) throw new Error('タイトルを入力してください / Enter a title');
    const chart = editing
      ? await api('PUT', '/charts/' + editing.id, { ...body, expectedVersion: editing.version })
      : await api('POST', '/charts', body);
    editing = { id: chart.id, version: chart.version };
    say(
      '保存しました（グラフ ' +
        chart.id +
        '、版 ' +
        chart.version +
        '）/ Saved chart ' +
        chart.id +
        ' version ' +
        chart.version,
    );
    await loadCharts();
  }

  async function loadCharts() {
    const { charts } = await api('GET', '/charts');
    const list = $('chart-list');
    list.replaceChildren(
      ...charts.map((c) => {
        const li = document.createElement('li');
        li.dataset.chartId = c.id;
        const name = document.createElement('span');
        name.textContent = c.title + '（' + c.definition.chartType + '、版 ' + c.version + '）';
        const edit = document.createElement('button');
        edit.type = 'button';
        edit.className = 'secondary';
        edit.textContent = '編集 / Edit';
        edit.addEventListener('click', () => {
          editing = { id: c.id, version: c.version };
          $('title').value = c.title;
          $('view').value = c.definition.view;
          $('chartType').value = c.definition.chartType;
          if (c.definition.layer) $('layer').value = c.definition.layer;
          renderFields(c.definition);
          say('グラフ ' + c.id + ' を編集中 / Editing chart ' + c.id);
        });
        const publish = document.createElement('button');
        publish.type = 'button';
        publish.textContent = '公開 / Publish';
        publish.addEventListener('click', () =>
          run(async () => {
            const p = await api('POST', '/charts/' + c.id + '/publications', {
              audience: $('audience').value,
            });
            const url = location.origin + p.url;
            const out = document.createElement('p');
            out.className = 'published';
            out.textContent =
              '公開URL / Public URL: ' +
              url +
              '/page — 埋め込み / Embed: <iframe src="' +
              url +
              '/embed"></iframe>';
            li.append(out);
            say('公開しました（k=' + p.k + '）/ Published (k=' + p.k + ')');
          }),
        );
        const board = checkbox(
          'board-chart',
          String(c.id),
          'ダッシュボードに入れる / Add to dashboard',
          false,
        );
        li.append(name, ' ', edit, ' ', publish, board);
        return li;
      }),
    );
  }

  async function createBoard() {
    const ids = [...document.querySelectorAll('input[name=board-chart]:checked')].map((i) => Number(i.value));
    const width = Number($('board-width').value);
    const perRow = Math.floor(12 / width);
    const layout = ids.map((chartId, i) => ({
      chartId,
      x: (i % perRow) * width,
      y: Math.floor(i / perRow) * 4,
      w: width,
      h: 4,
    }));
    const board = await api('POST', '/boards', {
      slug: $('board-slug').value,
      title: $('board-title').value,
      layout,
    });
    const link = document.createElement('a');
    link.href = pagesBase + '/boards/' + board.id;
    link.textContent = board.title;
    $('board-link').replaceChildren('作成しました / Created: ', link);
    say('ダッシュボードを作成しました / Dashboard created');
  }

  async function run(fn) {
    try {
      await fn();
    } catch (e) {
      say(String(e.message || e), true);
    }
  }

  $('view').addEventListener('change', () => renderFields());
  $('chartType').addEventListener('change', () => {
    $('layer-field').hidden = $('chartType').value !== 'map';
  });
  $('add-filter').addEventListener('click', () => addFilter());
  $('preview-button').addEventListener('click', () => run(preview));
  $('new-chart').addEventListener('click', () => {
    editing = null;
    $('chart-form').reset();
    renderFields();
    say('新しいグラフ / New chart');
  });
  $('chart-form').addEventListener('submit', (e) => {
    e.preventDefault();
    run(save);
  });
  $('load-charts').addEventListener('click', () => run(loadCharts));
  $('board-form').addEventListener('submit', (e) => {
    e.preventDefault();
    run(createBoard);
  });
  renderFields();
})();

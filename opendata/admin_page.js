// The upload page's script: upload with progress, render the report, confirm. Text is only ever
// inserted with textContent (file contents are untrusted).
const $ = (id) => document.getElementById(id);
const SEVERITY = { error: 'エラー / error', warning: '警告 / warning', info: '情報 / info' };
let current = null;
let rules = {};

const tokenInput = $('token');
tokenInput.value = sessionStorage.getItem('opendata-token') ?? '';
const auth = () => ({ Authorization: `Bearer ${tokenInput.value}` });

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

function problemText(body) {
  if (body && typeof body === 'object') return `${body.title ?? ''}: ${body.detail ?? ''}`;
  return String(body);
}

function renderSummary(upload) {
  const r = upload.report;
  const dl = $('summary');
  dl.replaceChildren();
  const items = [
    ['ファイル / File', `${upload.fileName} (${upload.bytes} bytes)`],
    ['文字コード / Encoding', `${r.encoding}${r.bom ? ' (BOM)' : ''}`],
    [
      'データセット / Dataset',
      r.dataset
        ? `${r.dataset.title} (${r.dataset.id}, 一致度 score ${r.dataset.score})`
        : `判定できませんでした / not recognised (候補 candidates: ${r.candidates.map((c) => `${c.title} ${c.score}`).join(', ')})`,
    ],
    ['見出し行 / Header line', `${r.headerLine}行目`],
    ['読み込んだ行 / Rows read', String(r.rowsRead)],
    ['登録できる行 / Valid rows', String(r.rowsValid)],
    ['エラーのある行 / Rows with errors', String(r.rowsInvalid)],
    [
      'エラー・警告・修正 / Errors, warnings, repairs',
      `${r.counts.errors} / ${r.counts.warnings} / ${r.counts.repairs}`,
    ],
  ];
  for (const [k, v] of items) {
    dl.append(el('dt', k), el('dd', v));
  }
}

function renderIssues(r) {
  const body = $('issues').tBodies[0];
  body.replaceChildren();
  for (const i of r.issues.slice(0, 500)) {
    const tr = el('tr', undefined, i.severity);
    const text = rules[i.rule] ? `${rules[i.rule].ja} / ${rules[i.rule].en}` : i.rule;
    const change =
      i.before !== undefined || i.after !== undefined ? `${i.before ?? ''} → ${i.after ?? ''}` : '';
    tr.append(
      el('td', `${i.line}行目`),
      el('td', i.column ?? ''),
      el('td', SEVERITY[i.severity]),
      el('td', text),
      el('td', change),
    );
    body.append(tr);
  }
}

function renderPreview(r) {
  const table = $('preview');
  table.replaceChildren();
  const head = el('tr');
  head.append(el('th', '行 / line'));
  for (const c of r.columns) head.append(el('th', c.header));
  const thead = el('thead');
  thead.append(head);
  const tbody = el('tbody');
  for (const row of r.preview) {
    const a = el('tr');
    const b = el('tr');
    a.append(el('th', `${row.line}（元 / original）`));
    b.append(el('th', `${row.line}（変換後 / normalised）${row.valid ? '' : ' ✗'}`));
    row.original.forEach((v, k) => {
      a.append(el('td', v));
      b.append(el('td', row.normalised[k], row.normalised[k] !== v ? 'changed' : undefined));
    });
    tbody.append(a, b);
  }
  table.append(thead, tbody);
}

function renderMap(r) {
  const points = r.preview.flatMap((p) => (p.entity?.location ? [p.entity.location.value.coordinates] : []));
  const box = $('map');
  box.replaceChildren();
  if (points.length === 0) {
    box.append(el('p', '位置情報のある行はありません / No points'));
    return;
  }
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 300 200');
  svg.setAttribute('width', '300');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', `${points.length}地点の位置 / ${points.length} points`);
  const lons = points.map((p) => p[0]);
  const lats = points.map((p) => p[1]);
  const [x0, x1, y0, y1] = [Math.min(...lons), Math.max(...lons), Math.min(...lats), Math.max(...lats)];
  const frame = document.createElementNS(ns, 'rect');
  frame.setAttribute('width', '300');
  frame.setAttribute('height', '200');
  frame.setAttribute('fill', '#eef5ff');
  svg.append(frame);
  for (const [lon, lat] of points) {
    const c = document.createElementNS(ns, 'circle');
    c.setAttribute('cx', String(20 + (x1 > x0 ? ((lon - x0) / (x1 - x0)) * 260 : 130)));
    c.setAttribute('cy', String(180 - (y1 > y0 ? ((lat - y0) / (y1 - y0)) * 160 : 80)));
    c.setAttribute('r', '5');
    c.setAttribute('fill', '#b3261e');
    svg.append(c);
  }
  box.append(svg);
}

function renderSuggestions(r) {
  const list = $('suggestions');
  list.replaceChildren();
  for (const s of r.suggestions) {
    const li = el('li');
    if (s.kind === 'header-line') {
      li.append(
        el(
          'span',
          `見出し行を${s.line}行目と判定し、${r.metadataLines.join('・')}行目を読み飛ばしました。違う場合は「見出し行」を変えて再検証してください。 / Header taken from line ${s.line}.`,
        ),
      );
    } else {
      const button = el('button', `「${s.column}」列を除外して再検証 / Leave out column ${s.column}`);
      button.type = 'button';
      button.addEventListener('click', () => {
        const current = $('dropColumns').value.split(',').filter(Boolean);
        $('dropColumns').value = [...current, s.column].join(',');
        reanalyse();
      });
      li.append(button);
    }
    list.append(li);
  }
}

const KINDS = [
  'text',
  'number',
  'date',
  'time',
  'phone',
  'url',
  'list',
  'flag',
  'umu',
  'kana',
  'code6',
  'corporate',
  'id',
];
let mapping = null;

function suggestAttr(header, i) {
  const ascii = header.replace(/[^A-Za-z0-9_]/g, '');
  return /^[A-Za-z]/.test(ascii) ? ascii.slice(0, 64) : `col${i + 1}`;
}

function renderMapping(r) {
  $('mapping').hidden = !r.needsMapping;
  if (!r.needsMapping) return;
  const headers = r.columns.filter((c) => c.attr).map((c) => c.header);
  const body = $('mapping-table').tBodies[0];
  body.replaceChildren();
  headers.forEach((h, i) => {
    const tr = el('tr');
    const attr = el('input');
    attr.type = 'text';
    attr.value = suggestAttr(h, i);
    attr.setAttribute('aria-label', `「${h}」の属性名 / attribute for ${h}`);
    attr.dataset.header = h;
    const kind = el('select');
    kind.setAttribute('aria-label', `「${h}」の種類 / kind of ${h}`);
    for (const k of KINDS) kind.append(new Option(k, k));
    tr.append(el('th', h), el('td'), el('td'));
    tr.children[1].append(attr);
    tr.children[2].append(kind);
    body.append(tr);
  });
  for (const id of ['idColumn', 'latColumn', 'lonColumn']) {
    const select = $(id);
    select.replaceChildren(new Option('（なし / none）', ''));
    for (const h of headers) select.append(new Option(h, h));
  }
}

$('apply-mapping').addEventListener('click', () => {
  const rows = [...$('mapping-table').tBodies[0].rows];
  mapping = {
    entityType: $('entityType').value,
    columns: rows.map((tr) => ({
      header: tr.querySelector('input').dataset.header,
      attr: tr.querySelector('input').value,
      kind: tr.querySelector('select').value,
    })),
  };
  if ($('customTitle').value) mapping.title = $('customTitle').value;
  for (const id of ['idColumn', 'latColumn', 'lonColumn']) if ($(id).value) mapping[id] = $(id).value;
  reanalyse();
});

function choices() {
  const out = {};
  for (const name of ['encoding', 'dataset', 'municipalityCode']) {
    const v = $(name).value;
    if (v && v !== 'auto') out[name] = v;
  }
  if ($('headerLine').value) out.headerLine = Number($('headerLine').value);
  const drop = $('dropColumns')
    .value.split(',')
    .map((c) => c.trim())
    .filter(Boolean);
  if (drop.length) out.dropColumns = drop;
  if (mapping) out.custom = mapping;
  return out;
}

async function reanalyse() {
  $('status').textContent = '再検証中… / Validating again…';
  const res = await fetch(`/api/opendata/uploads/${current.id}/analyse`, {
    method: 'POST',
    headers: { ...auth(), 'Content-Type': 'application/json' },
    body: JSON.stringify(choices()),
  });
  const body = await res.json();
  if (!res.ok) {
    $('status').textContent = `エラー / Error ${res.status} — ${problemText(body)}`;
    return;
  }
  $('status').textContent = '再検証しました。 / Validated again.';
  render(body);
}

$('reanalyse').addEventListener('click', () => reanalyse());

function render(upload) {
  current = upload;
  const r = upload.report;
  renderSummary(upload);
  renderSuggestions(r);
  renderMapping(r);
  renderIssues(r);
  renderPreview(r);
  renderMap(r);
  $('entities').textContent = JSON.stringify(
    r.preview
      .filter((p) => p.entity)
      .slice(0, 3)
      .map((p) => p.entity),
    null,
    2,
  );
  $('title').value = r.dataset?.title ?? '';
  $('confirm-form').hidden = !r.dataset;
  $('report').hidden = false;
  $('diff').textContent = '';
  if (!r.dataset) return;
  $('diff').textContent = '差分を計算中… / Computing…';
  fetch(`/api/opendata/uploads/${upload.id}/diff`, { headers: auth() })
    .then((res) => res.json())
    .then((d) => {
      $('diff').textContent =
        `新規 ${d.new}件・変更 ${d.changed}件・変更なし ${d.unchanged}件・今回のファイルにない ${d.missing}件 ` +
        `/ new ${d.new}, changed ${d.changed}, unchanged ${d.unchanged}, missing ${d.missing}`;
    })
    .catch(() => {
      $('diff').textContent = '';
    });
}

$('upload-form').addEventListener('submit', (event) => {
  event.preventDefault();
  sessionStorage.setItem('opendata-token', tokenInput.value);
  const file = $('file').files[0];
  if (!file) return;
  mapping = null;
  const q = new URLSearchParams({ fileName: file.name });
  for (const [name, v] of Object.entries(choices())) q.set(name, Array.isArray(v) ? v.join(',') : String(v));
  $('report').hidden = true;
  $('result').textContent = '';
  $('progress-box').hidden = false;
  $('progress').value = 0;
  $('status').textContent = '送信中… / Uploading…';
  const xhr = new XMLHttpRequest();
  xhr.open('POST', `/api/opendata/uploads?${q}`);
  xhr.setRequestHeader('Authorization', auth().Authorization);
  xhr.setRequestHeader('Content-Type', 'text/csv');
  xhr.upload.onprogress = (e) => {
    if (e.lengthComputable) $('progress').value = Math.round((e.loaded / e.total) * 100);
  };
  xhr.upload.onload = () => {
    $('progress').value = 100;
    $('status').textContent = '検証中… / Validating…';
  };
  xhr.onload = () => {
    const body = JSON.parse(xhr.responseText || 'null');
    if (xhr.status === 201) {
      $('status').textContent =
        `検証が終わりました。内容を確認して登録してください。 / Validated: review and confirm.`;
      render(body);
    } else {
      $('status').textContent = `エラー / Error ${xhr.status} — ${problemText(body)}`;
    }
  };
  xhr.onerror = () => {
    $('status').textContent = '送信できませんでした / Upload failed';
  };
  xhr.send(file);
});

$('download-report').addEventListener('click', async () => {
  const res = await fetch(`/api/opendata/uploads/${current.id}/report.csv`, { headers: auth() });
  const url = URL.createObjectURL(await res.blob());
  const a = el('a');
  a.href = url;
  a.download = `report-${current.id}.csv`;
  a.click();
  URL.revokeObjectURL(url);
});

$('confirm-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  $('result').textContent = '登録中… / Registering…';
  const body = {
    title: $('title').value,
    description: $('description').value,
    license: $('license').value,
    deleteMissing: $('deleteMissing').checked,
  };
  const res = await fetch(`/api/opendata/uploads/${current.id}/confirm`, {
    method: 'POST',
    headers: { ...auth(), 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  let out = await res.json();
  if (!res.ok) {
    $('result').textContent = `エラー / Error ${res.status} — ${problemText(out)}`;
    return;
  }
  $('register-box').hidden = false;
  while (out.status === 'registering') {
    const reg = out.registration ?? {};
    if (reg.total) $('register-progress').value = Math.round(((reg.written ?? 0) / reg.total) * 100);
    $('result').textContent = `登録中… ${reg.written ?? 0}件 / Registering… ${reg.written ?? 0}`;
    await new Promise((r) => setTimeout(r, 500));
    out = await (await fetch(`/api/opendata/uploads/${current.id}`, { headers: auth() })).json();
  }
  const reg = out.registration;
  if (out.status !== 'registered') {
    $('result').textContent = `登録に失敗しました / Registration failed — ${reg?.error ?? ''}`;
    return;
  }
  $('register-progress').value = 100;
  $('result').textContent =
    `${reg.entities}件を登録しました（${reg.datasetId} 第${reg.version}版）。 / Registered ${reg.entities} entities.`;
  const link = el('a', `/v2/entities?type=${current.report.dataset.entityType}`);
  link.href = `/v2/entities?type=${encodeURIComponent(current.report.dataset.entityType)}&limit=100`;
  $('result').append(' ', link);
});

fetch('/api/opendata/rules')
  .then((r) => (r.ok ? r.json() : {}))
  .then((r) => {
    rules = r;
  })
  .catch(() => {});

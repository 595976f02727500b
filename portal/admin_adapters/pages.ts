/**
 * The adapters' console pages (HTML only): adapter status, inbox, outbox, dead letters with a retry
 * button, and the health-app import reports. Japanese first with English; tables scroll sideways on
 * a phone; times in JST.
 */
import type { AdapterStatus, ImportReport, InboxEntry, OutboxEntry } from '../../adapters/index.ts';
import { bi, escapeHtml, time } from '../shared/html.ts';

export const ADAPTERS_BASE = '/admin/adapters';

const when = (iso: string | null) => (iso ? escapeHtml(time(iso)) : '—');

export function subNav(current: string): string {
  const links: Array<[string, string, string]> = [
    [ADAPTERS_BASE, '状態', 'Status'],
    [`${ADAPTERS_BASE}/inbox`, '受信', 'Inbox'],
    [`${ADAPTERS_BASE}/outbox`, '送信', 'Outbox'],
    [`${ADAPTERS_BASE}/dead-letters`, '送信失敗', 'Dead letters'],
    [`${ADAPTERS_BASE}/imports`, '取込レポート', 'Import reports'],
  ];
  return `<nav aria-label="アダプター / Adapters"><ul class="actions">${links
    .map(
      ([href, ja, en]) =>
        `<li><a href="${href}"${href === current ? ' aria-current="page"' : ''}>${bi(ja, en)}</a></li>`,
    )
    .join('')}</ul></nav>`;
}

function table(caption: string, head: string[], rows: string[][], empty: string): string {
  if (rows.length === 0) return `<p>${empty}</p>`;
  return `<div class="table-wrap"><table><caption>${caption}</caption>
<thead><tr>${head.map((h) => `<th scope="col">${h}</th>`).join('')}</tr></thead>
<tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('\n')}</tbody></table></div>`;
}

function details(d: Record<string, unknown>): string {
  const entries = Object.entries(d);
  if (entries.length === 0) return '—';
  return entries
    .map(
      ([k, v]) =>
        `${escapeHtml(k)}: ${escapeHtml(typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v))}`,
    )
    .join('<br>');
}

export function statusBody(items: AdapterStatus[]): string {
  return `${subNav(ADAPTERS_BASE)}
${table(
  bi('アダプターの状態', 'Adapter status'),
  [
    bi('アダプター', 'Adapter'),
    bi('受信（24時間）', 'Inbox (24 h)'),
    bi('最終受信', 'Last event'),
    bi('送信待ち', 'Pending'),
    bi('送信失敗', 'Dead'),
    bi('最古の送信待ち', 'Oldest pending'),
    bi('詳細', 'Details'),
  ],
  items.map((a) => [
    `<strong>${escapeHtml(a.name)}</strong>`,
    String(a.inbox.last24h),
    when(a.inbox.lastReceivedAt),
    String(a.outbox.pending),
    a.outbox.dead > 0
      ? `<a href="${ADAPTERS_BASE}/dead-letters?adapter=${encodeURIComponent(a.name)}">${a.outbox.dead}</a>`
      : '0',
    when(a.outbox.oldestPendingAt),
    details(a.details),
  ]),
  bi('アダプターはありません。', 'No adapters.'),
)}`;
}

export function inboxBody(items: InboxEntry[]): string {
  return `${subNav(`${ADAPTERS_BASE}/inbox`)}
${table(
  bi('受信したイベント（新しい順）', 'Events acted on, newest first'),
  [
    bi('受信日時', 'Received'),
    bi('アダプター', 'Adapter'),
    bi('種類', 'Kind'),
    bi('イベントID', 'Event id'),
    bi('結果', 'Outcome'),
  ],
  items.map((e) => [
    when(e.receivedAt),
    escapeHtml(e.adapter),
    escapeHtml(e.kind),
    `<code>${escapeHtml(e.eventId)}</code>`,
    details(e.outcome),
  ]),
  bi('受信したイベントはまだありません。', 'No events yet.'),
)}`;
}

const STATUS: Record<string, [string, string]> = {
  pending: ['送信待ち', 'pending'],
  done: ['送信済み', 'done'],
  dead: ['送信失敗', 'dead'],
};

export function outboxBody(items: OutboxEntry[], retry?: (e: OutboxEntry) => string): string {
  const dead = retry !== undefined;
  return `${subNav(`${ADAPTERS_BASE}/${dead ? 'dead-letters' : 'outbox'}`)}
${table(
  dead
    ? bi('送信失敗（再送できます）', 'Dead letters (can be retried)')
    : bi('送信メッセージ（新しい順）', 'Outgoing messages, newest first'),
  [
    'ID',
    bi('アダプター', 'Adapter'),
    bi('種類', 'Kind'),
    bi('状態', 'Status'),
    bi('試行', 'Attempts'),
    bi('次の試行', 'Next attempt'),
    bi('最後のエラー', 'Last error'),
    bi('作成', 'Created'),
    ...(dead ? [bi('操作', 'Action')] : []),
  ],
  items.map((m) => [
    `<code>${escapeHtml(m.id)}</code>`,
    escapeHtml(m.adapter),
    escapeHtml(m.kind),
    bi(...(STATUS[m.status] ?? [m.status, m.status])),
    `${m.attempts} / ${m.maxAttempts}`,
    m.status === 'pending' ? when(m.nextAttemptAt) : '—',
    m.lastError ? `<code>${escapeHtml(m.lastError)}</code>` : '—',
    when(m.createdAt),
    ...(dead ? [retry(m)] : []),
  ]),
  dead
    ? bi('送信失敗はありません。', 'No dead letters.')
    : bi('送信メッセージはありません。', 'No messages.'),
)}`;
}

const IMPORT_STATUS: Record<string, [string, string]> = {
  pending: ['処理中', 'in progress'],
  done: ['完了', 'done'],
  failed: ['失敗', 'failed'],
  duplicate: ['取込済み', 'duplicate'],
};

export function importsBody(items: ImportReport[] | undefined): string {
  if (!items)
    return `${subNav(`${ADAPTERS_BASE}/imports`)}<p>${bi('健康アプリ連携が動いていません。', 'The health-app adapter is not running.')}</p>`;
  return `${subNav(`${ADAPTERS_BASE}/imports`)}
${table(
  bi('健康アプリの取込（新しい順）', 'Health-app imports, newest first'),
  [
    'ID',
    bi('ファイル', 'File'),
    bi('状態', 'Status'),
    bi('行数', 'Rows'),
    bi('付与行', 'Granted rows'),
    bi('付与ポイント', 'Points'),
    bi('重複', 'Duplicates'),
    bi('該当者なし', 'Unmatched'),
    bi('不正な行', 'Invalid'),
    bi('日時', 'When'),
  ],
  items.map((r) => [
    `<a href="${ADAPTERS_BASE}/imports/${encodeURIComponent(r.id)}">${escapeHtml(r.id)}</a>`,
    escapeHtml(r.fileName),
    bi(...(IMPORT_STATUS[r.status] ?? [r.status, r.status])),
    String(r.rows),
    String(r.grantedRows),
    String(r.grantedPoints),
    String(r.duplicates),
    String(r.unmatched),
    String(r.invalid),
    when(r.finishedAt ?? r.createdAt),
  ]),
  bi('取込はまだありません。', 'No imports yet.'),
)}`;
}

export function importBody(r: ImportReport): string {
  const unmatched = r.report.unmatchedLines ?? [];
  const invalid = r.report.invalidLines ?? [];
  return `${subNav(`${ADAPTERS_BASE}/imports`)}
<section class="card"><h2>${bi('取込', 'Import')} ${escapeHtml(r.id)}: ${escapeHtml(r.fileName)}</h2>
<p>${bi('状態', 'Status')}: ${bi(...(IMPORT_STATUS[r.status] ?? [r.status, r.status]))}${
    r.failure ? ` — <code>${escapeHtml(r.failure)}</code>` : ''
  }</p>
<p>${bi('付与', 'Granted')}: ${r.grantedRows} ${bi('行', 'rows')}, ${r.grantedPoints} pt; ${bi('重複', 'duplicates')} ${r.duplicates}; ${bi('0ポイントの行', 'rows worth 0 points')} ${r.zero}</p>
</section>
<section class="card"><h2>${bi('該当者が見つからない行', 'Rows with no matching resident')} (${r.unmatched})</h2>
<p>${unmatched.length ? `${bi('行番号', 'Line numbers')}: ${unmatched.join(', ')}` : bi('ありません。', 'None.')}</p>
<p class="hint">${bi(
    '住民がメールアドレスを連携した後、これらの行だけのファイルを取り込むと付与されます。',
    'Once the residents link their addresses, import a file with only these rows to grant them.',
  )}</p>
</section>
<section class="card"><h2>${bi('不正な行', 'Invalid rows')} (${r.invalid})</h2>
${table(
  bi('不正な行', 'Invalid rows'),
  [bi('行番号', 'Line'), bi('理由', 'Reason')],
  invalid.map((i) => [String(i.line), escapeHtml(i.reason)]),
  bi('ありません。', 'None.'),
)}
</section>`;
}

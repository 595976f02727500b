/**
 * Staff pages for municipal services (`/admin/services`, role `services`):
 *
 *   GET  /                           list, register form
 *   POST /                           register
 *   GET  /:id                        edit, retire, targets, relations
 *   POST /:id                        edit
 *   POST /:id/retire                 retire
 *   POST /:id/targets                add one target (common ID)
 *   POST /:id/targets/remove         remove one target
 *   POST /:id/targets/csv?csrf=…     add targets from an uploaded CSV (multipart)
 *   GET  /:id/search                 search residents by attributes
 *   POST /:id/targets/search         add every resident the search finds
 *   POST /:id/relations              relate two targets (watcher → watched, …)
 *   POST /:id/relations/remove       remove a relation
 */
import express, { type Request, type RequestHandler } from 'express';
import { ProblemError } from '../../core/index.ts';
import { csrfField, sendAdminPage, staffMember, statusLine } from '../admin/layout.ts';
import { field, formHandler, readUploadedFile } from '../admin/forms.ts';
import { bi, escapeHtml, time } from '../shared/html.ts';
import type { PortalContext } from '../shared/section.ts';
import { criteriaFields, criteriaOf, describeCriteria } from './criteria_form.ts';
import type { ResidentDirectory } from './resident_directory.ts';
import {
  COMMON_ID,
  type MunicipalService,
  RELATION_KINDS,
  type RelationKind,
  type ServiceRegistry,
} from './service_registry.ts';
import { parseTargetsCsv } from './targets_csv.ts';

export const SERVICES_ADMIN_BASE = '/admin/services';
const PAGE = 100;

const DONE: Record<string, [string, string]> = {
  created: ['サービスを登録しました。', 'Service registered.'],
  updated: ['サービスを更新しました。', 'Service updated.'],
  retired: ['サービスを廃止しました。', 'Service retired.'],
  added: ['対象者を追加しました。', 'Targets added.'],
  removed: ['対象者を外しました。', 'Target removed.'],
  related: ['関係を登録しました。', 'Relation recorded.'],
  unrelated: ['関係を削除しました。', 'Relation removed.'],
};

function doneLine(req: Request): string {
  const d = DONE[String(req.query['done'] ?? '')];
  const n = req.query['n'] !== undefined ? `（${Number(req.query['n'])}件 / ${Number(req.query['n'])}）` : '';
  return d ? statusLine(`${d[0]}${n}`, `${d[1]}${n ? ` (${Number(req.query['n'])})` : ''}`) : '';
}

const serviceFields = (s?: MunicipalService) => `${
  s
    ? ''
    : `<label for="code">${bi('コード（英小文字・数字・-・_）', 'Code (a–z, 0–9, -, _)')}</label>
<input type="text" id="code" name="code" required pattern="[a-z0-9][a-z0-9_\\-]{1,39}" autocomplete="off">`
}
<label for="nameJa">${bi('名称', 'Name (Japanese)')}</label>
<input type="text" id="nameJa" name="nameJa" required maxlength="200" value="${escapeHtml(s?.nameJa ?? '')}">
<label for="nameEn">${bi('英語名', 'Name (English)')}</label>
<input type="text" id="nameEn" name="nameEn" required maxlength="200" value="${escapeHtml(s?.nameEn ?? '')}">
<label for="descriptionJa">${bi('説明', 'Description')}</label>
<textarea id="descriptionJa" name="descriptionJa" maxlength="4000">${escapeHtml(s?.descriptionJa ?? '')}</textarea>`;

const statusText = (s: MunicipalService) =>
  s.status === 'active' ? bi('提供中', 'Active') : bi('廃止', 'Retired');

export function servicesStaffPages(
  p: PortalContext,
  registry: ServiceRegistry,
  directory: ResidentDirectory,
): RequestHandler {
  const router = express.Router();
  const base = SERVICES_ADMIN_BASE;
  // Forms are parsed here (the section leaves bodies unparsed for the CSV upload), before the gate reads the form token.
  router.use(express.urlencoded({ extended: false, limit: '1mb' }));
  router.use(p.requireStaff('services'));
  const actor = (res: express.Response) => `staff:${staffMember(res).staffId}`;
  const back = (req: Request) => (req.params['id'] ? `${base}/${req.params['id']}` : base);
  const id = (req: Request) => String(req.params['id']);
  /** Staff type or upload IDs: refuse the whole list when one is not an active resident. */
  const checkResidents = async (ids: readonly string[]) => {
    const unknown: number[] = [];
    for (let i = 0; i < ids.length; i += 16) {
      const chunk = ids.slice(i, i + 16);
      const active = await Promise.all(chunk.map((c) => p.idp.accounts.isActive(c).catch(() => false)));
      active.forEach((ok, j) => {
        if (!ok) unknown.push(i + j + 1);
      });
    }
    if (unknown.length)
      throw new ProblemError('validation-failed', {
        detail: `No active resident has the common ID in entr${unknown.length === 1 ? 'y' : 'ies'} ${unknown.slice(0, 10).join(', ')}${unknown.length > 10 ? ', …' : ''}; nobody was added.`,
      });
  };

  router.get('/', async (req, res) => {
    const list = await registry.list();
    sendAdminPage(req, res, {
      title: '自治体サービス',
      titleEn: 'Municipal services',
      body: `${doneLine(req)}
<div class="table-wrap"><table>
<caption>${bi('登録済みのサービス', 'Registered services')}</caption>
<thead><tr><th scope="col">${bi('名称', 'Name')}</th><th scope="col">${bi('コード', 'Code')}</th><th scope="col">${bi('対象者数', 'Targets')}</th><th scope="col">${bi('状態', 'Status')}</th></tr></thead>
<tbody>${
        list
          .map(
            (s) =>
              `<tr><td><a href="${base}/${escapeHtml(s.id)}">${escapeHtml(s.nameJa)}</a> <span class="en" lang="en">${escapeHtml(s.nameEn)}</span></td><td><code>${escapeHtml(s.code)}</code></td><td>${s.targetCount}</td><td>${statusText(s)}</td></tr>`,
          )
          .join('') || `<tr><td colspan="4">${bi('まだありません。', 'None yet.')}</td></tr>`
      }</tbody></table></div>
<section class="card"><h2>${bi('サービスを登録する', 'Register a service')}</h2>
<form method="post" action="${base}">${csrfField(res)}${serviceFields()}
<div class="actions"><button type="submit" id="create-service">${bi('登録する', 'Register')}</button></div></form></section>`,
    });
  });

  router.post(
    '/',
    formHandler(back, async (req, res) => {
      const s = await registry.create(
        {
          code: field(req, 'code'),
          nameJa: field(req, 'nameJa'),
          nameEn: field(req, 'nameEn'),
          descriptionJa: field(req, 'descriptionJa'),
        },
        actor(res),
      );
      res.redirect(303, `${base}/${s.id}?done=created`);
    }),
  );

  router.get('/:id', async (req, res, next) => {
    const s = await registry.get(id(req)).catch(() => undefined);
    if (!s) return next();
    const pageNo = Math.max(1, Math.min(Number.parseInt(String(req.query['page'] ?? '1'), 10) || 1, 100_000));
    const [targets, relations] = await Promise.all([
      registry.targets(s.id, { offset: (pageNo - 1) * PAGE, limit: PAGE }),
      registry.relations(s.id),
    ]);
    const pages = Math.max(1, Math.ceil(s.targetCount / PAGE));
    const pager =
      pages > 1
        ? `<nav aria-label="対象者のページ / Target pages" class="actions">${
            pageNo > 1
              ? `<a class="button secondary" rel="prev" href="${base}/${s.id}?page=${pageNo - 1}">${bi('前へ', 'Previous')}</a>`
              : ''
          }<span>${bi(`${pageNo} / ${pages}ページ`, `Page ${pageNo} of ${pages}`)}</span>${
            pageNo < pages
              ? `<a class="button secondary" rel="next" href="${base}/${s.id}?page=${pageNo + 1}">${bi('次へ', 'Next')}</a>`
              : ''
          }</nav>`
        : '';
    const active = s.status === 'active';
    const csrf = escapeHtml(staffMember(res).csrf);
    const kindOptions = Object.entries(RELATION_KINDS)
      .map(([k, v]) => `<option value="${k}">${escapeHtml(`${v.ja} / ${v.en}`)}</option>`)
      .join('');
    sendAdminPage(req, res, {
      title: s.nameJa,
      titleEn: s.nameEn,
      body: `${doneLine(req)}
<p><a href="${base}">${bi('サービスの一覧へ', 'All services')}</a></p>
<p class="meta">${bi('コード', 'Code')}: <code>${escapeHtml(s.code)}</code> ・ ${statusText(s)} ・ ${bi('登録', 'Registered')} ${time(s.createdAt)}${s.retiredAt ? ` ・ ${bi('廃止', 'Retired')} ${time(s.retiredAt)}` : ''}</p>
${
  active
    ? `<section class="card"><h2>${bi('サービスの内容', 'Details')}</h2>
<form method="post" action="${base}/${s.id}">${csrfField(res)}${serviceFields(s)}
<div class="actions"><button type="submit" id="update-service">${bi('更新する', 'Update')}</button></div></form>
<form method="post" action="${base}/${s.id}/retire">${csrfField(res)}
<div class="actions"><button type="submit" class="danger" id="retire-service">${bi('このサービスを廃止する', 'Retire this service')}</button></div></form></section>`
    : `<p>${escapeHtml(s.descriptionJa)}</p>`
}
<section class="card"><h2>${bi(`対象者（${s.targetCount}人）`, `Target residents (${s.targetCount})`)}</h2>
${
  active
    ? `<form method="post" action="${base}/${s.id}/targets">${csrfField(res)}
<label for="commonId">${bi('共通IDで1人追加', 'Add one by common ID')}</label>
<input type="text" id="commonId" name="commonId" required pattern="[a-z2-7]{26}" autocomplete="off">
<div class="actions"><button type="submit" id="add-target">${bi('追加する', 'Add')}</button></div></form>
<form method="post" action="${base}/${s.id}/targets/csv?csrf=${csrf}" enctype="multipart/form-data">
<label for="file">${bi('CSVファイルで一括追加（列 common_id、または1列目）', 'Add in bulk from a CSV file (column common_id, or the first column)')}</label>
<input type="file" id="file" name="file" accept=".csv,text/csv" required>
<div class="actions"><button type="submit" id="upload-targets">${bi('アップロードして追加', 'Upload and add')}</button></div></form>
<p><a class="button secondary" href="${base}/${s.id}/search" id="search-link">${bi('住民を検索して追加', 'Search residents to add')}</a></p>`
    : ''
}
<div class="table-wrap"><table>
<caption>${bi(`対象者（新しい順・1ページ${PAGE}人）`, `Targets (newest first, ${PAGE} a page)`)}</caption>
<thead><tr><th scope="col">${bi('共通ID', 'Common ID')}</th><th scope="col">${bi('追加方法', 'Added by')}</th><th scope="col">${bi('追加日時', 'Added')}</th><th scope="col"><span class="visually-hidden">${bi('操作', 'Action')}</span></th></tr></thead>
<tbody>${
        targets
          .map(
            (t) =>
              `<tr><td><code>${escapeHtml(t.commonId)}</code></td><td>${escapeHtml(t.source)}</td><td>${time(t.addedAt)}</td><td><form method="post" action="${base}/${s.id}/targets/remove">${csrfField(res)}<input type="hidden" name="commonId" value="${escapeHtml(t.commonId)}"><button type="submit" class="danger">${bi('外す', 'Remove')}<span class="visually-hidden"> ${escapeHtml(t.commonId)}</span></button></form></td></tr>`,
          )
          .join('') || `<tr><td colspan="4">${bi('まだいません。', 'None yet.')}</td></tr>`
      }</tbody></table></div>${pager}</section>
<section class="card"><h2>${bi('対象者の関係', 'Relationships')}</h2>
<div class="table-wrap"><table>
<caption>${bi('登録済みの関係', 'Recorded relationships')}</caption>
<thead><tr><th scope="col">${bi('種類', 'Kind')}</th><th scope="col">${bi('から', 'From')}</th><th scope="col">${bi('へ', 'To')}</th><th scope="col"><span class="visually-hidden">${bi('操作', 'Action')}</span></th></tr></thead>
<tbody>${
        relations
          .map(
            (r) =>
              `<tr><td>${bi(RELATION_KINDS[r.kind].ja, RELATION_KINDS[r.kind].en)}</td><td><code>${escapeHtml(r.from)}</code></td><td><code>${escapeHtml(r.to)}</code></td><td><form method="post" action="${base}/${s.id}/relations/remove">${csrfField(res)}<input type="hidden" name="relationId" value="${escapeHtml(r.id)}"><button type="submit" class="danger">${bi('削除', 'Remove')}<span class="visually-hidden"> ${escapeHtml(`${r.from} ${r.to}`)}</span></button></form></td></tr>`,
          )
          .join('') || `<tr><td colspan="4">${bi('まだありません。', 'None yet.')}</td></tr>`
      }</tbody></table></div>
${
  active
    ? `<form method="post" action="${base}/${s.id}/relations">${csrfField(res)}
<label for="kind">${bi('関係の種類', 'Kind')}</label><select id="kind" name="kind">${kindOptions}</select>
<label for="from">${bi('見守る人・保護者・支援者の共通ID', 'Watcher / guardian / supporter (common ID)')}</label>
<input type="text" id="from" name="from" required pattern="[a-z2-7]{26}" autocomplete="off">
<label for="to">${bi('見守られる人・子ども・支援を受ける人の共通ID', 'Watched / child / supported (common ID)')}</label>
<input type="text" id="to" name="to" required pattern="[a-z2-7]{26}" autocomplete="off">
<p class="hint">${bi('2人とも対象者である必要があります。', 'Both must be targets of the service.')}</p>
<div class="actions"><button type="submit" id="add-relation">${bi('関係を登録する', 'Record relationship')}</button></div></form>`
    : ''
}</section>`,
    });
  });

  router.post(
    '/:id',
    formHandler(back, async (req, res) => {
      await registry.update(
        id(req),
        {
          nameJa: field(req, 'nameJa'),
          nameEn: field(req, 'nameEn'),
          descriptionJa: field(req, 'descriptionJa'),
        },
        actor(res),
      );
      res.redirect(303, `${base}/${id(req)}?done=updated`);
    }),
  );

  router.post(
    '/:id/retire',
    formHandler(back, async (req, res) => {
      await registry.retire(id(req), actor(res));
      res.redirect(303, `${base}/${id(req)}?done=retired`);
    }),
  );

  router.post(
    '/:id/targets',
    formHandler(back, async (req, res) => {
      const commonId = field(req, 'commonId').toLowerCase();
      await registry.get(id(req));
      if (COMMON_ID.test(commonId)) await checkResidents([commonId]);
      const n = await registry.addTargets(id(req), [commonId], 'manual', actor(res));
      res.redirect(303, `${base}/${id(req)}?done=added&n=${n}`);
    }),
  );

  router.post(
    '/:id/targets/remove',
    formHandler(back, async (req, res) => {
      await registry.removeTarget(id(req), field(req, 'commonId'), actor(res));
      res.redirect(303, `${base}/${id(req)}?done=removed`);
    }),
  );

  router.post(
    '/:id/targets/csv',
    formHandler(back, async (req, res) => {
      await registry.get(id(req));
      const ids = parseTargetsCsv(await readUploadedFile(req, 'file'));
      await checkResidents(ids);
      const n = await registry.addTargets(id(req), ids, 'csv', actor(res));
      res.redirect(303, `${base}/${id(req)}?done=added&n=${n}`);
    }),
  );

  router.get(
    '/:id/search',
    formHandler(back, async (req, res) => {
      const s = await registry.get(id(req));
      const searched = Object.keys(req.query).length > 0;
      const criteria = criteriaOf(req.query);
      const count = searched ? await directory.count(criteria) : 0;
      if (searched)
        await p.ctx.audit.record({
          actor: actor(res),
          action: 'portal.directory.search',
          target: `service:${s.id}`,
          details: { criteria: Object.keys(criteria), found: count },
        });
      const hidden = Object.entries(criteria)
        .map(([k, v]) => `<input type="hidden" name="${k}" value="${escapeHtml(v)}">`)
        .join('');
      sendAdminPage(req, res, {
        title: `対象者の検索：${s.nameJa}`,
        titleEn: `Find targets: ${s.nameEn}`,
        body: `<p><a href="${base}/${s.id}">${bi('サービスに戻る', 'Back to the service')}</a></p>
<form method="get" action="${base}/${s.id}/search"><fieldset><legend>${bi('条件', 'Criteria')}</legend>
${criteriaFields(criteria)}
<input type="hidden" name="q" value="1">
<div class="actions"><button type="submit" id="search">${bi('検索する', 'Search')}</button></div></fieldset></form>
${
  searched
    ? `<section class="card"><h2>${bi('検索結果', 'Results')}</h2>
<p id="search-count" role="status">${bi(`「${describeCriteria(criteria)}」に当てはまる住民：${count}人`, `Residents matching: ${count}`)}</p>
${
  count > 0 && s.status === 'active'
    ? `<form method="post" action="${base}/${s.id}/targets/search">${csrfField(res)}${hidden}
<div class="actions"><button type="submit" id="add-found">${bi(`${count}人を対象者に追加する`, `Add all ${count} as targets`)}</button></div></form>`
    : ''
}</section>`
    : ''
}`,
      });
    }),
  );

  router.post(
    '/:id/targets/search',
    formHandler(back, async (req, res) => {
      const ids = await directory.search(criteriaOf(req.body));
      const n = ids.length ? await registry.addTargets(id(req), ids, 'search', actor(res)) : 0;
      res.redirect(303, `${base}/${id(req)}?done=added&n=${n}`);
    }),
  );

  router.post(
    '/:id/relations',
    formHandler(back, async (req, res) => {
      await registry.relate(
        id(req),
        {
          kind: field(req, 'kind') as RelationKind,
          from: field(req, 'from').toLowerCase(),
          to: field(req, 'to').toLowerCase(),
        },
        actor(res),
      );
      res.redirect(303, `${base}/${id(req)}?done=related`);
    }),
  );

  router.post(
    '/:id/relations/remove',
    formHandler(back, async (req, res) => {
      await registry.unrelate(id(req), field(req, 'relationId'), actor(res));
      res.redirect(303, `${base}/${id(req)}?done=unrelated`);
    }),
  );

  return router;
}

/**
 * Staff pages for surveys (`/admin/surveys`, role `surveys`) — the form builder and the exports:
 *
 *   GET  /                          surveys, new survey form
 *   POST /                          create (draft)
 *   GET  /:id                       questions (add, remove, move up while a draft), open, close, URL, exports
 *   POST /:id/questions             add a question
 *   POST /:id/questions/remove
 *   POST /:id/questions/up
 *   POST /:id/open | /:id/close
 *   GET  /:id/answers.csv           UTF-8 with BOM (Excel)       audited
 *   GET  /:id/answers.json                                       audited
 */
import express, { type Request, type RequestHandler } from 'express';
import { field, formHandler } from '../admin/forms.ts';
import { csrfField, sendAdminPage, staffMember, statusLine } from '../admin/layout.ts';
import { bi, escapeHtml, time } from '../shared/html.ts';
import type { PortalContext } from '../shared/section.ts';
import { answersCsv, answersJson } from './export.ts';
import { QUESTION_TYPES, type QuestionType, TYPE_LABELS } from './questions.ts';
import type { Survey, SurveyStore } from './survey_store.ts';

export const SURVEYS_ADMIN_BASE = '/admin/surveys';
export const SURVEYS_BASE = '/portal/surveys';

const STATUS: Record<Survey['status'], [string, string]> = {
  draft: ['下書き', 'Draft'],
  open: ['回答受付中', 'Open'],
  closed: ['終了', 'Closed'],
};

const DONE: Record<string, [string, string]> = {
  created: ['アンケートを作成しました。質問を追加してください。', 'Survey created. Add questions.'],
  added: ['質問を追加しました。', 'Question added.'],
  removed: ['質問を削除しました。', 'Question removed.'],
  moved: ['質問を移動しました。', 'Question moved.'],
  opened: ['回答の受付を始めました。', 'The survey is open.'],
  closed: ['回答の受付を終えました。', 'The survey is closed.'],
};

function optionalNumber(req: Request, name: string): number | undefined {
  const v = field(req, name);
  return v === '' ? undefined : Number(v);
}

export function surveysStaffPages(p: PortalContext, surveys: SurveyStore): RequestHandler {
  const router = express.Router();
  const base = SURVEYS_ADMIN_BASE;
  router.use(p.requireStaff('surveys'));
  const actor = (res: express.Response) => `staff:${staffMember(res).staffId}`;
  const id = (req: Request) => String(req.params['id']);
  const back = (req: Request) => (req.params['id'] ? `${base}/${id(req)}` : base);

  router.get('/', async (req, res) => {
    const list = await surveys.list();
    sendAdminPage(req, res, {
      title: 'アンケート',
      titleEn: 'Surveys',
      body: `<div class="table-wrap"><table>
<caption>${bi('アンケートの一覧', 'Surveys')}</caption>
<thead><tr><th scope="col">${bi('タイトル', 'Title')}</th><th scope="col">${bi('状態', 'Status')}</th><th scope="col">${bi('質問数', 'Questions')}</th><th scope="col">${bi('回答数', 'Answers')}</th></tr></thead>
<tbody>${
        list
          .map(
            (s) =>
              `<tr><td><a href="${base}/${escapeHtml(s.id)}">${escapeHtml(s.titleJa)}</a></td><td>${bi(...STATUS[s.status])}</td><td>${s.questions.length}</td><td>${s.answerCount}</td></tr>`,
          )
          .join('') || `<tr><td colspan="4">${bi('まだありません。', 'None yet.')}</td></tr>`
      }</tbody></table></div>
<section class="card"><h2>${bi('アンケートを作る', 'New survey')}</h2>
<form method="post" action="${base}">${csrfField(res)}
<label for="titleJa">${bi('タイトル', 'Title (Japanese)')}</label><input type="text" id="titleJa" name="titleJa" required maxlength="200">
<label for="titleEn">${bi('タイトル（英語）', 'Title (English)')}</label><input type="text" id="titleEn" name="titleEn" required maxlength="200">
<label for="descriptionJa">${bi('説明', 'Description (Japanese)')}</label><textarea id="descriptionJa" name="descriptionJa" maxlength="4000"></textarea>
<label for="descriptionEn">${bi('説明（英語）', 'Description (English)')}</label><textarea id="descriptionEn" name="descriptionEn" maxlength="4000"></textarea>
<div class="actions"><button type="submit" id="create-survey">${bi('作成する', 'Create')}</button></div></form></section>`,
    });
  });

  router.post(
    '/',
    formHandler(back, async (req, res) => {
      const s = await surveys.create(
        {
          titleJa: field(req, 'titleJa'),
          titleEn: field(req, 'titleEn'),
          descriptionJa: field(req, 'descriptionJa'),
          descriptionEn: field(req, 'descriptionEn'),
        },
        actor(res),
      );
      res.redirect(303, `${base}/${s.id}?done=created`);
    }),
  );

  router.get('/:id', async (req, res, next) => {
    const s = await surveys.get(id(req)).catch(() => undefined);
    if (!s) return next();
    const draft = s.status === 'draft';
    const done = DONE[String(req.query['done'] ?? '')];
    const url = `${p.ctx.config.publicUrl}${SURVEYS_BASE}/${s.id}`;
    const questions = s.questions
      .map(
        (
          q,
          i,
        ) => `<li><p><strong>${i + 1}. ${escapeHtml(q.labelJa)}</strong>${q.required ? ` <span>${bi('（必須）', '(required)')}</span>` : ''} <span class="en" lang="en">${escapeHtml(q.labelEn)}</span></p>
<p class="meta">${bi(...TYPE_LABELS[q.type])}${q.options ? `：${escapeHtml(q.options.map((o) => o.ja).join('、'))}` : ''}${q.type === 'number' && (q.min !== undefined || q.max !== undefined) ? `（${q.min ?? ''}〜${q.max ?? ''}）` : ''}</p>
${
  draft
    ? `<div class="actions"><form method="post" action="${base}/${s.id}/questions/up">${csrfField(res)}<input type="hidden" name="questionId" value="${q.id}"><button type="submit" class="secondary"${i === 0 ? ' disabled' : ''}>${bi('上へ', 'Move up')}<span class="visually-hidden"> ${escapeHtml(q.labelJa)}</span></button></form>
<form method="post" action="${base}/${s.id}/questions/remove">${csrfField(res)}<input type="hidden" name="questionId" value="${q.id}"><button type="submit" class="danger">${bi('削除', 'Remove')}<span class="visually-hidden"> ${escapeHtml(q.labelJa)}</span></button></form></div>`
    : ''
}</li>`,
      )
      .join('');
    sendAdminPage(req, res, {
      title: s.titleJa,
      titleEn: s.titleEn,
      body: `${done ? statusLine(...done) : ''}
<p><a href="${base}">${bi('アンケートの一覧へ', 'All surveys')}</a></p>
<p class="meta">${bi(...STATUS[s.status])} ・ ${bi(`回答 ${s.answerCount}件`, `${s.answerCount} answers`)}${s.openedAt ? ` ・ ${bi('開始', 'Opened')} ${time(s.openedAt)}` : ''}${s.closedAt ? ` ・ ${bi('終了', 'Closed')} ${time(s.closedAt)}` : ''}</p>
${
  s.status === 'draft'
    ? ''
    : `<section class="card"><h2>${bi('回答用URL', 'Answer URL')}</h2><p><a id="survey-url" href="${escapeHtml(url)}">${escapeHtml(url)}</a></p>
<p class="actions"><a class="button secondary" id="export-csv" href="${base}/${s.id}/answers.csv">${bi('CSVで出力（Excel）', 'Export CSV (Excel)')}</a>
<a class="button secondary" id="export-json" href="${base}/${s.id}/answers.json">${bi('JSONで出力', 'Export JSON')}</a></p></section>`
}
<section class="card"><h2>${bi('質問', 'Questions')}</h2>
${questions ? `<ol class="questions" id="questions" style="list-style:none;padding:0">${questions}</ol>` : `<p>${bi('まだ質問がありません。', 'No questions yet.')}</p>`}
${
  draft
    ? `<h3>${bi('質問を追加する', 'Add a question')}</h3>
<form method="post" action="${base}/${s.id}/questions">${csrfField(res)}
<label for="type">${bi('形式', 'Kind')}</label>
<select id="type" name="type">${QUESTION_TYPES.map((t) => `<option value="${t}">${escapeHtml(`${TYPE_LABELS[t][0]} / ${TYPE_LABELS[t][1]}`)}</option>`).join('')}</select>
<label for="labelJa">${bi('質問文', 'Question (Japanese)')}</label><input type="text" id="labelJa" name="labelJa" required maxlength="500">
<label for="labelEn">${bi('質問文（英語）', 'Question (English)')}</label><input type="text" id="labelEn" name="labelEn" required maxlength="500">
<label for="options">${bi('選択肢（選ぶ形式のみ・1行に1つ「日本語 / English」）', 'Options (choice kinds only; one per line: “日本語 / English”)')}</label>
<textarea id="options" name="options"></textarea>
<div class="inline">
<div><label for="min">${bi('最小値（数値のみ）', 'Minimum (numbers)')}</label><input type="number" id="min" name="min" step="any"></div>
<div><label for="max">${bi('最大値（数値のみ）', 'Maximum (numbers)')}</label><input type="number" id="max" name="max" step="any"></div>
</div>
<div class="choice"><input type="checkbox" id="required" name="required" value="1"><label for="required">${bi('必須にする', 'Required')}</label></div>
<div class="actions"><button type="submit" id="add-question">${bi('追加する', 'Add')}</button></div></form>`
    : ''
}</section>
${
  s.status === 'draft'
    ? `<form method="post" action="${base}/${s.id}/open">${csrfField(res)}<div class="actions"><button type="submit" id="open-survey">${bi('回答の受付を始める', 'Open for answers')}</button></div></form>`
    : s.status === 'open'
      ? `<form method="post" action="${base}/${s.id}/close">${csrfField(res)}<div class="actions"><button type="submit" class="danger" id="close-survey">${bi('回答の受付を終える', 'Close')}</button></div></form>`
      : ''
}`,
    });
  });

  router.post(
    '/:id/questions',
    formHandler(back, async (req, res) => {
      const min = optionalNumber(req, 'min');
      const max = optionalNumber(req, 'max');
      await surveys.addQuestion(
        id(req),
        {
          type: field(req, 'type') as QuestionType,
          labelJa: field(req, 'labelJa'),
          labelEn: field(req, 'labelEn'),
          required: field(req, 'required') === '1',
          optionLines: field(req, 'options'),
          ...(min === undefined ? {} : { min }),
          ...(max === undefined ? {} : { max }),
        },
        actor(res),
      );
      res.redirect(303, `${base}/${id(req)}?done=added`);
    }),
  );

  router.post(
    '/:id/questions/remove',
    formHandler(back, async (req, res) => {
      await surveys.removeQuestion(id(req), field(req, 'questionId'), actor(res));
      res.redirect(303, `${base}/${id(req)}?done=removed`);
    }),
  );

  router.post(
    '/:id/questions/up',
    formHandler(back, async (req, res) => {
      await surveys.moveQuestionUp(id(req), field(req, 'questionId'), actor(res));
      res.redirect(303, `${base}/${id(req)}?done=moved`);
    }),
  );

  router.post(
    '/:id/open',
    formHandler(back, async (req, res) => {
      await surveys.open(id(req), actor(res));
      res.redirect(303, `${base}/${id(req)}?done=opened`);
    }),
  );

  router.post(
    '/:id/close',
    formHandler(back, async (req, res) => {
      await surveys.close(id(req), actor(res));
      res.redirect(303, `${base}/${id(req)}?done=closed`);
    }),
  );

  router.get('/:id/answers.csv', async (req, res) => {
    const { survey, answers } = await surveys.exportAnswers(id(req), actor(res), 'csv');
    res
      .status(200)
      .type('text/csv; charset=utf-8')
      .setHeader('Cache-Control', 'no-store')
      .setHeader('Content-Disposition', `attachment; filename="survey-${survey.id}.csv"`)
      .send(answersCsv(survey, answers));
  });

  router.get('/:id/answers.json', async (req, res) => {
    const { survey, answers } = await surveys.exportAnswers(id(req), actor(res), 'json');
    res
      .status(200)
      .type('application/json')
      .setHeader('Cache-Control', 'no-store')
      .setHeader('Content-Disposition', `attachment; filename="survey-${survey.id}.json"`)
      .send(answersJson(survey, answers));
  });

  return router;
}

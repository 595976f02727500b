/**
 * The resident's surveys (`/portal/surveys`): open surveys with whether the resident answered, the
 * answer form (its URL is what staff hand out), and the answer. One answer per resident: a second
 * one is refused and changes nothing. A form with mistakes comes back with the resident's input, an
 * error summary linking to each question, and `aria-invalid` on the wrong ones.
 *
 *   GET  /       open surveys
 *   GET  /:id    the form (or: answered / closed)
 *   POST /:id    answer
 */
import express, { type Request, type RequestHandler, type Response } from 'express';
import { ProblemError } from '../../core/index.ts';
import { bi, escapeHtml, residentPage } from '../shared/html.ts';
import type { PortalContext } from '../shared/section.ts';
import { type Answers, type Question, readAnswers } from './questions.ts';
import { SURVEYS_BASE } from './staff_pages.ts';
import type { Survey, SurveyStore } from './survey_store.ts';

function questionField(q: Question, value: unknown, error: [string, string] | undefined): string {
  const name = `q_${q.id}`;
  const invalid = error ? ' aria-invalid="true"' : '';
  const describedBy = error ? ` aria-describedby="err-${q.id}"` : '';
  const req = q.required ? ` <span class="required">${bi('（必須）', '(required)')}</span>` : '';
  const err = error ? `<p class="error" id="err-${q.id}">${bi(...error)}</p>` : '';
  const values = (Array.isArray(value) ? value : value === undefined ? [] : [value]).map(String);
  if (q.type === 'single' || q.type === 'multiple') {
    const type = q.type === 'single' ? 'radio' : 'checkbox';
    return `<fieldset id="${name}"${describedBy}><legend>${bi(q.labelJa, q.labelEn)}${req}</legend>${err}
<ul class="checks">${q
      .options!.map(
        (o, i) =>
          `<li><input type="${type}" id="${name}-${i}" name="${name}" value="${escapeHtml(o.ja)}"${values.includes(o.ja) ? ' checked' : ''}${invalid}${type === 'radio' && q.required ? ' required' : ''}><label for="${name}-${i}">${bi(o.ja, o.en)}</label></li>`,
      )
      .join('')}</ul></fieldset>`;
  }
  const input =
    q.type === 'text'
      ? `<textarea id="${name}" name="${name}" maxlength="2000"${q.required ? ' required' : ''}${invalid}${describedBy}>${escapeHtml(values[0] ?? '')}</textarea>`
      : `<input type="${q.type === 'number' ? 'text' : 'date'}" id="${name}" name="${name}" value="${escapeHtml(values[0] ?? '')}"${q.type === 'number' ? ' inputmode="decimal"' : ''}${q.required ? ' required' : ''}${invalid}${describedBy}>`;
  return `<div class="question"><label for="${name}">${bi(q.labelJa, q.labelEn)}${req}</label>${err}${input}</div>`;
}

export function surveysResidentPages(p: PortalContext, surveys: SurveyStore): RequestHandler {
  const router = express.Router();
  const shell = { nav: p.residentNav, session: p.resident };
  const residentOf = (res: Response) => String(res.locals['resident']);

  router.use((req, res, next) => {
    const resident = p.resident.residentOf(req);
    if (!resident) return res.redirect(303, p.residentLoginUrl(req.originalUrl));
    res.locals['resident'] = resident;
    next();
  });

  const formPage = (
    req: Request,
    s: Survey,
    o: { values?: Record<string, unknown>; errors?: Record<string, [string, string]> } = {},
  ) => {
    const errors = o.errors ?? {};
    const summary = Object.keys(errors).length
      ? `<div class="error" role="alert" id="errors"><p>${bi('入力を確認してください。', 'Please check your answers.')}</p><ul>${s.questions
          .filter((q) => errors[q.id])
          .map((q) => `<li><a href="#q_${q.id}">${escapeHtml(q.labelJa)}</a></li>`)
          .join('')}</ul></div>`
      : '';
    return residentPage(shell, req, {
      title: s.titleJa,
      titleEn: s.titleEn,
      current: SURVEYS_BASE,
      body: `${summary}${s.descriptionJa ? `<p>${escapeHtml(s.descriptionJa)}</p>` : ''}${s.descriptionEn ? `<p lang="en" class="en">${escapeHtml(s.descriptionEn)}</p>` : ''}
<form method="post" action="${SURVEYS_BASE}/${escapeHtml(s.id)}" novalidate>
<input type="hidden" name="csrf" value="${escapeHtml(p.resident.csrfFor(req))}">
${s.questions.map((q) => questionField(q, o.values?.[`q_${q.id}`], errors[q.id])).join('\n')}
<div class="actions"><button type="submit" id="submit-answers">${bi('回答を送信する', 'Send answers')}</button></div>
</form>`,
    });
  };

  const notice = (req: Request, s: Survey, ja: string, en: string, id: string) =>
    residentPage(shell, req, {
      title: s.titleJa,
      titleEn: s.titleEn,
      current: SURVEYS_BASE,
      body: `<p class="status" role="status" id="${id}">${bi(ja, en)}</p><p><a href="${SURVEYS_BASE}">${bi('アンケートの一覧へ', 'All surveys')}</a></p>`,
    });

  router.get('/', async (req, res) => {
    const list = await surveys.listOpen();
    const answered = await Promise.all(list.map((s) => surveys.hasAnswered(s.id, residentOf(res))));
    res.type('html').send(
      residentPage(shell, req, {
        title: 'アンケート',
        titleEn: 'Surveys',
        current: SURVEYS_BASE,
        body: list.length
          ? `<ul class="items" id="surveys">${list
              .map(
                (s, i) =>
                  `<li><div class="item-head"><a href="${SURVEYS_BASE}/${escapeHtml(s.id)}">${bi(s.titleJa, s.titleEn)}</a><span class="state ${answered[i] ? 'state-given' : 'state-paused'}">${answered[i] ? bi('回答済み', 'Answered') : bi('未回答', 'Not answered')}</span></div></li>`,
              )
              .join('')}</ul>`
          : `<p>${bi('受付中のアンケートはありません。', 'No surveys are open.')}</p>`,
      }),
    );
  });

  router.get('/:id', async (req, res, next) => {
    const s = await surveys.get(String(req.params['id'])).catch(() => undefined);
    if (!s || s.status === 'draft') return next();
    if (s.status === 'closed')
      return res
        .type('html')
        .send(notice(req, s, 'このアンケートは終了しました。', 'This survey has closed.', 'closed'));
    if (await surveys.hasAnswered(s.id, residentOf(res)))
      return res
        .type('html')
        .send(
          notice(
            req,
            s,
            'このアンケートには回答済みです。ありがとうございました。',
            'You have answered this survey. Thank you.',
            'answered',
          ),
        );
    res.type('html').send(formPage(req, s));
  });

  router.post('/:id', async (req, res, next) => {
    const s = await surveys.get(String(req.params['id'])).catch(() => undefined);
    if (!s || s.status === 'draft') return next();
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (!p.resident.checkCsrf(req, body['csrf']))
      throw new ProblemError('forbidden', { detail: 'The form is out of date. Reload the page.' });
    const read = readAnswers(s.questions, body);
    if (!read.ok)
      return res
        .status(400)
        .type('html')
        .send(formPage(req, s, { values: body, errors: read.errors }));
    try {
      await surveys.answer(s.id, residentOf(res), read.answers as Answers);
    } catch (error) {
      if (error instanceof ProblemError && error.code === 'survey-answered')
        return res
          .status(409)
          .type('html')
          .send(
            notice(
              req,
              s,
              'このアンケートには回答済みです。回答は変更されていません。',
              'You have already answered; nothing was changed.',
              'answered',
            ),
          );
      if (error instanceof ProblemError && error.code === 'survey-not-open')
        return res
          .status(409)
          .type('html')
          .send(notice(req, s, 'このアンケートは終了しました。', 'This survey has closed.', 'closed'));
      throw error;
    }
    res
      .status(200)
      .type('html')
      .send(
        notice(
          req,
          s,
          '回答を受け付けました。ありがとうございました。',
          'Your answers were received. Thank you.',
          'thanks',
        ),
      );
  });

  return router;
}

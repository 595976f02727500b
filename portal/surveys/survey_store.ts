/**
 * Surveys (アンケート): staff build a form (draft), open it (it gets its URL under
 * `/portal/surveys/<id>`), residents answer once each, staff close it and export the answers.
 *
 * One answer per resident without keeping who answered: an answer row is keyed by a per-survey
 * pseudonym, HMAC-SHA256(key, survey id ‖ common ID) under a key derived from MASTER_KEY, so the
 * primary key refuses a second answer and the export names respondents only by that pseudonym.
 * Answers may hold personal text, so they are sealed (AES-256-GCM) at rest and opened only for the
 * export, which is audited. Questions can change only while the survey is a draft.
 *
 * @example
 *   const s = await surveys.create({ titleJa: '満足度調査', titleEn: 'Satisfaction', descriptionJa: '', descriptionEn: '' }, actor);
 *   await surveys.addQuestion(s.id, { type: 'single', labelJa: '満足度', labelEn: 'Satisfaction', required: true, optionLines: '満足 / Satisfied\n不満 / Unsatisfied' }, actor);
 *   await surveys.open(s.id, actor);
 *   await surveys.answer(s.id, commonId, { q1: '満足' });
 */
import { createHmac, randomUUID } from 'node:crypto';
import {
  type AuditLog,
  type Database,
  defineProblem,
  type Migration,
  openWith,
  ProblemError,
  sealWith,
} from '../../core/index.ts';
import { type Answers, checkQuestion, type Question, type QuestionType } from './questions.ts';

defineProblem('survey-not-found', { status: 404, title: 'No such survey' });
defineProblem('survey-not-draft', {
  status: 409,
  title: 'Questions change only while the survey is a draft',
});
defineProblem('survey-not-open', { status: 409, title: 'The survey is not open' });
defineProblem('survey-answered', { status: 409, title: 'You have already answered this survey' });
defineProblem('survey-no-questions', { status: 422, title: 'A survey needs at least one question to open' });

export const SURVEY_MIGRATIONS: Migration[] = [
  {
    id: '001_surveys',
    sql: `
      CREATE TABLE portal.surveys (
        id              text        PRIMARY KEY,
        title_ja        text        NOT NULL,
        title_en        text        NOT NULL,
        description_ja  text        NOT NULL DEFAULT '',
        description_en  text        NOT NULL DEFAULT '',
        questions       jsonb       NOT NULL DEFAULT '[]',
        status          text        NOT NULL CHECK (status IN ('draft', 'open', 'closed')),
        created_by      text        NOT NULL,
        created_at      timestamptz NOT NULL,
        opened_at       timestamptz,
        closed_at       timestamptz
      );
      -- One row per respondent: a per-survey pseudonym (never the common ID) and the sealed answers.
      CREATE TABLE portal.survey_answers (
        survey_id       text        NOT NULL REFERENCES portal.surveys (id),
        respondent      text        NOT NULL,
        sealed_answers  text        NOT NULL,
        answered_at     timestamptz NOT NULL,
        PRIMARY KEY (survey_id, respondent)
      );`,
  },
];

export type SurveyStatus = 'draft' | 'open' | 'closed';

export interface SurveyInput {
  titleJa: string;
  titleEn: string;
  descriptionJa: string;
  descriptionEn: string;
}

export interface Survey extends SurveyInput {
  id: string;
  questions: Question[];
  status: SurveyStatus;
  createdAt: string;
  openedAt: string | null;
  closedAt: string | null;
  answerCount: number;
}

export interface SurveyAnswer {
  respondent: string;
  answeredAt: string;
  answers: Answers;
}

export interface NewQuestion {
  type: QuestionType;
  labelJa: string;
  labelEn: string;
  required: boolean;
  optionLines?: string;
  min?: number;
  max?: number;
}

export interface SurveyStore {
  create(input: SurveyInput, actor: string): Promise<Survey>;
  get(id: string): Promise<Survey>;
  list(): Promise<Survey[]>;
  /** Open surveys, newest first. */
  listOpen(): Promise<Survey[]>;
  addQuestion(id: string, q: NewQuestion, actor: string): Promise<Survey>;
  removeQuestion(id: string, questionId: string, actor: string): Promise<Survey>;
  moveQuestionUp(id: string, questionId: string, actor: string): Promise<Survey>;
  open(id: string, actor: string): Promise<Survey>;
  close(id: string, actor: string): Promise<Survey>;
  hasAnswered(id: string, commonId: string): Promise<boolean>;
  /** Stores a resident's checked answers; refuses a second answer (`survey-answered`). */
  answer(id: string, commonId: string, answers: Answers): Promise<void>;
  /** Every answer, opened, in answering order; audited as an export by `actor`. */
  exportAnswers(
    id: string,
    actor: string,
    format: 'csv' | 'json',
  ): Promise<{ survey: Survey; answers: SurveyAnswer[] }>;
}

interface Row {
  id: string;
  title_ja: string;
  title_en: string;
  description_ja: string;
  description_en: string;
  questions: Question[];
  status: SurveyStatus;
  created_at: Date;
  opened_at: Date | null;
  closed_at: Date | null;
  answer_count: string;
}

const toSurvey = (r: Row): Survey => ({
  id: r.id,
  titleJa: r.title_ja,
  titleEn: r.title_en,
  descriptionJa: r.description_ja,
  descriptionEn: r.description_en,
  questions: r.questions,
  status: r.status,
  createdAt: r.created_at.toISOString(),
  openedAt: r.opened_at?.toISOString() ?? null,
  closedAt: r.closed_at?.toISOString() ?? null,
  answerCount: Number(r.answer_count),
});

const SELECT = `SELECT s.*, (SELECT count(*) FROM portal.survey_answers a WHERE a.survey_id = s.id) AS answer_count
                  FROM portal.surveys s`;

export function createSurveyStore(d: {
  db: Database;
  audit: AuditLog;
  now: () => Date;
  /** Key for respondent pseudonyms (32 bytes). */
  respondentKey: Buffer;
  /** Key sealing the answers (32 bytes). */
  answerKey: Buffer;
}): SurveyStore {
  const { db, audit, now } = d;
  const respondent = (surveyId: string, commonId: string) =>
    `r_${createHmac('sha256', d.respondentKey).update(`${surveyId}\u0000${commonId}`).digest('base64url').slice(0, 16)}`;

  const get = async (id: string) => {
    const { rows } = await db.query<Row>(`${SELECT} WHERE s.id = $1`, [id]);
    if (!rows[0]) throw new ProblemError('survey-not-found');
    return toSurvey(rows[0]);
  };

  /** Changes the questions of a draft in one transaction (row lock), with its audit entry. */
  const editQuestions = async (
    id: string,
    actor: string,
    action: string,
    change: (questions: Question[]) => Question[],
    details: Record<string, unknown>,
  ) => {
    await db.transaction(async (tx) => {
      const { rows } = await tx.query<{ status: SurveyStatus; questions: Question[] }>(
        'SELECT status, questions FROM portal.surveys WHERE id = $1 FOR UPDATE',
        [id],
      );
      if (!rows[0]) throw new ProblemError('survey-not-found');
      if (rows[0].status !== 'draft') throw new ProblemError('survey-not-draft');
      await tx.query('UPDATE portal.surveys SET questions = $2 WHERE id = $1', [
        id,
        JSON.stringify(change(rows[0].questions)),
      ]);
      await audit.recordInTransaction(tx, { actor, action, target: `survey:${id}`, details });
    });
    return get(id);
  };

  const transition = async (id: string, from: SurveyStatus, to: SurveyStatus, actor: string) => {
    await db.transaction(async (tx) => {
      const { rows } = await tx.query<{ status: SurveyStatus; questions: Question[] }>(
        'SELECT status, questions FROM portal.surveys WHERE id = $1 FOR UPDATE',
        [id],
      );
      if (!rows[0]) throw new ProblemError('survey-not-found');
      if (rows[0].status !== from)
        throw new ProblemError(from === 'draft' ? 'survey-not-draft' : 'survey-not-open');
      if (to === 'open' && rows[0].questions.length === 0) throw new ProblemError('survey-no-questions');
      await tx.query(
        `UPDATE portal.surveys SET status = $2, ${to === 'open' ? 'opened_at' : 'closed_at'} = $3 WHERE id = $1`,
        [id, to, now()],
      );
      await audit.recordInTransaction(tx, {
        actor,
        action: `portal.survey.${to === 'open' ? 'open' : 'close'}`,
        target: `survey:${id}`,
        details: {},
      });
    });
    return get(id);
  };

  return {
    async create(input, actor) {
      const errors: string[] = [];
      if (!input.titleJa.trim() || input.titleJa.length > 200)
        errors.push('titleJa: required, at most 200 characters');
      if (!input.titleEn.trim() || input.titleEn.length > 200)
        errors.push('titleEn: required, at most 200 characters');
      if (input.descriptionJa.length > 4000 || input.descriptionEn.length > 4000)
        errors.push('description: at most 4000 characters');
      if (errors.length) throw new ProblemError('validation-failed', { detail: errors.join('; '), errors });
      const id = randomUUID();
      await db.transaction(async (tx) => {
        await tx.query(
          `INSERT INTO portal.surveys (id, title_ja, title_en, description_ja, description_en, status, created_by, created_at)
           VALUES ($1, $2, $3, $4, $5, 'draft', $6, $7)`,
          [
            id,
            input.titleJa.trim(),
            input.titleEn.trim(),
            input.descriptionJa.trim(),
            input.descriptionEn.trim(),
            actor,
            now(),
          ],
        );
        await audit.recordInTransaction(tx, {
          actor,
          action: 'portal.survey.create',
          target: `survey:${id}`,
          details: {},
        });
      });
      return get(id);
    },
    get,
    async list() {
      const { rows } = await db.query<Row>(`${SELECT} ORDER BY s.created_at DESC`);
      return rows.map(toSurvey);
    },
    async listOpen() {
      const { rows } = await db.query<Row>(`${SELECT} WHERE s.status = 'open' ORDER BY s.opened_at DESC`);
      return rows.map(toSurvey);
    },
    addQuestion(id, q, actor) {
      return editQuestions(
        id,
        actor,
        'portal.survey.question-add',
        (questions) => {
          const next = questions.reduce((m, x) => Math.max(m, Number(x.id.slice(1)) || 0), 0) + 1;
          if (questions.length >= 100)
            throw new ProblemError('validation-failed', { detail: 'At most 100 questions.' });
          return [...questions, checkQuestion({ ...q, id: `q${next}` })];
        },
        { type: q.type },
      );
    },
    removeQuestion(id, questionId, actor) {
      return editQuestions(
        id,
        actor,
        'portal.survey.question-remove',
        (questions) => {
          if (!questions.some((x) => x.id === questionId))
            throw new ProblemError('validation-failed', { detail: 'No such question.' });
          return questions.filter((x) => x.id !== questionId);
        },
        { question: questionId },
      );
    },
    moveQuestionUp(id, questionId, actor) {
      return editQuestions(
        id,
        actor,
        'portal.survey.question-move',
        (questions) => {
          const i = questions.findIndex((x) => x.id === questionId);
          if (i === -1) throw new ProblemError('validation-failed', { detail: 'No such question.' });
          if (i === 0) return questions;
          const out = [...questions];
          [out[i - 1], out[i]] = [out[i]!, out[i - 1]!];
          return out;
        },
        { question: questionId },
      );
    },
    open: (id, actor) => transition(id, 'draft', 'open', actor),
    close: (id, actor) => transition(id, 'open', 'closed', actor),
    async hasAnswered(id, commonId) {
      const { rows } = await db.query(
        'SELECT 1 FROM portal.survey_answers WHERE survey_id = $1 AND respondent = $2',
        [id, respondent(id, commonId)],
      );
      return rows.length > 0;
    },
    async answer(id, commonId, answers) {
      const who = respondent(id, commonId);
      await db.transaction(async (tx) => {
        const { rows } = await tx.query<{ status: SurveyStatus }>(
          'SELECT status FROM portal.surveys WHERE id = $1 FOR SHARE',
          [id],
        );
        if (!rows[0]) throw new ProblemError('survey-not-found');
        if (rows[0].status !== 'open') throw new ProblemError('survey-not-open');
        const inserted = await tx.query(
          `INSERT INTO portal.survey_answers (survey_id, respondent, sealed_answers, answered_at) VALUES ($1, $2, $3, $4)
           ON CONFLICT DO NOTHING`,
          [id, who, sealWith(d.answerKey, `survey-answer:${id}:${who}`, JSON.stringify(answers)), now()],
        );
        if (!inserted.rowCount) throw new ProblemError('survey-answered');
      });
    },
    async exportAnswers(id, actor, format) {
      const survey = await get(id);
      const { rows } = await db.query<{ respondent: string; sealed_answers: string; answered_at: Date }>(
        'SELECT respondent, sealed_answers, answered_at FROM portal.survey_answers WHERE survey_id = $1 ORDER BY answered_at, respondent',
        [id],
      );
      await audit.record({
        actor,
        action: 'portal.survey.export',
        target: `survey:${id}`,
        details: { format, answers: rows.length },
      });
      return {
        survey,
        answers: rows.map((r) => ({
          respondent: r.respondent,
          answeredAt: r.answered_at.toISOString(),
          answers: JSON.parse(
            openWith(d.answerKey, `survey-answer:${id}:${r.respondent}`, r.sealed_answers),
          ) as Answers,
        })),
      };
    },
  };
}

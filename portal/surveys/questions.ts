/**
 * Survey questions and answers: the five kinds (single choice, multiple choice, text, number, date),
 * a question's definition checked when staff add it, and a resident's answers checked against the
 * questions (required, one of the options, number range, a real calendar date).
 */
import { ProblemError } from '../../core/index.ts';

export const QUESTION_TYPES = ['single', 'multiple', 'text', 'number', 'date'] as const;
export type QuestionType = (typeof QUESTION_TYPES)[number];

export const TYPE_LABELS: Record<QuestionType, [string, string]> = {
  single: ['ひとつ選ぶ', 'Single choice'],
  multiple: ['いくつでも選ぶ', 'Multiple choice'],
  text: ['文章', 'Text'],
  number: ['数値', 'Number'],
  date: ['日付', 'Date'],
};

export interface Question {
  id: string;
  type: QuestionType;
  labelJa: string;
  labelEn: string;
  required: boolean;
  /** Choices (single, multiple): Japanese and English. */
  options?: Array<{ ja: string; en: string }>;
  /** Number range. */
  min?: number;
  max?: number;
}

export type AnswerValue = string | number | string[];
export type Answers = Record<string, AnswerValue>;

/** Checks a question staff add; `options` are lines of `日本語 / English`. */
export function checkQuestion(q: Omit<Question, 'options'> & { optionLines?: string }): Question {
  const errors: string[] = [];
  if (!(QUESTION_TYPES as readonly string[]).includes(q.type)) errors.push('type: unknown');
  if (!q.labelJa.trim() || q.labelJa.length > 500) errors.push('labelJa: required, at most 500 characters');
  if (!q.labelEn.trim() || q.labelEn.length > 500) errors.push('labelEn: required, at most 500 characters');
  const out: Question = {
    id: q.id,
    type: q.type,
    labelJa: q.labelJa.trim(),
    labelEn: q.labelEn.trim(),
    required: q.required,
  };
  if (q.type === 'single' || q.type === 'multiple') {
    const options = (q.optionLines ?? '')
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter(Boolean)
      .map((l) => {
        const [ja, en] = l.split(/\s+\/\s+/);
        return { ja: ja!.trim(), en: (en ?? ja!).trim() };
      });
    if (options.length < 2 || options.length > 50) errors.push('options: 2 to 50 lines');
    if (new Set(options.map((o) => o.ja)).size !== options.length) errors.push('options: each once');
    out.options = options;
  }
  if (q.type === 'number') {
    if (q.min !== undefined && !Number.isFinite(q.min)) errors.push('min: a number');
    if (q.max !== undefined && !Number.isFinite(q.max)) errors.push('max: a number');
    if (q.min !== undefined && q.max !== undefined && q.min > q.max) errors.push('min is above max');
    if (q.min !== undefined) out.min = q.min;
    if (q.max !== undefined) out.max = q.max;
  }
  if (errors.length) throw new ProblemError('validation-failed', { detail: errors.join('; '), errors });
  return out;
}

function realDate(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

/**
 * A resident's answers from a form (`q_<id>` fields; repeated for multiple choice). Answers the
 * values, or the ids of the questions that are wrong with why (Japanese, English).
 */
export function readAnswers(
  questions: readonly Question[],
  form: Record<string, unknown>,
): { ok: true; answers: Answers } | { ok: false; errors: Record<string, [string, string]> } {
  const answers: Answers = {};
  const errors: Record<string, [string, string]> = {};
  for (const q of questions) {
    const raw = form[`q_${q.id}`];
    const values = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw])
      .map((v) => String(v).trim())
      .filter(Boolean);
    if (values.length === 0) {
      if (q.required) errors[q.id] = ['回答してください。', 'Please answer.'];
      continue;
    }
    switch (q.type) {
      case 'single':
        if (values.length !== 1 || !q.options!.some((o) => o.ja === values[0]))
          errors[q.id] = ['選択肢から1つ選んでください。', 'Choose one of the options.'];
        else answers[q.id] = values[0]!;
        break;
      case 'multiple':
        if (
          !values.every((v) => q.options!.some((o) => o.ja === v)) ||
          new Set(values).size !== values.length
        )
          errors[q.id] = ['選択肢から選んでください。', 'Choose from the options.'];
        else answers[q.id] = q.options!.map((o) => o.ja).filter((o) => values.includes(o));
        break;
      case 'text':
        if (values.length !== 1 || values[0]!.length > 2000)
          errors[q.id] = ['2000文字以内で入力してください。', 'At most 2000 characters.'];
        else answers[q.id] = values[0]!;
        break;
      case 'number': {
        const n = Number(values[0]!.normalize('NFKC'));
        if (
          values.length !== 1 ||
          !Number.isFinite(n) ||
          !/^-?\d+(\.\d+)?$/.test(values[0]!.normalize('NFKC'))
        )
          errors[q.id] = ['数値を入力してください。', 'Enter a number.'];
        else if ((q.min !== undefined && n < q.min) || (q.max !== undefined && n > q.max))
          errors[q.id] = [
            `${q.min ?? ''}〜${q.max ?? ''}の範囲で入力してください。`,
            `Between ${q.min ?? '…'} and ${q.max ?? '…'}.`,
          ];
        else answers[q.id] = n;
        break;
      }
      case 'date':
        if (values.length !== 1 || !realDate(values[0]!))
          errors[q.id] = ['日付を入力してください（例：2026-11-23）。', 'Enter a date (e.g. 2026-11-23).'];
        else answers[q.id] = values[0]!;
        break;
    }
  }
  return Object.keys(errors).length ? { ok: false, errors } : { ok: true, answers };
}

/**
 * Survey answers as files staff open in Excel or feed to analysis:
 *
 * - CSV: UTF-8 with a byte-order mark (Excel for Japanese Windows then reads UTF-8, not Shift_JIS),
 *   CRLF line ends, every field quoted (RFC 4180, quotes doubled). Columns: 回答者 (the per-survey
 *   pseudonym), 回答日時 (JST, `YYYY-MM-DD HH:MM:SS`), then one column per question headed by its
 *   Japanese label; multiple choices are joined with `; `. A cell that would start with `=`, `+`,
 *   `-`, `@`, tab or CR gets a leading `'` so Excel never runs it as a formula (text answers only:
 *   numbers stay numbers).
 * - JSON: the survey (questions with their ids, types and options) and the answers keyed by
 *   question id, times in UTC.
 */
import type { SurveyAnswer, Survey } from './survey_store.ts';

const JST = new Intl.DateTimeFormat('sv-SE', {
  timeZone: 'Asia/Tokyo',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

function cell(value: string, guard: boolean): string {
  const safe = guard && /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return `"${safe.replaceAll('"', '""')}"`;
}

export function answersCsv(survey: Survey, answers: readonly SurveyAnswer[]): Buffer {
  const header = ['回答者', '回答日時', ...survey.questions.map((q) => q.labelJa)].map((h) => cell(h, true));
  const lines = [header.join(',')];
  for (const a of answers) {
    const row = [cell(a.respondent, false), cell(JST.format(new Date(a.answeredAt)), false)];
    for (const q of survey.questions) {
      const v = a.answers[q.id];
      if (v === undefined) row.push('""');
      else if (typeof v === 'number') row.push(cell(String(v), false));
      else row.push(cell(Array.isArray(v) ? v.join('; ') : v, true));
    }
    lines.push(row.join(','));
  }
  return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`${lines.join('\r\n')}\r\n`, 'utf8')]);
}

export function answersJson(survey: Survey, answers: readonly SurveyAnswer[]): string {
  return JSON.stringify(
    {
      survey: {
        id: survey.id,
        titleJa: survey.titleJa,
        titleEn: survey.titleEn,
        status: survey.status,
        openedAt: survey.openedAt,
        closedAt: survey.closedAt,
        questions: survey.questions,
      },
      answers,
    },
    null,
    2,
  );
}

/**
 * The attribute criteria form (municipality, gender, age range) shared by the target search of
 * municipal services and the audience of notices: its fields and reading them back.
 */
import type { Request } from 'express';
import { ProblemError } from '../../core/index.ts';
import { bi, escapeHtml } from '../shared/html.ts';
import { type AudienceCriteria, GENDERS } from './resident_directory.ts';

const GENDER_LABELS: Record<string, [string, string]> = {
  male: ['男性', 'Male'],
  female: ['女性', 'Female'],
  other: ['その他', 'Other'],
};

export function criteriaFields(values: AudienceCriteria = {}, prefix = ''): string {
  const id = (n: string) => `${prefix}${n}`;
  return `<label for="${id('municipality')}">${bi('市区町村（例：鳥取市）', 'Municipality (e.g. 鳥取市)')}</label>
<input type="text" id="${id('municipality')}" name="municipality" value="${escapeHtml(values.municipality ?? '')}" autocomplete="off">
<label for="${id('gender')}">${bi('性別', 'Gender')}</label>
<select id="${id('gender')}" name="gender"><option value="">${escapeHtml('指定しない / Any')}</option>${GENDERS.map(
    (g) =>
      `<option value="${g}"${values.gender === g ? ' selected' : ''}>${escapeHtml(`${GENDER_LABELS[g]![0]} / ${GENDER_LABELS[g]![1]}`)}</option>`,
  ).join('')}</select>
<div class="inline">
<div><label for="${id('ageMin')}">${bi('年齢（以上）', 'Age from')}</label><input type="number" id="${id('ageMin')}" name="ageMin" min="0" max="130" value="${values.ageMin ?? ''}"></div>
<div><label for="${id('ageMax')}">${bi('年齢（以下）', 'Age to')}</label><input type="number" id="${id('ageMax')}" name="ageMax" min="0" max="130" value="${values.ageMax ?? ''}"></div>
</div>
<p class="hint">${bi('年齢は生まれた年で数えます（今年 − 生まれ年）。', 'Age is counted by birth year (this year minus the birth year).')}</p>`;
}

/** Criteria from a form or query (`source` is `req.body` or `req.query`). */
export function criteriaOf(source: Request['body'] | Request['query']): AudienceCriteria {
  const s = (source ?? {}) as Record<string, unknown>;
  const text = (n: string) => (typeof s[n] === 'string' ? (s[n] as string).trim() : '');
  const age = (n: string) => {
    const v = text(n);
    if (!v) return undefined;
    const a = Number(v);
    if (!Number.isInteger(a) || a < 0 || a > 130)
      throw new ProblemError('validation-failed', { detail: `${n}: a whole number from 0 to 130` });
    return a;
  };
  const out: AudienceCriteria = {};
  const municipality = text('municipality');
  if (municipality) {
    if (municipality.length > 60)
      throw new ProblemError('validation-failed', { detail: 'municipality: too long' });
    out.municipality = municipality;
  }
  const gender = text('gender');
  if (gender) {
    if (!(GENDERS as readonly string[]).includes(gender))
      throw new ProblemError('validation-failed', { detail: 'gender: male, female or other' });
    out.gender = gender as AudienceCriteria['gender'] & string;
  }
  const ageMin = age('ageMin');
  const ageMax = age('ageMax');
  if (ageMin !== undefined) out.ageMin = ageMin;
  if (ageMax !== undefined) out.ageMax = ageMax;
  if (ageMin !== undefined && ageMax !== undefined && ageMin > ageMax)
    throw new ProblemError('validation-failed', { detail: 'ageMin is above ageMax' });
  return out;
}

/** The criteria in words, for lists and confirmations. */
export function describeCriteria(c: AudienceCriteria): string {
  const parts: string[] = [];
  if (c.municipality) parts.push(c.municipality);
  if (c.gender) parts.push(GENDER_LABELS[c.gender]![0]);
  if (c.ageMin !== undefined || c.ageMax !== undefined) parts.push(`${c.ageMin ?? ''}〜${c.ageMax ?? ''}歳`);
  return parts.join('・') || 'すべて';
}

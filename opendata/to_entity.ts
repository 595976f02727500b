/**
 * Maps one validated row to an NGSIv2 entity (normalized form) that both the embedded broker and a
 * real Orion accept: ASCII ids and names, codes and phones as Text (leading zeros kept), counts as
 * Number, dates as DateTime, `;` lists as arrays, flags as Boolean, `location` as a geo:json Point.
 * An event's 開始日 + 開始時間 also become `startDateTime` (JST instant), likewise for the end.
 * Values with characters Orion forbids (`< > " ' = ; ( )`) are never stripped or encoded: their
 * column is typed `TextUnrestricted` as a whole, so the attribute type stays stable.
 */
import { createHash } from 'node:crypto';
import type { NgsiAttribute, NgsiEntity } from '../broker/index.ts';
import type { ColumnKind } from './standard_datasets.ts';

export const FORBIDDEN_VALUE_CHARS = /[<>"'=;()]/;
/** Orion identifiers: printable ASCII without space, `& ? / #` or the forbidden value characters. */
const SAFE_ID_PART = /^[\x21-\x7e]+$/;
const UNSAFE_ID_CHARS = /[&?/#<>"'=;()]/;

export interface ColumnOut {
  attr: string;
  kind: ColumnKind;
}

export function ngsiType(kind: ColumnKind, unrestricted: boolean): string {
  switch (kind) {
    case 'number':
      return 'Number';
    case 'date':
      return 'DateTime';
    case 'flag':
      return 'Boolean';
    case 'list':
      return unrestricted ? 'TextUnrestricted' : 'StructuredValue';
    default:
      return unrestricted ? 'TextUnrestricted' : 'Text';
  }
}

function attribute(kind: ColumnKind, value: string, unrestricted: boolean): NgsiAttribute {
  const type = ngsiType(kind, unrestricted);
  switch (kind) {
    case 'number':
      return { type, value: Number(value) };
    case 'flag':
      return { type, value: value === '1' };
    case 'list':
      return {
        type,
        value: value
          .split(';')
          .map((s) => s.trim())
          .filter(Boolean),
      };
    default:
      return { type, value };
  }
}

export function isUsableIdPart(s: string): boolean {
  return SAFE_ID_PART.test(s) && !UNSAFE_ID_CHARS.test(s) && s.length <= 128;
}

/** The entity id, or null when the row's ID cannot be used (the caller then derives one). */
export function entityIdFor(type: string, code: string, localId: string): string | null {
  if (!localId || !isUsableIdPart(localId)) return null;
  return `urn:ngsi-ld:${type}:${code ? `${code}:` : ''}${localId}`;
}

/** A deterministic id from what identifies a place when the file has no usable ID. */
export function derivedEntityId(type: string, code: string, parts: string[]): string {
  const hash = createHash('sha256')
    .update([type, code, ...parts].join('\u0000'))
    .digest('hex')
    .slice(0, 16);
  return `urn:ngsi-ld:${type}:${code ? `${code}:` : ''}h${hash}`;
}

export interface EntityInput {
  id: string;
  type: string;
  columns: ColumnOut[];
  /** Normalised values, parallel to `columns` ('' = empty, omitted). */
  values: string[];
  unrestricted: ReadonlySet<string>;
  location: { lat: number; lon: number } | null;
  provider: { code: string; dataset: string };
}

export function toEntity(input: EntityInput): NgsiEntity {
  const entity: NgsiEntity = { id: input.id, type: input.type };
  input.columns.forEach((col, i) => {
    const value = input.values[i] ?? '';
    if (value === '' && col.kind !== 'flag') return;
    entity[col.attr] = attribute(col.kind, value, input.unrestricted.has(col.attr));
  });
  for (const [date, time, out] of [
    ['startDate', 'startTime', 'startDateTime'],
    ['endDate', 'endTime', 'endDateTime'],
  ] as const) {
    const d = (entity[date] as NgsiAttribute | undefined)?.value;
    const t = (entity[time] as NgsiAttribute | undefined)?.value;
    if (typeof d !== 'string') continue;
    const hhmm = typeof t === 'string' && /^([01]\d|2[0-3]):[0-5]\d$/.test(t) ? t : null;
    // Calendar dates and times in the file are Japan time; the instant gets the +09:00 offset.
    if (hhmm) entity[out] = { type: 'DateTime', value: `${d}T${hhmm}:00+09:00` };
  }
  if (input.location) {
    entity['location'] = {
      type: 'geo:json',
      value: { type: 'Point', coordinates: [input.location.lon, input.location.lat] },
    };
  }
  if (input.provider.code) entity['dataProvider'] = { type: 'Text', value: input.provider.code };
  entity['source'] = { type: 'Text', value: input.provider.dataset };
  return entity;
}

/**
 * Orion's input rules: identifier syntax and lengths, forbidden characters in values, default
 * attribute types by JSON type, DateTime normalisation, and the shape of attributes in the
 * normalized and keyValues representations.
 */
import { badRequest } from './errors.ts';
import { isRawNumber } from './json.ts';
import type { JsonValue, Metadata } from './model.ts';

const MAX_ID = 256;
// Printable ASCII except space and the characters Orion forbids in identifiers.
const ID_CHARS = /^[\x21-\x7e]+$/;
const ID_FORBIDDEN = /[&?/#<>"'=;()]/;
const VALUE_FORBIDDEN = /[<>"'=;()]/;

type IdKind =
  'entity id' | 'entity type' | 'attribute name' | 'attribute type' | 'metadata name' | 'metadata type';

const INVALID_CHARS: Record<IdKind, string> = {
  'entity id': 'Invalid characters in entity id',
  'entity type': 'Invalid characters in entity type',
  'attribute name': 'Invalid characters in attribute name',
  'attribute type': 'Invalid characters in attribute type',
  'metadata name': 'Invalid characters in metadata name',
  'metadata type': 'Invalid characters in metadata type',
};

export function checkIdentifier(kind: IdKind, value: unknown): string {
  if (typeof value !== 'string') {
    if (kind === 'entity id') throw badRequest('Invalid JSON type for entity id');
    if (kind === 'entity type') throw badRequest('Invalid JSON type for entity type');
    throw badRequest(`invalid JSON type for ${kind}`);
  }
  if (value.length === 0) throw badRequest(`${kind} length: 0, min length supported: 1`);
  if (value.length > MAX_ID)
    throw badRequest(`${kind} length: ${value.length}, max length supported: ${MAX_ID}`);
  if (!ID_CHARS.test(value) || ID_FORBIDDEN.test(value)) throw badRequest(INVALID_CHARS[kind]);
  return value;
}

/** Identifiers taken from the URL path: same rules, Orion's URL-specific text for bad characters. */
export function checkUrlIdentifier(kind: IdKind, value: string): string {
  if (value.length > MAX_ID)
    throw badRequest(`${kind} length: ${value.length}, max length supported: ${MAX_ID}`);
  if (value.length === 0 || !ID_CHARS.test(value) || ID_FORBIDDEN.test(value)) {
    throw badRequest('invalid character in URI');
  }
  return value;
}

function checkValueChars(value: JsonValue, what: string): void {
  if (typeof value === 'string') {
    if (VALUE_FORBIDDEN.test(value)) throw badRequest(`Invalid characters in ${what}`);
  } else if (Array.isArray(value)) {
    for (const v of value) checkValueChars(v, what);
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (VALUE_FORBIDDEN.test(k)) throw badRequest(`Invalid characters in ${what}`);
      checkValueChars(v, what);
    }
  }
}

export function defaultType(value: JsonValue): string {
  if (value === null) return 'None';
  if (isRawNumber(value)) return 'Number';
  if (typeof value === 'string') return 'Text';
  if (typeof value === 'number') return 'Number';
  if (typeof value === 'boolean') return 'Boolean';
  return 'StructuredValue';
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}(:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** Parses an ISO 8601 date as Orion accepts it (no zone = UTC); null when invalid. */
export function parseDate(text: string): number | null {
  if (!ISO_DATE.test(text)) return null;
  const hasZone = /(Z|[+-]\d{2}:?\d{2})$/.test(text) && text.includes('T');
  const ms = Date.parse(hasZone ? text : `${text}${text.includes('T') ? '' : 'T00:00:00'}Z`);
  return Number.isNaN(ms) ? null : ms;
}

function normaliseValue(type: string, value: JsonValue, what: string): JsonValue {
  if (type === 'DateTime' && typeof value === 'string') {
    const ms = parseDate(value);
    if (ms === null) throw badRequest(`date has invalid format in ${what}`);
    return new Date(ms).toISOString();
  }
  if (type !== 'TextUnrestricted') checkValueChars(value, what);
  return value;
}

export interface InputAttr {
  type: string | undefined;
  value: JsonValue;
  metadata: Record<string, Metadata> | undefined;
}

function isObject(value: unknown): value is Record<string, JsonValue> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function parseMetadata(input: unknown): Record<string, Metadata> {
  if (!isObject(input)) throw badRequest('metadata must be a JSON object');
  const out: Record<string, Metadata> = {};
  for (const [name, md] of Object.entries(input)) {
    checkIdentifier('metadata name', name);
    if (!isObject(md)) throw badRequest('metadata must be a JSON object');
    const value = (md['value'] ?? null) as JsonValue;
    const type = md['type'] === undefined ? defaultType(value) : checkIdentifier('metadata type', md['type']);
    out[name] = { type, value: normaliseValue(type, value, 'metadata value') };
  }
  return out;
}

/** One attribute of a request body, in normalized form or (keyValues) as a bare value. */
export function parseAttr(name: string, input: unknown, keyValues: boolean): InputAttr {
  checkIdentifier('attribute name', name);
  if (keyValues) {
    const value = input as JsonValue;
    return {
      type: undefined,
      value: normaliseValue(defaultType(value), value, 'attribute value'),
      metadata: undefined,
    };
  }
  if (!isObject(input)) throw badRequest('attribute must be a JSON object, unless keyValues option is used');
  for (const key of Object.keys(input)) {
    if (key !== 'value' && key !== 'type' && key !== 'metadata') {
      throw badRequest(`unrecognized property for context attribute: ${key}`);
    }
  }
  const type = input['type'] === undefined ? undefined : checkIdentifier('attribute type', input['type']);
  const value = (input['value'] ?? null) as JsonValue;
  return {
    type,
    value: normaliseValue(type ?? defaultType(value), value, 'attribute value'),
    metadata: input['metadata'] === undefined ? undefined : parseMetadata(input['metadata']),
  };
}

/** The attributes of an entity-shaped body (id and type excluded). */
export function parseAttrs(body: Record<string, unknown>, keyValues: boolean): Map<string, InputAttr> {
  const attrs = new Map<string, InputAttr>();
  for (const [name, value] of Object.entries(body)) {
    if (name === 'id' || name === 'type') continue;
    attrs.set(name, parseAttr(name, value, keyValues));
  }
  return attrs;
}

export function asObject(body: unknown): Record<string, unknown> {
  if (!isObject(body)) throw badRequest('not a JSON object');
  return body;
}

/**
 * The Simple Query Language of `q` and `mq`: parsed once into a small tree, then either compiled to
 * a PostgreSQL condition over `broker.entities` (queries) or evaluated against an entity in memory
 * (subscription expressions). Both follow the same rules so a subscription fires exactly for the
 * entities a query with the same expression returns.
 *
 *   statement ; statement           AND
 *   path == v | v1,v2 | a..b        equal (`:` is a synonym), `!=` negates
 *   path < <= > >= v                numbers, strings, dates (DateTime attributes)
 *   path ~= regex                   pattern on strings
 *   path | !path                    existence
 *   a.b.c                           compound value path (q) or attribute.metadata (mq); 'quoted.dots'
 */
import { badRequest } from '../errors.ts';
import { isRawNumber, numberOf } from '../json.ts';
import type { Entity, JsonValue } from '../model.ts';
import { parseDate } from '../validate.ts';

export type Literal =
  | { kind: 'number'; n: number; text: string }
  | { kind: 'string'; s: string }
  | { kind: 'bool'; b: boolean }
  | { kind: 'date'; ms: number; text: string };

export interface Path {
  attr: string;
  md: string | undefined;
  sub: string[];
}

export type Op = '==' | '!=' | '<' | '<=' | '>' | '>=' | '~=';

export type Item =
  | { kind: 'exists'; negate: boolean; path: Path }
  | { kind: 'compare'; op: Op; path: Path; values: Literal[]; range: [Literal, Literal] | null };

const OPS: Array<[string, Op]> = [
  ['==', '=='],
  ['!=', '!='],
  ['>=', '>='],
  ['<=', '<='],
  ['~=', '~='],
  ['>', '>'],
  ['<', '<'],
  [':', '=='],
];

/** Splits on `sep` outside single quotes. */
function splitOutsideQuotes(text: string, sep: string): string[] {
  const parts: string[] = [];
  let quoted = false;
  let current = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "'") quoted = !quoted;
    if (!quoted && text.startsWith(sep, i)) {
      parts.push(current);
      current = '';
      i += sep.length - 1;
      continue;
    }
    current += c;
  }
  parts.push(current);
  return parts;
}

function unquote(text: string): string {
  return text.length >= 2 && text.startsWith("'") && text.endsWith("'") ? text.slice(1, -1) : text;
}

function parsePath(text: string, metadata: boolean): Path {
  const parts = splitOutsideQuotes(text.trim(), '.').map(unquote);
  if (parts.some((p) => p === '')) throw badRequest('empty left-hand-side in q-item');
  const attr = parts[0]!;
  if (metadata) {
    if (parts.length < 2) throw badRequest('wrong syntax in mq: metadata name missing');
    return { attr, md: parts[1], sub: parts.slice(2) };
  }
  return { attr, md: undefined, sub: parts.slice(1) };
}

function parseLiteral(raw: string): Literal {
  const text = raw.trim();
  if (text.length >= 2 && text.startsWith("'") && text.endsWith("'"))
    return { kind: 'string', s: text.slice(1, -1) };
  if (text === 'true' || text === 'false') return { kind: 'bool', b: text === 'true' };
  if (/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(text)) return { kind: 'number', n: Number(text), text };
  if (/^\d{4}-\d{2}-\d{2}/.test(text)) {
    const ms = parseDate(text);
    if (ms !== null) return { kind: 'date', ms, text };
  }
  return { kind: 'string', s: text };
}

function findOperator(item: string): { at: number; token: string; op: Op } | null {
  let quoted = false;
  for (let i = 0; i < item.length; i++) {
    if (item[i] === "'") quoted = !quoted;
    if (quoted) continue;
    for (const [token, op] of OPS) if (item.startsWith(token, i)) return { at: i, token, op };
  }
  return null;
}

/** Parses a `q` (metadata=false) or `mq` (metadata=true) string. */
export function parseQuery(text: string, metadata = false): Item[] {
  const items: Item[] = [];
  for (const raw of splitOutsideQuotes(text, ';')) {
    const item = raw.trim();
    if (item === '') continue;
    const found = findOperator(item);
    if (!found || (found.op === '!=' && found.at === 0)) {
      const negate = item.startsWith('!');
      items.push({ kind: 'exists', negate, path: parsePath(negate ? item.slice(1) : item, metadata) });
      continue;
    }
    const lhs = item.slice(0, found.at);
    const rhs = item.slice(found.at + found.token.length);
    if (lhs.trim() === '') throw badRequest('empty left-hand-side in q-item');
    if (rhs.trim() === '') throw badRequest('empty right-hand-side in q-item');
    const path = parsePath(lhs, metadata);
    if (found.op === '~=') {
      items.push({ kind: 'compare', op: '~=', path, values: [{ kind: 'string', s: rhs }], range: null });
      continue;
    }
    const list = splitOutsideQuotes(rhs, ',');
    const rangeParts = list.length === 1 ? splitOutsideQuotes(rhs, '..') : [];
    if (rangeParts.length === 2) {
      if (found.op !== '==' && found.op !== '!=')
        throw badRequest('ranges only valid for equal and not equal ops');
      const from = parseLiteral(rangeParts[0]!);
      const to = parseLiteral(rangeParts[1]!);
      if (from.kind !== to.kind) throw badRequest('invalid range: types mixed');
      items.push({ kind: 'compare', op: found.op, path, values: [], range: [from, to] });
      continue;
    }
    if (list.length > 1 && found.op !== '==' && found.op !== '!=') {
      throw badRequest('lists only valid for equal and not equal ops');
    }
    if (list.some((v) => v.trim() === '')) throw badRequest('empty item in list');
    items.push({ kind: 'compare', op: found.op, path, values: list.map(parseLiteral), range: null });
  }
  return items;
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

const BUILTIN_COLUMNS: Record<string, string> = {
  dateCreated: 'e.created_at',
  dateModified: 'e.modified_at',
  dateExpires: 'e.expires_at',
};

/** Collects positional parameters while a condition is built. */
export class Params {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

function sqlTarget(path: Path, p: Params): { value: string; type: string; exists: string } {
  const base = `e.attrs->${p.add(path.attr)}`;
  const node = path.md === undefined ? base : `${base}->'metadata'->${p.add(path.md)}`;
  const value = path.sub.length > 0 ? `(${node}->'value')#>${p.add(path.sub)}::text[]` : `(${node}->'value')`;
  return { value, type: `(${node}->>'type')`, exists: `(${value} IS NOT NULL)` };
}

/** The literal's digits as written (exact beyond 2^53), unless not valid JSON (leading zeros). */
function exactNumber(literal: { n: number; text: string }): string {
  return /^-?0\d/.test(literal.text) ? JSON.stringify(literal.n) : literal.text;
}

function sqlJson(literal: Literal): unknown {
  switch (literal.kind) {
    case 'number':
      return exactNumber(literal);
    case 'bool':
      return JSON.stringify(literal.b);
    case 'string':
      return JSON.stringify(literal.s);
    case 'date':
      return JSON.stringify(literal.text);
  }
}

function sqlEquals(t: { value: string; type: string }, literal: Literal, p: Params): string {
  if (literal.kind === 'date') {
    return `(CASE WHEN ${t.type} = 'DateTime' AND jsonb_typeof(${t.value}) = 'string' THEN (${t.value}#>>'{}')::timestamptz = ${p.add(new Date(literal.ms))} ELSE ${t.value} @> ${p.add(sqlJson(literal))}::jsonb END)`;
  }
  if (literal.kind === 'number') {
    return `(${t.value} @> ${p.add(sqlJson(literal))}::jsonb OR ${t.value} @> ${p.add(JSON.stringify(literal.text))}::jsonb)`;
  }
  return `(${t.value} @> ${p.add(sqlJson(literal))}::jsonb)`;
}

function sqlOrder(t: { value: string; type: string }, op: string, literal: Literal, p: Params): string {
  switch (literal.kind) {
    case 'number':
      return `(CASE WHEN jsonb_typeof(${t.value}) = 'number' THEN (${t.value})::numeric ${op} ${p.add(exactNumber(literal))}::numeric ELSE false END)`;
    case 'date':
      return `(CASE WHEN ${t.type} = 'DateTime' AND jsonb_typeof(${t.value}) = 'string' THEN (${t.value}#>>'{}')::timestamptz ${op} ${p.add(new Date(literal.ms))} ELSE false END)`;
    case 'string':
      return `(CASE WHEN jsonb_typeof(${t.value}) = 'string' THEN (${t.value}#>>'{}') COLLATE "C" ${op} ${p.add(literal.s)}::text COLLATE "C" ELSE false END)`;
    case 'bool':
      return 'false';
  }
}

function sqlBuiltin(column: string, item: Item, p: Params): string {
  if (item.kind === 'exists') return item.negate ? `${column} IS NULL` : `${column} IS NOT NULL`;
  const asDate = (l: Literal) => {
    if (l.kind === 'date') return p.add(new Date(l.ms));
    if (l.kind === 'number') return p.add(new Date(l.n * 1000));
    throw badRequest('invalid date in q-item');
  };
  const eq = item.range
    ? `(${column} >= ${asDate(item.range[0])} AND ${column} <= ${asDate(item.range[1])})`
    : item.op === '==' || item.op === '!='
      ? `(${column} IN (${item.values.map(asDate).join(', ')}))`
      : `(${column} ${item.op} ${asDate(item.values[0]!)})`;
  return item.op === '!=' ? `(${column} IS NOT NULL AND NOT ${eq})` : eq;
}

/** Compiles a parsed expression to one SQL condition over alias `e`. */
export function toSql(items: readonly Item[], p: Params, metadata = false): string {
  const parts = items.map((item) => {
    const builtin = metadata ? undefined : BUILTIN_COLUMNS[item.path.attr];
    if (builtin && item.path.sub.length === 0) return sqlBuiltin(builtin, item, p);
    const t = sqlTarget(item.path, p);
    if (item.kind === 'exists') return item.negate ? `NOT ${t.exists}` : t.exists;
    if (item.op === '~=') {
      return `(CASE WHEN jsonb_typeof(${t.value}) = 'string' THEN (${t.value}#>>'{}') ~ ${p.add(item.values[0]!.kind === 'string' ? item.values[0]!.s : '')} ELSE false END)`;
    }
    let eq: string;
    if (item.range) {
      eq = `(${sqlOrder(t, '>=', item.range[0], p)} AND ${sqlOrder(t, '<=', item.range[1], p)})`;
    } else if (item.op === '==' || item.op === '!=') {
      eq = `(${item.values.map((v) => sqlEquals(t, v, p)).join(' OR ')})`;
    } else {
      return sqlOrder(t, item.op, item.values[0]!, p);
    }
    return item.op === '!=' ? `(${t.exists} AND NOT ${eq})` : eq;
  });
  return parts.length === 0 ? 'true' : parts.join(' AND ');
}

// ---------------------------------------------------------------------------------------------
// In memory (subscription expressions)

function target(entity: Entity, path: Path): { value: JsonValue | undefined; type: string | undefined } {
  const found = rawTarget(entity, path);
  // Exact big integers compare as numbers here.
  return isRawNumber(found.value) ? { value: numberOf(found.value)!, type: found.type } : found;
}

function rawTarget(entity: Entity, path: Path): { value: JsonValue | undefined; type: string | undefined } {
  if (!path.md && path.sub.length === 0 && path.attr in BUILTIN_COLUMNS) {
    const ms =
      path.attr === 'dateCreated'
        ? entity.created
        : path.attr === 'dateModified'
          ? entity.modified
          : entity.expires;
    return ms === null
      ? { value: undefined, type: undefined }
      : { value: new Date(ms).toISOString(), type: 'DateTime' };
  }
  const attr = entity.attrs[path.attr];
  if (!attr) return { value: undefined, type: undefined };
  let node: { type: string; value: JsonValue } | undefined = attr;
  if (path.md !== undefined) node = attr.metadata[path.md];
  if (!node) return { value: undefined, type: undefined };
  let value: JsonValue | undefined = node.value;
  for (const key of path.sub) {
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      return { value: undefined, type: undefined };
    value = value[key];
  }
  return { value, type: node.type };
}

function contains(value: JsonValue, wanted: JsonValue): boolean {
  if (Array.isArray(value) && !Array.isArray(wanted)) return value.some((v) => v === wanted);
  return value === wanted;
}

function equalsLiteral(value: JsonValue, type: string | undefined, literal: Literal): boolean {
  switch (literal.kind) {
    case 'number':
      return contains(value, literal.n) || contains(value, literal.text);
    case 'bool':
      return contains(value, literal.b);
    case 'string':
      return contains(value, literal.s);
    case 'date':
      if (type === 'DateTime' && typeof value === 'string') return Date.parse(value) === literal.ms;
      return contains(value, literal.text);
  }
}

function compareLiteral(value: JsonValue, type: string | undefined, op: string, literal: Literal): boolean {
  let a: number | string;
  let b: number | string;
  if (literal.kind === 'number' && typeof value === 'number') [a, b] = [value, literal.n];
  else if (literal.kind === 'string' && typeof value === 'string') [a, b] = [value, literal.s];
  else if (
    literal.kind === 'date' &&
    (type === 'DateTime' || type === undefined) &&
    typeof value === 'string'
  )
    [a, b] = [Date.parse(value), literal.ms];
  else return false;
  switch (op) {
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    default:
      return a >= b;
  }
}

/** True when the entity satisfies every item. */
export function matches(entity: Entity, items: readonly Item[]): boolean {
  return items.every((item) => {
    const { value, type } = target(entity, item.path);
    if (item.kind === 'exists') return item.negate ? value === undefined : value !== undefined;
    if (value === undefined) return false;
    if (item.op === '~=') {
      const pattern = item.values[0]!.kind === 'string' ? item.values[0]!.s : '';
      return typeof value === 'string' && new RegExp(pattern).test(value);
    }
    let eq: boolean;
    if (item.range) {
      eq =
        compareLiteral(value, type, '>=', item.range[0]) && compareLiteral(value, type, '<=', item.range[1]);
    } else if (item.op === '==' || item.op === '!=') {
      eq = item.values.some((l) => equalsLiteral(value, type, l));
    } else {
      return compareLiteral(value, type, item.op, item.values[0]!);
    }
    return item.op === '!=' ? !eq : eq;
  });
}

/**
 * Entity representations (orion-api.md "JSON Entity Representation", "Simplified Entity
 * Representation"): normalized, keyValues, values and unique, with the `attrs` and `metadata`
 * selections and the builtin attributes and metadata shown only when asked for.
 */
import type { Entity, JsonValue, StoredAttr } from './model.ts';
import { isoDate } from './model.ts';

export type Format = 'normalized' | 'keyValues' | 'values' | 'unique';

export interface Selection {
  /** Attribute names as requested (`*` = every user attribute); undefined = every user attribute. */
  attrs: string[] | undefined;
  /** Metadata names as requested (`*` = every user metadata); undefined = every user metadata. */
  metadata: string[] | undefined;
}

interface Rendered {
  type: string;
  value: JsonValue;
  metadata: Record<string, { type: string; value: JsonValue }>;
}

function builtinAttr(entity: Entity, name: string): Rendered | undefined {
  const ms = name === 'dateCreated' ? entity.created : name === 'dateModified' ? entity.modified : undefined;
  return ms === undefined ? undefined : { type: 'DateTime', value: isoDate(ms), metadata: {} };
}

export function renderAttr(attr: StoredAttr, metadata: string[] | undefined): Rendered {
  const md: Rendered['metadata'] = {};
  const all = metadata === undefined || metadata.includes('*');
  for (const [name, m] of Object.entries(attr.metadata)) {
    if (all || metadata?.includes(name)) md[name] = { type: m.type, value: m.value };
  }
  if (metadata?.includes('dateCreated'))
    md['dateCreated'] = { type: 'DateTime', value: isoDate(attr.created) };
  if (metadata?.includes('dateModified'))
    md['dateModified'] = { type: 'DateTime', value: isoDate(attr.modified) };
  return { type: attr.type, value: attr.value, metadata: md };
}

/** The attribute names to render, in order: the requested order, or the entity's own. */
export function selectedNames(entity: Entity, attrs: string[] | undefined): string[] {
  const user = entity.attrNames.filter((n) => n !== 'dateExpires');
  if (attrs === undefined) return user;
  const names: string[] = [];
  for (const name of attrs) {
    if (name === '*') names.push(...user.filter((n) => !attrs.includes(n)));
    else if (!names.includes(name)) names.push(name);
  }
  return names;
}

function attrsOf(entity: Entity, selection: Selection): Array<[string, Rendered]> {
  const out: Array<[string, Rendered]> = [];
  for (const name of selectedNames(entity, selection.attrs)) {
    const stored = entity.attrs[name];
    const rendered = stored ? renderAttr(stored, selection.metadata) : builtinAttr(entity, name);
    if (rendered) out.push([name, rendered]);
  }
  return out;
}

/** One entity in the chosen representation; `withId` false renders only the attributes. */
export function renderEntity(entity: Entity, selection: Selection, format: Format, withId = true): JsonValue {
  const attrs = attrsOf(entity, selection);
  if (format === 'values' || format === 'unique') return attrs.map(([, a]) => a.value);
  const out: Record<string, JsonValue> = withId ? { id: entity.id, type: entity.type } : {};
  for (const [name, a] of attrs) out[name] = format === 'keyValues' ? a.value : (a as unknown as JsonValue);
  return out;
}

export function renderEntities(
  entities: readonly Entity[],
  selection: Selection,
  format: Format,
): JsonValue[] {
  const rendered = entities.map((e) => renderEntity(e, selection, format));
  if (format !== 'unique') return rendered;
  const seen = new Set<string>();
  return rendered.filter((r) => {
    const key = JSON.stringify(r);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

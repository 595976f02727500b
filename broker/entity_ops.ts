/**
 * Entity operations shared by the entity routes and the batch operation: building an entity from
 * request attributes, Orion's append / appendStrict / update / replace semantics, and the
 * optimistic read-modify-write that reports every change to the subscriptions.
 */
import { badRequest, entityNotFound, OrionError, tooManyResults } from './errors.ts';
import type { Entity, StoredAttr } from './model.ts';
import { locationOf } from './query/geo.ts';
import type { Store } from './store.ts';
import { applyOperator, operatorOf } from './update_operators.ts';
import { defaultType, type InputAttr, parseDate } from './validate.ts';

export type Alteration = 'entityCreate' | 'entityUpdate' | 'entityDelete';

export interface Change {
  tenant: string;
  /** The entity after the change (before it, for deletions). */
  entity: Entity;
  before: Entity | null;
  alteration: Alteration;
  /** Attributes whose type, value or metadata changed (all of them on create and delete). */
  changed: string[];
  /** Attributes named in the request, changed or not. */
  touched: string[];
  /** `options=forcedUpdate`: subscriptions treat every touched attribute as changed. */
  forced?: boolean;
  correlator: string;
}

export interface BrokerContext {
  store: Store;
  now: () => Date;
  onChange(change: Change): void;
  /** True when a subscription of the tenant may need an entity's previous state. */
  watched(tenant: string): boolean;
}

export type Mode = 'append' | 'appendStrict' | 'update' | 'replace';

function buildAttr(
  name: string,
  input: InputAttr,
  prev: StoredAttr | undefined,
  now: number,
  override: boolean,
): StoredAttr {
  let value = input.value;
  const operator = operatorOf(value);
  if (operator) value = applyOperator(operator[0], operator[1], prev?.value);
  let type = input.type ?? prev?.type ?? defaultType(value);
  if (name === 'dateExpires') {
    type = 'DateTime';
    const ms = typeof value === 'string' ? parseDate(value) : null;
    if (ms === null) throw badRequest('date has invalid format in attribute value');
    value = new Date(ms).toISOString();
  }
  const metadata =
    override || !prev ? (input.metadata ?? {}) : { ...prev.metadata, ...(input.metadata ?? {}) };
  return { type, value, metadata, created: prev?.created ?? now, modified: now };
}

function sameAttr(a: StoredAttr | undefined, b: StoredAttr): boolean {
  return (
    a !== undefined &&
    a.type === b.type &&
    JSON.stringify(a.value) === JSON.stringify(b.value) &&
    JSON.stringify(a.metadata) === JSON.stringify(b.metadata)
  );
}

/** Recomputes what is derived from the attributes: expiry and location. */
export function refreshDerived(entity: Entity): void {
  const attr = entity.attrs['dateExpires'];
  entity.expires = attr && typeof attr.value === 'string' ? Date.parse(attr.value) : null;
  entity.location = locationOf(entity.attrs);
}

export function newEntity(
  tenant: string,
  servicePath: string,
  id: string,
  type: string,
  attrs: Map<string, InputAttr>,
  now: number,
): Entity {
  const entity: Entity = {
    tenant,
    servicePath,
    id,
    type,
    attrs: {},
    attrNames: [],
    created: now,
    modified: now,
    expires: null,
    location: null,
    version: 1,
  };
  for (const [name, input] of attrs) {
    entity.attrs[name] = buildAttr(name, input, undefined, now, true);
    entity.attrNames.push(name);
  }
  refreshDerived(entity);
  return entity;
}

export interface ApplyResult {
  changed: string[];
  /** Attributes named in the request that the entity lacks (update mode). */
  missing: string[];
  /** Attributes named in the request that the entity already has (appendStrict mode). */
  existing: string[];
}

/** Applies request attributes to an entity in place, by Orion's rules for each mode. */
export function applyAttrs(
  entity: Entity,
  attrs: Map<string, InputAttr>,
  mode: Mode,
  now: number,
  override: boolean,
): ApplyResult {
  const result: ApplyResult = { changed: [], missing: [], existing: [] };
  if (mode === 'replace') {
    const before = entity.attrs;
    entity.attrs = {};
    entity.attrNames = [];
    for (const [name, input] of attrs) {
      const attr = buildAttr(name, input, undefined, now, true);
      entity.attrs[name] = attr;
      entity.attrNames.push(name);
      if (!sameAttr(before[name], attr)) result.changed.push(name);
    }
    for (const name of Object.keys(before)) if (!(name in entity.attrs)) result.changed.push(name);
  } else {
    for (const [name, input] of attrs) {
      const prev = entity.attrs[name];
      if (prev && mode === 'appendStrict') {
        result.existing.push(name);
        continue;
      }
      if (!prev && mode === 'update') {
        result.missing.push(name);
        continue;
      }
      const attr = buildAttr(name, input, prev, now, override);
      if (!sameAttr(prev, attr)) result.changed.push(name);
      entity.attrs[name] = attr;
      if (!prev) entity.attrNames.push(name);
    }
  }
  entity.modified = now;
  refreshDerived(entity);
  return result;
}

export function entityRef(entity: { id: string; type: string }): string {
  return `${entity.id}/${entity.type}`;
}

/**
 * Reads the one entity with this id (and type) at exactly `servicePath`, lets `change` modify a
 * copy, and writes it back unless someone else wrote first (then it starts over).
 */
export async function mutate<T>(
  ctx: BrokerContext,
  key: { tenant: string; id: string; type: string | undefined; servicePath: string },
  correlator: string,
  change: (entity: Entity) => { result: T; changed: string[]; touched: string[]; remove?: boolean },
  forced = false,
): Promise<T> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const found = await ctx.store.find(key.tenant, key.id, key.type, [
      { path: key.servicePath, subtree: false },
    ]);
    if (found.length === 0) throw entityNotFound();
    if (found.length > 1) throw tooManyResults();
    const before = found[0]!;
    const after = structuredClone(before);
    const outcome = change(after);
    if (outcome.remove) {
      if (!(await ctx.store.remove(before))) continue;
      ctx.onChange({
        tenant: key.tenant,
        entity: before,
        before,
        alteration: 'entityDelete',
        changed: [...before.attrNames],
        touched: [...before.attrNames],
        correlator,
      });
      return outcome.result;
    }
    if (!(await ctx.store.update(after))) continue;
    after.version += 1;
    ctx.onChange({
      tenant: key.tenant,
      entity: after,
      before,
      alteration: 'entityUpdate',
      changed: outcome.changed,
      touched: outcome.touched,
      correlator,
      forced,
    });
    return outcome.result;
  }
  throw new OrionError(500, 'InternalServerError', 'too many concurrent updates of the same entity');
}

/** Creates an entity; false when (tenant, id, type, servicePath) already exists. */
export async function insertEntity(ctx: BrokerContext, entity: Entity, correlator: string): Promise<boolean> {
  if (!(await ctx.store.insert(entity))) return false;
  ctx.onChange({
    tenant: entity.tenant,
    entity,
    before: null,
    alteration: 'entityCreate',
    changed: [...entity.attrNames],
    touched: [...entity.attrNames],
    correlator,
  });
  return true;
}

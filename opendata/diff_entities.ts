/**
 * Entity-level difference between an upload and what the broker holds for the same catalogue
 * dataset (entities whose `source` is the dataset id): new, changed (with the attributes that
 * differ) and missing. Compared on key-values, with dates in the form the broker returns them.
 */
import { createHash } from 'node:crypto';
import type { NgsiClient, NgsiEntity } from '../broker/index.ts';

export interface EntityDiff {
  new: number;
  changed: number;
  unchanged: number;
  missing: number;
  /** The first ids of each kind (up to 100), for the staff member to look at. */
  samples: {
    new: string[];
    changed: Array<{ id: string; attrs: string[] }>;
    missing: string[];
  };
}

const SAMPLE = 100;
const PAGE = 1000;

/** Key-values of an entity as the broker will return them (DateTime dates widened). */
export function comparable(entity: NgsiEntity): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, attr] of Object.entries(entity)) {
    if (name === 'id' || name === 'type' || attr === undefined) continue;
    const { type, value } = attr as { type?: string; value: unknown };
    const v =
      type === 'DateTime' && typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value)
        ? `${value}T00:00:00.000Z`
        : value;
    out.set(name, JSON.stringify(v));
  }
  return out;
}

/** Every entity of `type` registered from `source`, page by page. */
export async function* registeredEntities(
  client: NgsiClient,
  type: string,
  source: string,
): AsyncGenerator<NgsiEntity> {
  for (let offset = 0; ; offset += PAGE) {
    const { entities } = await client.listEntities({
      type,
      q: `source=='${source}'`,
      limit: PAGE,
      offset,
      orderBy: 'id',
    });
    yield* entities;
    if (entities.length < PAGE) return;
  }
}

export function fingerprint(values: Map<string, string>): string {
  return createHash('sha256')
    .update([...values].sort(([a], [b]) => (a < b ? -1 : 1)).join('\u0000'))
    .digest('base64url')
    .slice(0, 22);
}

/**
 * `uploaded` holds a fingerprint per entity id (memory stays small for large files); the attribute
 * names of the sampled changed entities come from `details`, which reads those entities again.
 */
export async function diffEntities(
  client: NgsiClient,
  type: string,
  source: string,
  uploaded: Map<string, string>,
  details: (ids: Set<string>) => Promise<Map<string, Map<string, string>>>,
): Promise<EntityDiff> {
  const diff: EntityDiff = {
    new: 0,
    changed: 0,
    unchanged: 0,
    missing: 0,
    samples: { new: [], changed: [], missing: [] },
  };
  const seen = new Set<string>();
  const changed = new Map<string, Map<string, string>>();
  for await (const existing of registeredEntities(client, type, source)) {
    const mine = uploaded.get(existing.id);
    if (mine === undefined) {
      diff.missing++;
      if (diff.samples.missing.length < SAMPLE) diff.samples.missing.push(existing.id);
      continue;
    }
    seen.add(existing.id);
    const theirs = comparable(existing);
    if (fingerprint(theirs) === mine) diff.unchanged++;
    else {
      diff.changed++;
      if (changed.size < SAMPLE) changed.set(existing.id, theirs);
    }
  }
  for (const id of uploaded.keys()) {
    if (seen.has(id)) continue;
    diff.new++;
    if (diff.samples.new.length < SAMPLE) diff.samples.new.push(id);
  }
  if (changed.size > 0) {
    const mineById = await details(new Set(changed.keys()));
    for (const [id, theirs] of changed) {
      const mine = mineById.get(id) ?? new Map<string, string>();
      const attrs = [...new Set([...mine.keys(), ...theirs.keys()])].filter(
        (a) => mine.get(a) !== theirs.get(a),
      );
      diff.samples.changed.push({ id, attrs: attrs.sort() });
    }
  }
  return diff;
}

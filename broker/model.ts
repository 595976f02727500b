/**
 * The broker's data model as stored: an entity is keyed by (tenant, id, type, servicePath), its
 * attributes keep their insertion order in `attrNames`, and every attribute carries its own
 * creation and modification times (Orion's `dateCreated`/`dateModified` metadata).
 */

import type { Location } from './query/geo.ts';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export interface Metadata {
  type: string;
  value: JsonValue;
}

export interface StoredAttr {
  type: string;
  value: JsonValue;
  metadata: Record<string, Metadata>;
  /** epoch milliseconds */
  created: number;
  modified: number;
}

export interface Entity {
  tenant: string;
  servicePath: string;
  id: string;
  type: string;
  attrs: Record<string, StoredAttr>;
  attrNames: string[];
  created: number;
  modified: number;
  /** epoch ms of the `dateExpires` attribute, when set */
  expires: number | null;
  /** GeoJSON geometry and bounding box of the entity's geo attribute, when it has one */
  location: Location | null;
  /** optimistic concurrency counter */
  version: number;
}

export const BUILTIN_ATTRS = ['dateCreated', 'dateModified', 'dateExpires'] as const;
export const BUILTIN_METADATA = ['dateCreated', 'dateModified', 'previousValue', 'actionType'] as const;

/** Orion's DateTime rendering: `YYYY-MM-DDThh:mm:ss.sssZ`. */
export function isoDate(ms: number): string {
  return new Date(ms).toISOString();
}

/** Orion's rendering of subscription timestamps: two decimals of seconds. */
export function isoDate2(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 22)}Z`;
}

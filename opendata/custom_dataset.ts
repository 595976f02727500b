/**
 * A dataset the standard does not cover, described by the staff member in the mapping editor:
 * which column becomes which attribute with which kind, and which columns hold the ID and the
 * coordinates. It is turned into the same `DatasetDef` the standard datasets use, so the rest of
 * the pipeline (repairs, schema, entities) is shared.
 */
import { createHash } from 'node:crypto';
import type { ColumnDef, ColumnKind, DatasetDef } from './standard_datasets.ts';

export interface CustomMapping {
  /** ASCII entity type, e.g. `BicycleParking`. */
  entityType: string;
  title?: string;
  columns: Array<{ header: string; attr: string; kind: ColumnKind; required?: boolean }>;
  idColumn?: string;
  latColumn?: string;
  lonColumn?: string;
}

export const COLUMN_KINDS: readonly ColumnKind[] = [
  'text',
  'code6',
  'id',
  'kana',
  'lat',
  'lon',
  'date',
  'time',
  'number',
  'phone',
  'url',
  'list',
  'flag',
  'umu',
  'corporate',
];

/** JSON Schema of a mapping (route validation). */
export const customMappingSchema = {
  type: 'object',
  required: ['entityType', 'columns'],
  additionalProperties: false,
  properties: {
    entityType: { type: 'string', pattern: '^[A-Za-z][A-Za-z0-9]{0,63}$' },
    title: { type: 'string', maxLength: 200 },
    idColumn: { type: 'string', maxLength: 200 },
    latColumn: { type: 'string', maxLength: 200 },
    lonColumn: { type: 'string', maxLength: 200 },
    columns: {
      type: 'array',
      maxItems: 300,
      items: {
        type: 'object',
        required: ['header', 'attr', 'kind'],
        additionalProperties: false,
        properties: {
          header: { type: 'string', minLength: 1, maxLength: 200 },
          attr: {
            type: 'string',
            pattern: '^[A-Za-z][A-Za-z0-9_]{0,63}$',
            not: { enum: ['id', 'type', 'location', 'dataProvider', 'source'] },
          },
          kind: { type: 'string', enum: COLUMN_KINDS },
          required: { type: 'boolean' },
        },
      },
    },
  },
} as const;

export function customDataset(mapping: CustomMapping): DatasetDef {
  const roles: Record<string, ColumnDef['role']> = {};
  if (mapping.idColumn) roles[mapping.idColumn] = 'id';
  if (mapping.latColumn) roles[mapping.latColumn] = 'lat';
  if (mapping.lonColumn) roles[mapping.lonColumn] = 'lon';
  const columns: ColumnDef[] = mapping.columns.map((c) => {
    const role = roles[c.header];
    const kind: ColumnKind = role === 'id' ? 'id' : role === 'lat' ? 'lat' : role === 'lon' ? 'lon' : c.kind;
    return {
      name: c.header,
      attr: c.attr,
      kind,
      ...(c.required ? { required: true } : {}),
      ...(role ? { role } : {}),
    };
  });
  const key = createHash('sha256').update(JSON.stringify(mapping)).digest('hex').slice(0, 12);
  return {
    id: 'custom',
    number: `custom:${key}`,
    title: mapping.title ?? 'カスタムデータセット',
    titleEn: 'Custom dataset',
    entityType: mapping.entityType,
    columns,
  };
}

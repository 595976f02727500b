/**
 * Recognises which standard dataset a header row belongs to. Column order is not reliable in real
 * files, so columns are matched by normalised header name (the current name or any alias); the
 * score is the share of the file's columns the dataset explains, ties broken by overlap.
 */
import { type ColumnDef, type DatasetDef, STANDARD_DATASETS } from './standard_datasets.ts';

/**
 * Header names only (never cell values): NFKC (half-width kana, full-width brackets and digits),
 * dash look-alikes unified to ー inside Japanese words, spaces removed, ASCII lower-cased.
 */
export function normaliseHeader(name: string): string {
  return name
    .normalize('NFKC')
    .replace(
      /(?<=[\u3040-\u30ff\u4e00-\u9fff])[\u2010-\u2015\u2212\uff0d-](?=[\u3040-\u30ff\u4e00-\u9fff]|$)/g,
      'ー',
    )
    .replace(/\s+/g, '')
    .replace(/_+/g, '_')
    .toLowerCase();
}

export interface ColumnMapping {
  /** For each file column: the standard column it maps to, or null (kept as an extension). */
  columns: Array<ColumnDef | null>;
  matched: number;
}

const namesOf = (col: ColumnDef) => [col.name, ...(col.aliases ?? [])].map(normaliseHeader);

export function mapColumns(dataset: DatasetDef, header: string[]): ColumnMapping {
  const used = new Set<ColumnDef>();
  const byName = new Map<string, ColumnDef>();
  // Current names first, so an alias never steals a column that is named exactly.
  for (const col of dataset.columns) byName.set(normaliseHeader(col.name), col);
  for (const col of dataset.columns)
    for (const alias of namesOf(col).slice(1)) if (!byName.has(alias)) byName.set(alias, col);
  const columns = header.map((h) => {
    const col = byName.get(normaliseHeader(h));
    if (!col || used.has(col)) return null;
    used.add(col);
    return col;
  });
  return { columns, matched: used.size };
}

export interface DatasetMatch {
  dataset: DatasetDef;
  /** 0..1: share of the file's named columns this dataset explains. */
  score: number;
  mapping: ColumnMapping;
}

export function rankDatasets(header: string[]): DatasetMatch[] {
  const named = header.filter((h) => h.trim() !== '').length || 1;
  return STANDARD_DATASETS.map((dataset) => {
    const mapping = mapColumns(dataset, header);
    const score = mapping.matched / named;
    const overlap = mapping.matched / (named + dataset.columns.length - mapping.matched);
    return { dataset, score: Math.round(score * 100) / 100, mapping, overlap };
  })
    .sort((a, b) => b.score - a.score || b.overlap - a.overlap)
    .map(({ overlap: _overlap, ...m }) => m);
}

const KNOWN = new Set(STANDARD_DATASETS.flatMap((d) => d.columns.flatMap(namesOf)));

/** How many cells of a record look like standard column names (to find the header row). */
export function headerLikeness(cells: string[]): number {
  let n = 0;
  for (const cell of cells) if (cell && KNOWN.has(normaliseHeader(cell))) n++;
  return n;
}

/**
 * The upload pipeline, one streaming pass over the file:
 *
 *   decode        strict UTF-8 / Shift_JIS (auto: BOM, else UTF-8, else restart as Shift_JIS)
 *   read records  csv-parse, physical start line of each record
 *   find header   explicit line, or the first record that looks most like standard headers
 *   match dataset explicit id, or the best-scoring standard dataset
 *   per row       field count → repair typed cells → coordinates → schema (ajv) → entity id → entity
 *
 * The same function analyses (report + preview) and registers (with `onEntity`), so what the
 * staff member confirmed is exactly what is written. Memory stays flat: rows are not kept, only
 * counters, the first issues and the preview rows.
 */

import { createHash } from 'node:crypto';
import { Ajv, type ValidateFunction } from 'ajv';
import type { NgsiEntity } from '../broker/index.ts';
import { type CustomMapping, customDataset } from './custom_dataset.ts';
import { type EncodingError, type SourceEncoding, sniffBom } from './decode_stream.ts';
import { headerLikeness, mapColumns, normaliseHeader, rankDatasets } from './match_dataset.ts';
import { ruleText, type Severity } from './messages.ts';
import { readRecords } from './read_records.ts';
import { repairValue } from './repair_value.ts';
import { type ColumnDef, type ColumnKind, type DatasetDef, findDataset } from './standard_datasets.ts';
import {
  type ColumnOut,
  derivedEntityId,
  entityIdFor,
  FORBIDDEN_VALUE_CHARS,
  ngsiType,
  toEntity,
} from './to_entity.ts';

export type EncodingChoice = 'auto' | SourceEncoding;

export interface AnalyseOptions {
  /** Opens the file from the start (called again when auto-detection restarts as Shift_JIS). */
  open: () => AsyncIterable<Uint8Array>;
  encoding?: EncodingChoice;
  dataset?: string;
  /** One-based physical line of the header row. */
  headerLine?: number;
  /** Header names of columns to leave out (e.g. a CKAN `_id`). */
  dropColumns?: string[];
  /** A staff member's mapping for a dataset the standard does not cover (wins over `dataset`). */
  custom?: CustomMapping;
  /** Used in entity ids when the file has no 全国地方公共団体コード column. */
  municipalityCode?: string;
  /** Recorded on each entity as `source`. */
  sourceName: string;
  /** Attributes typed TextUnrestricted, as decided by a previous analysis of the same file. */
  unrestricted?: string[];
  onEntity?: (entity: NgsiEntity) => Promise<void>;
  onProgress?: (bytesRead: number) => void;
  previewRows?: number;
  maxIssues?: number;
}

export interface Issue {
  line: number;
  column: string | null;
  rule: string;
  severity: Severity;
  before?: string;
  after?: string;
}

export interface ColumnReport {
  index: number;
  header: string;
  attr: string | null;
  label: string | null;
  kind: ColumnKind | null;
  type: string | null;
  standard: boolean;
}

export interface PreviewRow {
  line: number;
  original: string[];
  normalised: string[];
  valid: boolean;
  entity: NgsiEntity | null;
}

export interface AnalysisReport {
  encoding: SourceEncoding;
  bom: boolean;
  headerLine: number;
  metadataLines: number[];
  dataset: { id: string; title: string; titleEn: string; entityType: string; score: number } | null;
  candidates: Array<{ id: string; title: string; score: number }>;
  suggestions: Array<{ kind: 'drop-column'; column: string } | { kind: 'header-line'; line: number }>;
  columns: ColumnReport[];
  rowsRead: number;
  rowsValid: number;
  rowsInvalid: number;
  rowsSkipped: number;
  entities: number;
  generatedIds: number;
  counts: { errors: number; warnings: number; repairs: number; byRule: Record<string, number> };
  issues: Issue[];
  issuesTruncated: boolean;
  unrestricted: string[];
  preview: PreviewRow[];
  bytesRead: number;
  /** No dataset matched and none was chosen: a mapping is needed before registration. */
  needsMapping: boolean;
}

const UNMATCHED: DatasetDef = {
  id: 'unmatched',
  number: '-',
  title: '未判定',
  titleEn: 'Not recognised',
  entityType: 'Thing',
  columns: [],
};

/**
 * 機種依存文字 (L1-08): NEC special characters of CP932 (circled and Roman numerals, ㈱ № ℡ ㍻ ㎝ …)
 * and IBM extensions. Reported, never replaced: the file is what the city published.
 */
const PLATFORM_DEPENDENT =
  /[\u2460-\u2473\u2160-\u2169\u2170-\u2179\u3231\u3232\u3239\u2116\u2121\u337b-\u337e\u3349-\u339e\u33a1\u33c4\u33cd\u32a4-\u32a8\u301d\u301f\u2252\u2261\u222b\u222e\u221a\u22a5\u2220\u221f\u22bf\u2235\u2229\u222a\uf929\uf9dc\ufa0e-\ufa2d\uffe2\uffe4\uff07\uff02]/;

const LAT = { min: 20, max: 46 };
const LON = { min: 122, max: 154 };
const inJapan = (lat: number, lon: number) =>
  lat >= LAT.min && lat <= LAT.max && lon >= LON.min && lon <= LON.max;

const PATTERNS: Partial<Record<ColumnKind, string>> = {
  code6: '^\\d{6}$',
  date: '^\\d{4}-\\d{2}-\\d{2}$',
  number: '^-?\\d+(\\.\\d+)?$',
  lat: '^-?\\d+(\\.\\d+)?$',
  lon: '^-?\\d+(\\.\\d+)?$',
  flag: '^1?$',
  corporate: '^\\d{13}$',
};

const ajv = new Ajv({ allErrors: true, strict: false });
const validators = new Map<string, ValidateFunction>();

/** The dataset's JSON Schema over a row of normalised values keyed by attribute name. */
export function rowSchema(dataset: DatasetDef): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (const col of dataset.columns) {
    const pattern = PATTERNS[col.kind];
    properties[col.attr] = { type: 'string', minLength: 1, ...(pattern ? { pattern } : {}) };
  }
  return {
    $id: `urn:tsunagu:opendata:${dataset.id}`,
    title: dataset.title,
    type: 'object',
    properties,
    required: dataset.columns.filter((col) => col.required).map((col) => col.attr),
  };
}

function validatorFor(dataset: DatasetDef): ValidateFunction {
  const key = dataset.id === 'custom' ? dataset.number : dataset.id;
  let v = validators.get(key);
  if (!v) {
    v = ajv.compile({ ...rowSchema(dataset), $id: `urn:tsunagu:opendata:${key}` });
    validators.set(key, v);
  }
  return v;
}

/** Extension attribute name for a non-standard column: stable across uploads and ASCII. */
function extensionAttr(header: string, taken: Set<string>): string {
  let attr = `x_${createHash('sha256').update(normaliseHeader(header)).digest('hex').slice(0, 8)}`;
  for (let n = 2; taken.has(attr); n++) attr = `${attr.slice(0, 10)}_${n}`;
  return attr;
}

async function* withHead(
  source: AsyncIterable<Uint8Array>,
  onHead: (head: Uint8Array) => void,
): AsyncGenerator<Uint8Array> {
  let first = true;
  for await (const chunk of source) {
    if (first) onHead(chunk);
    first = false;
    yield chunk;
  }
  if (first) onHead(new Uint8Array(0));
}

export async function analyseUpload(options: AnalyseOptions): Promise<AnalysisReport> {
  const choice = options.encoding ?? 'auto';
  if (choice !== 'auto') return analyseAs(options, choice);
  try {
    return await analyseAs(options, 'utf-8');
  } catch (error) {
    if ((error as EncodingError).name === 'EncodingError' && (error as EncodingError).encoding === 'utf-8') {
      return analyseAs(options, 'shift_jis');
    }
    throw error;
  }
}

async function analyseAs(options: AnalyseOptions, encoding: SourceEncoding): Promise<AnalysisReport> {
  const previewLimit = options.previewRows ?? 20;
  const maxIssues = options.maxIssues ?? 5000;
  let bom = false;
  let bomError: Error | null = null;
  const source = withHead(options.open(), (head) => {
    const found = sniffBom(head);
    if (found === 'utf-16') bomError = Object.assign(new Error('UTF-16'), { name: 'Utf16Error' });
    bom = found === 'utf-8';
  });

  const report: AnalysisReport = {
    encoding,
    bom: false,
    headerLine: 0,
    metadataLines: [],
    dataset: null,
    candidates: [],
    suggestions: [],
    columns: [],
    rowsRead: 0,
    rowsValid: 0,
    rowsInvalid: 0,
    rowsSkipped: 0,
    entities: 0,
    generatedIds: 0,
    counts: { errors: 0, warnings: 0, repairs: 0, byRule: {} },
    issues: [],
    issuesTruncated: false,
    unrestricted: [],
    preview: [],
    bytesRead: 0,
    needsMapping: false,
  };

  const issue = (i: Issue) => {
    report.counts.byRule[i.rule] = (report.counts.byRule[i.rule] ?? 0) + 1;
    if (i.severity === 'error') report.counts.errors++;
    else if (i.severity === 'warning') report.counts.warnings++;
    if (i.after !== undefined) report.counts.repairs++;
    if (report.issues.length < maxIssues) report.issues.push(i);
    else report.issuesTruncated = true;
  };
  const add = (line: number, column: string | null, rule: string, extra: Partial<Issue> = {}) =>
    issue({ line, column, rule, severity: ruleText(rule).severity, ...extra });

  const unrestricted = new Set(options.unrestricted ?? []);
  const seenIds = new Map<string, number>();
  const head: Array<{ line: number; cells: string[] }> = [];
  let setup: RowSetup | null = null;
  const previewInputs: Array<{ row: PreviewRow; input: Parameters<typeof toEntity>[0] | null }> = [];

  const handle = async (line: number, cells: string[]) => {
    const s = setup!;
    if (cells.length > s.width && cells.slice(s.width).some((c) => c.trim() !== '')) {
      add(line, null, 'csv.too-many-fields');
      report.rowsRead++;
      report.rowsInvalid++;
      return;
    }
    if (cells.every((c) => c.trim() === '')) {
      add(line, null, 'csv.empty-record');
      report.rowsSkipped++;
      return;
    }
    report.rowsRead++;
    if (cells.length < s.namedWidth) add(line, null, 'csv.too-few-fields');
    let errors = 0;
    if (s.lat >= 0 && s.lon >= 0) cells = splitCombinedCoordinates(s, line, cells, add);
    const values: string[] = new Array(s.kept.length).fill('');
    const failed = new Set<string>();
    for (let k = 0; k < s.kept.length; k++) {
      const col = s.kept[k]!;
      const raw = cells[col.index] ?? '';
      if (raw.trim() === '') continue;
      if (col.header.trim() === '') {
        add(line, `(${col.index + 1}列目)`, 'csv.empty-header', { before: raw });
        errors++;
        continue;
      }
      const kind = col.def?.kind ?? 'text';
      if (kind === 'text') {
        if (/[\r\n]/.test(raw)) add(line, col.header, 'csv.line-break-in-cell');
        if (PLATFORM_DEPENDENT.test(raw)) add(line, col.header, 'text.platform-dependent', { before: raw });
      }
      const out = repairValue(kind, raw);
      if (out.error) {
        add(line, col.header, out.error, { before: raw });
        errors++;
        failed.add(col.out.attr);
        continue;
      }
      if (out.repair) add(line, col.header, out.repair, { before: raw, after: out.value });
      if (out.warning) add(line, col.header, out.warning, { before: raw });
      values[k] = out.value;
    }

    // Coordinates: combined "lat,lon", swapped pair, outside Japan.
    let location: { lat: number; lon: number } | null = null;
    if (s.lat >= 0) {
      let latText = values[s.lat] ?? '';
      let lonText = s.lon >= 0 ? (values[s.lon] ?? '') : '';
      const latCol = s.kept[s.lat]!;
      if (latText !== '' && lonText !== '') {
        let lat = Number(latText);
        let lon = Number(lonText);
        if (!inJapan(lat, lon) && inJapan(lon, lat)) {
          add(line, latCol.header, 'coord.swapped', {
            before: `${latText} / ${lonText}`,
            after: `${lonText} / ${latText}`,
          });
          [lat, lon] = [lon, lat];
          [latText, lonText] = [lonText, latText];
        }
        if (inJapan(lat, lon)) location = { lat, lon };
        else add(line, latCol.header, 'coord.outside-japan', { before: `${latText} / ${lonText}` });
      }
      values[s.lat] = latText;
      if (s.lon >= 0) values[s.lon] = lonText;
    }

    // The dataset's JSON Schema, on what is left after repairs.
    const row: Record<string, string> = {};
    for (let k = 0; k < s.kept.length; k++) {
      const col = s.kept[k]!;
      if (col.def && values[k] !== '') row[col.def.attr] = values[k]!;
    }
    if (!s.validate(row)) {
      for (const e of s.validate.errors ?? []) {
        const attr =
          e.keyword === 'required'
            ? (e.params as { missingProperty: string }).missingProperty
            : e.instancePath.slice(1);
        if (failed.has(attr)) continue;
        const header = s.headerOf.get(attr) ?? s.labelOf.get(attr) ?? attr;
        add(line, header, e.keyword === 'required' ? 'required.missing' : 'schema.invalid', {
          ...(row[attr] !== undefined ? { before: row[attr] } : {}),
        });
        errors++;
      }
    }

    // Entity id.
    const code = (s.codeAt >= 0 ? values[s.codeAt] : '') || s.municipalityCode;
    const localId = s.idAt >= 0 ? (values[s.idAt] ?? '') : '';
    let id = entityIdFor(s.dataset.entityType, code, localId);
    if (!id) {
      id = derivedEntityId(s.dataset.entityType, code, [row['name'] ?? '', row['fullAddress'] ?? '']);
      add(line, s.idAt >= 0 ? s.kept[s.idAt]!.header : null, 'id.generated', { after: id });
      report.generatedIds++;
    }
    // Ids are remembered as 66-bit digests (11 base64url chars): a Map of the full ids costs
    // ~200 bytes per row, too much for a 200 MB file; a false duplicate needs a SHA-256 collision
    // on 66 bits (≈ 1e-8 for a million rows).
    const seenKey = createHash('sha256').update(id).digest('base64url').slice(0, 11);
    const firstLine = seenIds.get(seenKey);
    if (firstLine !== undefined) {
      add(line, s.idAt >= 0 ? s.kept[s.idAt]!.header : null, 'id.duplicate', {
        before: `${id} (${firstLine}行目)`,
      });
      errors++;
    } else seenIds.set(seenKey, line);

    for (let k = 0; k < s.kept.length; k++) {
      const col = s.kept[k]!;
      const kind = col.out.kind;
      if (kind === 'number' || kind === 'date' || kind === 'flag') continue;
      if (
        values[k] !== '' &&
        FORBIDDEN_VALUE_CHARS.test(kind === 'list' ? values[k]!.replace(/;/g, '') : values[k]!)
      ) {
        unrestricted.add(col.out.attr);
      }
    }

    const valid = errors === 0;
    if (valid) report.rowsValid++;
    else report.rowsInvalid++;
    const input = {
      id,
      type: s.dataset.entityType,
      columns: s.outColumns,
      values,
      unrestricted,
      location,
      provider: { code, dataset: options.sourceName },
    };
    if (previewInputs.length < previewLimit) {
      previewInputs.push({
        row: {
          line,
          original: s.kept.map((c) => cells[c.index] ?? ''),
          normalised: values,
          valid,
          entity: null,
        },
        input: valid ? input : null,
      });
    }
    if (valid) {
      report.entities++;
      if (options.onEntity) await options.onEntity(toEntity(input));
    }
  };

  const records = readRecords(source, encoding);
  for await (const { line, cells, bytesRead } of records) {
    if (bomError) throw bomError;
    report.bytesRead = bytesRead;
    if (!setup) {
      head.push({ line, cells });
      const explicit = options.headerLine;
      if (explicit !== undefined ? line < explicit : head.length < 10) continue;
      setup = prepare(head, options, report, add);
      for (const rec of head.slice(setup.bodyFrom)) await handle(rec.line, rec.cells);
      continue;
    }
    await handle(line, cells);
    if (report.rowsRead % 1000 === 0) options.onProgress?.(bytesRead);
  }
  if (bomError) throw bomError;
  if (!setup && head.length > 0) {
    setup = prepare(head, options, report, add);
    for (const rec of head.slice(setup.bodyFrom)) await handle(rec.line, rec.cells);
  }
  report.bom = bom;
  report.unrestricted = [...unrestricted].sort();
  if (setup) {
    for (const c of report.columns) {
      const col = setup.kept.find((k) => k.index === c.index);
      if (col && c.kind) c.type = ngsiType(c.kind, unrestricted.has(col.out.attr));
    }
  }
  report.preview = previewInputs.map(({ row, input }) => ({
    ...row,
    entity: input ? toEntity(input) : null,
  }));
  options.onProgress?.(report.bytesRead);
  return report;
}

/** `"35.68,139.76"` in the latitude cell with an empty longitude: split it (reported). */
function splitCombinedCoordinates(
  s: RowSetup,
  line: number,
  cells: string[],
  add: (line: number, column: string | null, rule: string, extra?: Partial<Issue>) => void,
): string[] {
  const latCol = s.kept[s.lat]!;
  const lonCol = s.kept[s.lon]!;
  const raw = cells[latCol.index] ?? '';
  if ((cells[lonCol.index] ?? '').trim() !== '') return cells;
  const m = /^\s*(-?\d+(?:\.\d+)?)\s*[,、]\s*(-?\d+(?:\.\d+)?)\s*$/.exec(raw);
  if (!m) return cells;
  const out = [...cells];
  out[latCol.index] = m[1]!;
  while (out.length <= lonCol.index) out.push('');
  out[lonCol.index] = m[2]!;
  add(line, latCol.header, 'coord.combined', { before: raw, after: `${m[1]} / ${m[2]}` });
  return out;
}

interface KeptColumn {
  index: number;
  header: string;
  def: ColumnDef | null;
  out: ColumnOut;
}

interface RowSetup {
  dataset: DatasetDef;
  width: number;
  namedWidth: number;
  kept: KeptColumn[];
  outColumns: ColumnOut[];
  bodyFrom: number;
  lat: number;
  lon: number;
  codeAt: number;
  idAt: number;
  municipalityCode: string;
  validate: ValidateFunction;
  headerOf: Map<string, string>;
  labelOf: Map<string, string>;
}

function prepare(
  head: Array<{ line: number; cells: string[] }>,
  options: AnalyseOptions,
  report: AnalysisReport,
  add: (line: number, column: string | null, rule: string, extra?: Partial<Issue>) => void,
): RowSetup {
  let at = 0;
  if (options.headerLine !== undefined) {
    at = head.findIndex((r) => r.line === options.headerLine);
    if (at < 0) at = head.length - 1;
  } else {
    let best = headerLikeness(head[0]!.cells);
    for (let i = 1; i < head.length; i++) {
      const score = headerLikeness(head[i]!.cells);
      if (score > best && score >= 2) {
        best = score;
        at = i;
      }
    }
  }
  const headerRec = head[at]!;
  report.headerLine = headerRec.line;
  report.metadataLines = head.slice(0, at).map((r) => r.line);
  if (at > 0) {
    add(headerRec.line, null, 'csv.metadata-rows', { before: report.metadataLines.join(',') });
    report.suggestions.push({ kind: 'header-line', line: headerRec.line });
  }
  const header = [...headerRec.cells];
  // Excel's trailing empty columns: empty header cells at the end.
  let width = header.length;
  while (width > 0 && header[width - 1]!.trim() === '') width--;
  for (let i = width; i < header.length; i++)
    add(headerRec.line, `(${i + 1}列目)`, 'csv.trailing-empty-column');
  const named = header.slice(0, width);
  if (named[0] === '_id' && !options.dropColumns?.includes('_id')) {
    report.suggestions.push({ kind: 'drop-column', column: '_id' });
  }
  const dropped = new Set(options.dropColumns ?? []);

  const ranked = rankDatasets(named.filter((h) => !dropped.has(h)));
  report.candidates = ranked
    .slice(0, 3)
    .map((m) => ({ id: m.dataset.id, title: m.dataset.title, score: m.score }));
  let chosen: DatasetDef | undefined;
  if (options.custom) chosen = customDataset(options.custom);
  else if (options.dataset) chosen = findDataset(options.dataset);
  else if ((ranked[0]?.score ?? 0) >= 0.3) chosen = ranked[0]!.dataset;
  if (chosen) {
    const picked = chosen;
    const score =
      picked.id === 'custom'
        ? mapColumns(picked, named).matched / (named.length || 1)
        : (ranked.find((m) => m.dataset.id === picked.id)?.score ?? 0);
    report.dataset = {
      id: chosen.id,
      title: chosen.title,
      titleEn: chosen.titleEn,
      entityType: chosen.entityType,
      score: Math.round(score * 100) / 100,
    };
  } else {
    // Nothing matches: every column is kept as an extension so the report and the mapping editor
    // can show the file; registration waits for a mapping.
    chosen = UNMATCHED;
    report.needsMapping = true;
  }

  const keptIdx = named.map((_, i) => i).filter((i) => !dropped.has(named[i]!));
  for (const i of named.map((_, i) => i).filter((i) => dropped.has(named[i]!))) {
    add(headerRec.line, named[i]!, 'csv.dropped-column');
  }
  const mapping = mapColumns(
    chosen,
    keptIdx.map((i) => named[i]!),
  );
  const seen = new Set<string>();
  const taken = new Set(chosen.columns.map((c) => c.attr));
  const kept: KeptColumn[] = keptIdx.map((index, k) => {
    const h = named[index]!;
    const norm = normaliseHeader(h);
    const duplicate = h.trim() !== '' && seen.has(norm);
    if (duplicate) add(headerRec.line, h, 'csv.duplicate-header');
    seen.add(norm);
    const def = mapping.columns[k] ?? null;
    if (!def && h.trim() !== '') add(headerRec.line, h, 'csv.unknown-column');
    const attr = def ? def.attr : extensionAttr(duplicate ? `${h}#${index}` : h, taken);
    taken.add(attr);
    return { index, header: h, def, out: { attr, kind: def?.kind ?? 'text' } };
  });
  const live = kept.filter((k) => k.header.trim() !== '');
  report.columns = kept.map((k) => ({
    index: k.index,
    header: k.header,
    attr: k.header.trim() === '' ? null : k.out.attr,
    label: k.def?.name ?? (k.header.trim() === '' ? null : k.header),
    kind: k.header.trim() === '' ? null : k.out.kind,
    type: null,
    standard: k.def !== null,
  }));
  const find = (attr: string, role?: ColumnDef['role']) =>
    kept.findIndex((k) => (role && k.def?.role === role) || (!k.def?.role && k.def?.attr === attr));
  return {
    dataset: chosen,
    width: header.length,
    namedWidth: width,
    kept,
    outColumns: kept.map((k) => (k.header.trim() === '' ? { attr: '', kind: 'text' } : k.out)),
    bodyFrom: at + 1,
    lat: find('latitude', 'lat'),
    lon: find('longitude', 'lon'),
    codeAt: find('localGovernmentCode'),
    idAt: find('identifier', 'id'),
    municipalityCode: options.municipalityCode ?? '',
    validate: validatorFor(chosen),
    headerOf: new Map(live.filter((k) => k.def).map((k) => [k.def!.attr, k.header])),
    labelOf: new Map(chosen.columns.map((c) => [c.attr, c.name])),
  };
}

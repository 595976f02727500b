/**
 * The open-data import command, the same pipeline as the upload page:
 *
 *   npm run tsunagu -- opendata import FILE [--dataset ID] [--municipality CODE] [--encoding auto|utf-8|shift_jis]
 *                                   [--header-line N] [--dataset-id CATALOGUE_ID] [--dry-run] [--json]
 *
 * `--dry-run` only analyses (no database, no broker); otherwise the platform is started on the
 * configured database and the rows are registered in the configured broker. Prints the report
 * (detected encoding, dataset and score, rows read and registered, errors and repairs by rule);
 * with `--json` as one JSON object. Exit status: 0 done, 1 file rejected, 2 usage.
 */

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { type AnalysisReport, analyseUpload, type EncodingChoice } from './analyse_upload.ts';
import { ruleText } from './messages.ts';
import { type AnalyseChoices, type OpendataService, toProblem } from './service.ts';

export interface ImportSummary {
  file: string;
  encoding: string;
  bom: boolean;
  dataset: { id: string; title: string; score: number } | null;
  headerLine: number;
  rowsRead: number;
  rowsValid: number;
  rowsInvalid: number;
  rowsRegistered: number | null;
  errors: number;
  warnings: number;
  repairs: number;
  byRule: Record<string, number>;
}

function summary(file: string, r: AnalysisReport, registered: number | null): ImportSummary {
  return {
    file,
    encoding: r.encoding,
    bom: r.bom,
    dataset: r.dataset ? { id: r.dataset.id, title: r.dataset.title, score: r.dataset.score } : null,
    headerLine: r.headerLine,
    rowsRead: r.rowsRead,
    rowsValid: r.rowsValid,
    rowsInvalid: r.rowsInvalid,
    rowsRegistered: registered,
    errors: r.counts.errors,
    warnings: r.counts.warnings,
    repairs: r.counts.repairs,
    byRule: r.counts.byRule,
  };
}

function human(s: ImportSummary, r: AnalysisReport): string {
  const lines = [
    `ファイル: ${s.file}`,
    `文字コード: ${s.encoding}${s.bom ? ' (BOM)' : ''}`,
    `データセット: ${s.dataset ? `${s.dataset.title} (${s.dataset.id}) 一致度 ${s.dataset.score}` : '-'}`,
    `見出し行: ${s.headerLine}行目`,
    `読み込み ${s.rowsRead}行 / 登録可能 ${s.rowsValid}行 / エラー ${s.rowsInvalid}行${s.rowsRegistered === null ? '（試行のみ / dry run）' : ` / 登録 ${s.rowsRegistered}件`}`,
    `エラー ${s.errors} / 警告 ${s.warnings} / 修正 ${s.repairs}`,
    ...Object.entries(s.byRule).map(([rule, n]) => `  ${rule}: ${n}（${ruleText(rule).ja}）`),
    ...r.issues
      .filter((i) => i.severity !== 'info')
      .slice(0, 50)
      .map(
        (i) =>
          `${i.line}行目${i.column ? `「${i.column}」` : ''}: ${ruleText(i.rule).ja}${i.before !== undefined ? ` 「${i.before}」` : ''}${i.after !== undefined ? ` → 「${i.after}」` : ''}`,
      ),
  ];
  return `${lines.join('\n')}\n`;
}

/** Runs `import`; `service` is absent for a dry run. Returns the exit status. */
export async function runImport(
  args: string[],
  out: (text: string) => void,
  openService: (() => Promise<{ service: OpendataService; close(): Promise<void> }>) | null,
): Promise<number> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        dataset: { type: 'string' },
        municipality: { type: 'string' },
        encoding: { type: 'string' },
        'header-line': { type: 'string' },
        'dataset-id': { type: 'string' },
        'dry-run': { type: 'boolean' },
        json: { type: 'boolean' },
      },
    });
  } catch (error) {
    out(`${(error as Error).message}\n`);
    return 2;
  }
  const [command, file] = parsed.positionals;
  if (command !== 'import' || !file) {
    out('usage: opendata import FILE [--dataset ID] [--municipality CODE] [--dry-run] [--json]\n');
    return 2;
  }
  const v = parsed.values as Record<string, string | boolean | undefined>;
  const choices: AnalyseChoices = {};
  if (typeof v['dataset'] === 'string') choices.dataset = v['dataset'];
  if (typeof v['municipality'] === 'string') choices.municipalityCode = v['municipality'];
  if (typeof v['encoding'] === 'string') choices.encoding = v['encoding'] as EncodingChoice;
  if (typeof v['header-line'] === 'string') choices.headerLine = Number(v['header-line']);
  const print = (s: ImportSummary, r: AnalysisReport) =>
    out(v['json'] ? `${JSON.stringify(s)}\n` : human(s, r));
  const fail = (error: unknown) => {
    const problem = toProblem(error) as { code?: string; detail?: string; message?: string };
    out(
      v['json']
        ? `${JSON.stringify({ file, error: problem.code ?? 'error', detail: problem.detail ?? problem.message })}\n`
        : `${problem.detail ?? problem.message}\n`,
    );
    return 1;
  };

  if (v['dry-run'] || !openService) {
    try {
      const report = await analyseUpload({
        open: () => createReadStream(file),
        sourceName: 'dry-run',
        ...choices,
      });
      print(summary(file, report, null), report);
      return 0;
    } catch (error) {
      return fail(error);
    }
  }

  const { service, close } = await openService();
  try {
    await service.ensureDir();
    const id = service.newUploadId();
    await copyFile(file, service.fileOf(id));
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(file)) hash.update(chunk);
    const upload = await service.createUpload({
      id,
      fileName: path.basename(file),
      bytes: (await stat(file)).size,
      sha256: hash.digest('hex'),
      choices,
      actor: 'cli:opendata-import',
    });
    const meta = typeof v['dataset-id'] === 'string' ? { datasetId: v['dataset-id'] } : {};
    await service.confirm(id, meta, 'cli:opendata-import');
    await service.settle();
    const done = await service.get(id);
    if (done.status !== 'registered') throw new Error(done.registration?.error ?? 'registration failed');
    print(summary(file, upload.report, done.registration?.entities ?? 0), upload.report);
    return 0;
  } catch (error) {
    return fail(error);
  } finally {
    await close();
  }
}

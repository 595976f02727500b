/**
 * npm run bench:opendata — in one run, on a generated Shift_JIS 公共施設 file (legacy header, CRLF,
 * CP932 characters, phones with parentheses, a repair in every tenth row):
 *   (1) read rate: decode + CSV records only (rows/s, MB/s);
 *   (2) analysis rate: decode + records + repairs + schema + entity mapping, no writing (rows/s);
 *   (3) end to end: HTTP upload (streamed) → analysis → confirm → entities in the embedded broker (rows/s),
 *       and the entity count in the broker afterwards;
 *   (4) peak RSS while analysing a file of BENCH_BIG_MB (default 200) MB, streamed.
 * Targets: ≥ 20k rows/s end to end; peak memory under 300 MB for a 200 MB file. Rates are given per
 * wall-clock second and, for the in-process phases, per CPU-second (stable on a shared machine).
 * BENCH_ROWS (default 100000) sets the size of the file of (1)–(3).
 */
import { spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import iconv from 'iconv-lite';
import { type BrokerServices, createBrokerModule } from '../broker/index.ts';
import { createCoreModule, type TokenVerifier } from '../core/index.ts';
import { analyseUpload, createOpendataModule, readRecords } from '../opendata/index.ts';
import { createPlatform } from '../platform.ts';
import { throwawayPostgres } from './support.ts';

const ROWS = Number(process.env['BENCH_ROWS'] ?? 100_000);
const BIG_MB = Number(process.env['BENCH_BIG_MB'] ?? 200);

const HEADER =
  '都道府県コード又は市区町村コード,NO,都道府県名,市区町村名,名称,名称_カナ,名称_通称,POIコード,住所,方書,緯度,経度,電話番号,内線番号,法人番号,団体名,利用可能曜日,開始時間,終了時間,利用可能日時特記事項,説明,バリアフリー情報,URL,備考';

function row(i: number): string {
  const lat = (35 + (i % 1000) / 1000).toFixed(6);
  const lon = (139 + (i % 997) / 1000).toFixed(6);
  const time = i % 10 === 0 ? '9：00' : '09:00';
  return [
    '131016',
    `F${i}`,
    '東京都',
    '千代田区',
    `髙橋記念①会館 第${i}号`,
    'タカハシキネンカイカン',
    '',
    '',
    `東京都千代田区千代田${i % 50}-${i % 7}`,
    '2階',
    lat,
    lon,
    '(03)3264-2111',
    '',
    '',
    '',
    '月火水木金',
    time,
    '17:00',
    '',
    `"説明 ${i}: 区民の集会、講座、展示に利用できます。"`,
    'スロープあり',
    'https://www.city.example.lg.jp/facility',
    '',
  ].join(',');
}

async function writeFile(file: string, rows: number): Promise<void> {
  async function* lines() {
    yield `${HEADER}\r\n`;
    let batch: string[] = [];
    for (let i = 1; i <= rows; i++) {
      batch.push(row(i));
      if (batch.length === 1000) {
        yield `${batch.join('\r\n')}\r\n`;
        batch = [];
      }
    }
    if (batch.length) yield `${batch.join('\r\n')}\r\n`;
  }
  await pipeline(
    Readable.from(lines()),
    iconv.encodeStream('cp932') as unknown as NodeJS.ReadWriteStream,
    createWriteStream(file),
  );
}

const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
/** CPU seconds this process used since `start` (the machine may be shared; wall time varies with load). */
const cpuSeconds = (start: NodeJS.CpuUsage) => {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1e6;
};

const tmp = mkdtempSync(path.join(os.tmpdir(), 'tsunagu-bench-opendata-'));
const file = path.join(tmp, 'public_facility.csv');
await writeFile(file, ROWS);
const size = statSync(file).size;
process.stdout.write(`file: ${ROWS} rows, ${mb(size)} MB, Shift_JIS (CP932), CRLF\n`);

// (1) read rate
{
  global.gc?.();
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  let n = 0;
  for await (const _ of readRecords(createReadStream(file, { highWaterMark: 256 * 1024 }), 'shift_jis')) n++;
  const s = (performance.now() - t0) / 1000;
  process.stdout.write(
    `read (decode + CSV records): ${Math.round(n / s)} records/s, ${(size / 1024 / 1024 / s).toFixed(1)} MB/s; ` +
      `${Math.round(n / cpuSeconds(c0))} records per CPU-second\n`,
  );
}

// (2) analysis rate
{
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const report = await analyseUpload({
    open: () => createReadStream(file, { highWaterMark: 256 * 1024 }),
    sourceName: 'bench',
  });
  const s = (performance.now() - t0) / 1000;
  process.stdout.write(
    `analyse (auto-detect + repairs + schema + mapping): ${Math.round(report.rowsRead / s)} rows/s, ` +
      `${Math.round(report.rowsRead / cpuSeconds(c0))} rows per CPU-second ` +
      `(${report.rowsValid} valid, ${report.counts.repairs} repairs, dataset ${report.dataset?.id} ${report.dataset?.score})\n`,
  );
}

// (3) end to end through HTTP into the embedded broker
{
  const pg = await throwawayPostgres();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'tsunagu-bench-opendata-data-'));
  const verifier: TokenVerifier = {
    verify: async (token) =>
      token === 'bench' ? { subject: 'bench', clientId: 'bench', scopes: ['opendata:admin'] } : null,
  };
  const platform = await createPlatform({
    env: {
      NODE_ENV: 'development',
      DATABASE_URL: pg.url,
      TSUNAGU_DATA_DIR: dataDir,
      LOG_LEVEL: 'silent',
      PORT: '0',
      HOST: '127.0.0.1',
      RATE_LIMIT_PER_MINUTE: '100000',
    },
    modules: [createCoreModule, createBrokerModule, createOpendataModule],
    tokenVerifier: verifier,
  });
  const { url } = await platform.listen();
  const headers = { authorization: 'Bearer bench' };
  const t0 = performance.now();
  const up = await fetch(`${url}/api/opendata/uploads?fileName=public_facility.csv&municipalityCode=131016`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'text/csv', 'content-length': String(size) },
    body: Readable.toWeb(createReadStream(file)) as ReadableStream,
    duplex: 'half',
  } as RequestInit);
  const uploaded = (await up.json()) as { id: string; report: { rowsRead: number } };
  const t1 = performance.now();
  await fetch(`${url}/api/opendata/uploads/${uploaded.id}/confirm`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: '{}',
  });
  let confirmed: { status: string; registration: { entities: number; batches: number } };
  do {
    await new Promise((r) => setTimeout(r, 200));
    const res = await fetch(`${url}/api/opendata/uploads/${uploaded.id}`, { headers });
    confirmed = (await res.json()) as typeof confirmed;
  } while (confirmed.status === 'registering');
  const t2 = performance.now();
  const broker = platform.services['broker'] as BrokerServices;
  const { totalCount } = await broker
    .client({ servicePath: '/opendata' })
    .listEntities({ type: 'PublicFacility', limit: 1, count: true });
  const rows = uploaded.report.rowsRead;
  process.stdout.write(
    `end to end (upload + analyse ${((t1 - t0) / 1000).toFixed(1)} s, confirm + register ${((t2 - t1) / 1000).toFixed(1)} s): ` +
      `${Math.round(rows / ((t2 - t0) / 1000))} rows/s; registered ${confirmed.registration.entities} in ${confirmed.registration.batches} batches; broker count ${totalCount}\n`,
  );
  await platform.stop();
  await pg.stop();
  rmSync(dataDir, { recursive: true, force: true });
}

// (4) peak memory on a big file, in a fresh process that loads only the pipeline (bench/opendata_memory.ts)
{
  const bigRows = Math.round((BIG_MB * 1024 * 1024 * ROWS) / size);
  const big = path.join(tmp, 'big.csv');
  await writeFile(big, bigRows);
  const bigSize = statSync(big).size;
  const child = spawnSync(
    process.execPath,
    [fileURLToPath(new URL('./opendata_memory.ts', import.meta.url)), big],
    {
      encoding: 'utf8',
    },
  );
  const out = JSON.parse(child.stdout) as {
    rows: number;
    seconds: number;
    cpu: number;
    baseline: number;
    peak: number;
  };
  process.stdout.write(
    `big file: ${mb(bigSize)} MB, ${out.rows} rows analysed and mapped in ${out.seconds.toFixed(1)} s ` +
      `(${Math.round(out.rows / out.seconds)} rows/s, ${Math.round(out.rows / out.cpu)} per CPU-second); peak RSS ${mb(out.peak)} MB (process baseline ${mb(out.baseline)} MB)\n`,
  );
}

rmSync(tmp, { recursive: true, force: true });

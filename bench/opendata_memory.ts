/**
 * Child of `bench/opendata.ts`: analyses and maps one file (streamed, entities discarded) in a
 * process that loads only the pipeline, and prints rows, wall and CPU seconds, baseline and peak RSS
 * as JSON.
 */
import { createReadStream } from 'node:fs';
import { analyseUpload } from '../opendata/analyse_upload.ts';

const file = process.argv[2]!;
const baseline = process.memoryUsage().rss;
let peak = baseline;
const timer = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage().rss);
}, 10);
const t0 = performance.now();
const c0 = process.cpuUsage();
const report = await analyseUpload({
  open: () => createReadStream(file, { highWaterMark: 256 * 1024 }),
  sourceName: 'bench',
  onEntity: async () => {},
});
clearInterval(timer);
const cpu = process.cpuUsage(c0);
process.stdout.write(
  JSON.stringify({
    rows: report.rowsRead,
    seconds: (performance.now() - t0) / 1000,
    cpu: (cpu.user + cpu.system) / 1e6,
    baseline,
    peak: Math.max(peak, process.memoryUsage().rss),
  }),
);

/**
 * `npm run tsunagu -- import users|balances|history|visits FILE --source NAME [options]`:
 * migration from the system a city replaces (modules.ts lists these as the `import` commands).
 *
 *   users     residents (CSV with legacy_id, email, name, …) → e-mail accounts keyed by legacy id
 *   balances  user_id, currency, point_type, amount, expires_at[, id] → opening lots (migration pool)
 *   history   user_id, currency, occurred_at, kind, amount[, point_type, description, id] → read-only
 *   visits    user_id, visited_at, place[, kind, id] (CSV or JSON) → read-only visits
 *
 * Options: --dry-run (report only), --mapping FILE.json (our field → the source's column),
 * --invite (users: mail invitations), --keep-source (otherwise the file is deleted after a
 * successful import: the platform keeps only what it imported, never the export).
 * Prints the report (issues by line, counts, reconciliation per point type) as JSON; exits 0 when
 * it was applied (or would be) and reconciles, 1 otherwise.
 */
import { readFileSync, rmSync } from 'node:fs';
import type { ModuleCommand } from '../../core/index.ts';
import type { IdpServices } from '../../idp/index.ts';
import type { PointsService } from '../index.ts';
import type { Mapping } from './read_source.ts';

function options(args: string[]): { file?: string; flags: Map<string, string> } {
  const flags = new Map<string, string>();
  let file: string | undefined;
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i]!;
    if (!arg.startsWith('--')) {
      file ??= arg;
      continue;
    }
    const next = args[i + 1];
    const isFlag = next === undefined || next.startsWith('--');
    flags.set(arg.slice(2), isFlag ? 'true' : next);
    if (!isFlag) i += 1;
  }
  return { ...(file ? { file } : {}), flags };
}

const USAGE =
  'usage: import users|balances|history|visits FILE --source NAME [--dry-run] [--mapping FILE.json] [--invite] [--keep-source]';

function command(kind: 'users' | 'balances' | 'history' | 'visits', summary: string): ModuleCommand {
  return {
    summary,
    async run(args, io) {
      const { file, flags } = options(args);
      const source = flags.get('source');
      if (!file || !source) {
        io.out(`${USAGE}\n`);
        return 2;
      }
      const bytes = new Uint8Array(readFileSync(file));
      const mappingFile = flags.get('mapping');
      const mapping = mappingFile ? (JSON.parse(readFileSync(mappingFile, 'utf8')) as Mapping) : undefined;
      const dryRun = flags.has('dry-run');
      const { services } = await io.platform();
      const idp = services['idp'] as IdpServices;
      const points = services['points'] as PointsService;
      let ok: boolean;
      if (kind === 'users') {
        const report = dryRun
          ? await idp.bulk.preview(bytes, { legacySource: source })
          : await idp.bulk.apply(bytes, {
              actor: 'cli:import',
              invite: flags.has('invite'),
              legacySource: source,
            });
        io.out(`${JSON.stringify(report, null, 2)}\n`);
        ok = !report.fileProblem && report.issues.length === 0;
      } else {
        const input = {
          source,
          bytes,
          actor: 'cli:import',
          resolveHolder: (id: string) => idp.residents.findByLegacy(source, id),
          dryRun,
          ...(mapping ? { mapping } : {}),
        };
        const report =
          kind === 'balances'
            ? await points.migration.importBalances(input)
            : kind === 'history'
              ? await points.migration.importHistory(input)
              : await points.migration.importVisits(input);
        io.out(`${JSON.stringify(report, null, 2)}\n`);
        ok =
          !report.fileProblem &&
          report.issues.length === 0 &&
          report.reconciliation.every((l) => l.reconciled);
      }
      if (ok && !dryRun && !flags.has('keep-source')) {
        rmSync(file);
        io.out(`removed ${file} (imported; use --keep-source to keep it)\n`);
      }
      return ok ? 0 : 1;
    },
  };
}

export const importCommands: Record<string, ModuleCommand> = {
  users: command('users', "import the previous system's users (legacy ids) as e-mail accounts"),
  balances: command('balances', 'import point balances as opening lots funded from the migration pool'),
  history: command('history', "import the previous system's point history (read-only)"),
  visits: command('visits', 'import visit/usage history from another system (CSV/JSON, --mapping)'),
};

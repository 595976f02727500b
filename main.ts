/**
 * The `tsunagu` command: `npm run tsunagu -- <command>`.
 *
 *   start          run the platform (default)
 *   migrate        apply pending migrations and exit
 *   audit verify   check the audit chain and its signed checkpoints; exit 1 at the first break
 *   backup         write a backup of every schema now
 *   restore FILE   restore a backup into an empty database
 *   help           list the commands
 *
 * Modules add their admin commands to `COMMANDS` below.
 */
import { existsSync, renameSync } from 'node:fs';
import path from 'node:path';
import { restoreBackup } from './core/index.ts';
import { MODULE_COMMANDS } from './modules.ts';
import { createPlatform, type Platform } from './platform.ts';

/**
 * Checkpoints in the local file may describe a longer chain than the restored one (a restore goes
 * back in time); they are kept aside, not deleted, and the restored database's checkpoints count.
 */
function setAsideCheckpointFile(dataDir: string): void {
  const file = path.join(dataDir, 'audit', 'checkpoints.jsonl');
  if (existsSync(file)) renameSync(file, `${file}.before-restore-${Date.now()}`);
}

interface Command {
  summary: string;
  run(args: string[]): Promise<number>;
}

async function withPlatform(
  fn: (platform: Platform) => Promise<number>,
  // Admin commands need the database and the modules' services, not their workers and timers.
  options: { migrate?: boolean; start?: boolean } = { start: false },
): Promise<number> {
  const platform = await createPlatform({ env: { LOG_LEVEL: 'warn', ...process.env }, ...options });
  try {
    return await fn(platform);
  } finally {
    await platform.stop();
  }
}

const COMMANDS: Record<string, Command> = {
  start: {
    summary: 'run the platform',
    async run() {
      const platform = await createPlatform();
      const { url } = await platform.listen();
      platform.logger.info({ url, embeddedDatabase: platform.db.embedded }, `Tsunagu listening on ${url}`);
      process.stdout.write(`Tsunagu is running at ${url} (ready: ${url}/readyz). Stop with Ctrl+C.\n`);
      await new Promise<void>((resolve) => {
        const shutdown = (signal: string) => {
          platform.logger.info({ signal }, 'shutting down');
          platform.stop().then(resolve, (error) => {
            platform.logger.error({ err: error }, 'shutdown failed');
            resolve();
          });
        };
        process.once('SIGINT', () => shutdown('SIGINT'));
        process.once('SIGTERM', () => shutdown('SIGTERM'));
      });
      return 0;
    },
  },
  migrate: {
    summary: 'apply pending migrations and exit',
    run: () =>
      withPlatform(async (platform) => {
        process.stdout.write(`migrations up to date (${platform.migrations.length} module schema(s))\n`);
        return 0;
      }),
  },
  'audit verify': {
    summary: 'verify the audit chain and its signed checkpoints',
    run: () =>
      withPlatform(async (platform) => {
        const report = await platform.audit.verify();
        if (report.ok) {
          process.stdout.write(
            `audit chain OK: ${report.entries} entries, ${report.checkpoints} checkpoint(s) verified\n`,
          );
          return 0;
        }
        process.stdout.write(
          `audit chain BROKEN at sequence ${report.firstBrokenSeq}: ${report.reason}\n` +
            `(${report.entries} entries verified before it, ${report.checkpoints} checkpoint(s))\n`,
        );
        return 1;
      }),
  },
  backup: {
    summary: 'write a consistent, compressed backup of every schema to BACKUP_DIR now',
    run: () =>
      withPlatform(
        async (platform) => {
          const result = await platform.backups.runOnce();
          if (!result) {
            process.stdout.write('another instance is writing a backup right now; nothing done\n');
            return 1;
          }
          const rows = result.manifest.tables.reduce((n, t) => n + t.rows, 0);
          process.stdout.write(
            `backup written: ${result.file}\n  ${result.manifest.tables.length} tables, ${rows} rows` +
              `${result.manifest.encrypted ? ', encrypted' : ''}; keeping ${platform.config.backupGenerations} generations\n`,
          );
          return 0;
        },
        { start: false },
      ),
  },
  restore: {
    summary: 'restore FILE into an empty database, then verify the audit chain',
    run: (args) =>
      withPlatform(
        async (platform) => {
          const file = args[0];
          if (!file) {
            process.stderr.write('usage: npm run tsunagu -- restore FILE\n');
            return 2;
          }
          const manifest = await restoreBackup({
            db: platform.db,
            file,
            migrations: platform.migrations,
            ...(platform.config.backupKey ? { key: Buffer.from(platform.config.backupKey, 'base64') } : {}),
          });
          setAsideCheckpointFile(platform.config.dataDir);
          const rows = manifest.tables.reduce((n, t) => n + t.rows, 0);
          process.stdout.write(
            `restored backup of ${manifest.createdAt}: ${manifest.tables.length} tables, ${rows} rows\n`,
          );
          const report = await platform.audit.verify();
          process.stdout.write(
            report.ok
              ? `audit chain OK: ${report.entries} entries, ${report.checkpoints} checkpoint(s) verified\n`
              : `audit chain BROKEN at sequence ${report.firstBrokenSeq}: ${report.reason}\n`,
          );
          return report.ok ? 0 : 1;
        },
        { migrate: false, start: false },
      ),
  },
  'audit checkpoint': {
    summary: 'sign a checkpoint of the current audit head now',
    run: () =>
      withPlatform(async (platform) => {
        const checkpoint = await platform.audit.checkpoint();
        process.stdout.write(
          checkpoint ? `checkpoint signed at size ${checkpoint.size}\n` : 'nothing new to checkpoint\n',
        );
        return 0;
      }),
  },
};

function help(): number {
  process.stdout.write('usage: npm run tsunagu -- <command>\n\n');
  for (const [name, command] of Object.entries(COMMANDS)) {
    process.stdout.write(`  ${name.padEnd(22)} ${command.summary}\n`);
  }
  for (const [module, commands] of Object.entries(MODULE_COMMANDS)) {
    for (const [name, command] of Object.entries(commands)) {
      process.stdout.write(`  ${`${module} ${name}`.padEnd(22)} ${command.summary}\n`);
    }
  }
  return 0;
}

/** Runs a module's command; the platform is opened only if the command asks for it. */
async function runModuleCommand(argv: string[]): Promise<number | undefined> {
  const commands = MODULE_COMMANDS[argv[0] ?? ''];
  if (!commands) return undefined;
  for (const length of [2, 1]) {
    const command = commands[argv.slice(1, 1 + length).join(' ')];
    if (!command) continue;
    let platform: Platform | undefined;
    try {
      return await command.run(argv.slice(1 + length), {
        out: (text) => process.stdout.write(text),
        async platform() {
          // Modules' services may need their start hooks (the identity provider builds its provider there).
          platform ??= await createPlatform({ env: { LOG_LEVEL: 'warn', ...process.env } });
          return platform;
        },
      });
    } finally {
      await platform?.stop();
    }
  }
  return undefined;
}

async function main(argv: string[]): Promise<number> {
  if (argv.length === 0) return COMMANDS['start']!.run([]);
  if (argv[0] === 'help' || argv[0] === '--help') return help();
  for (const length of [2, 1]) {
    const name = argv.slice(0, length).join(' ');
    const command = COMMANDS[name];
    if (command) return command.run(argv.slice(length));
  }
  const moduleResult = await runModuleCommand(argv);
  if (moduleResult !== undefined) return moduleResult;
  process.stderr.write(`unknown command: ${argv.join(' ')}\n\n`);
  help();
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(`tsunagu: ${error.message}\n`);
    process.exit(1);
  },
);

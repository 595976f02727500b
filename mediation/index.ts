/**
 * mediation — the partner-facing personal-data API: partners read a linked resident's consented
 * items (basic 4 info, contact data) for a declared purpose, and pass items to each other under
 * data-flow consents; every attempt lands in a tamper-evident access log the resident can read.
 * Owns the schema `mediation` (encrypted personal-data store and its key hierarchy, service
 * registry, flow deliveries, access log). See README.md.
 *
 * @example
 *   const mediation = ctx.services['mediation'] as MediationServices;
 *   const entries = await mediation.history(commonId); // the resident's access history
 *   await mediation.registry.add({ service: clientId, name: '健康アプリ', items: ['birthdate'],
 *     purposes: [{ code: 'age-check', label: '年齢確認' }] }, 'staff:7');
 */
import path from 'node:path';
import { Counter } from 'prom-client';
import type { ConsentServices } from '../consent/index.ts';
import { hkdfSync } from 'node:crypto';
import { deriveKey, type ModuleFactory } from '../core/index.ts';
import type { IdpServices } from '../idp/index.ts';
import { createAccessLog } from './access_log.ts';
import { createDataKeys, keksFromConfig, previousMasterKeys } from './data_keys.ts';
import { sweepIdempotency } from './idempotency.ts';
import { createLogArchive } from './log_archive.ts';
import { createLogSigner } from './log_signer.ts';
import { createMediationServices, type MediationServices } from './mediation_services.ts';
import { createPersonalData } from './personal_data.ts';
import { type Decider, type Directory, idpDirectory } from './ports.ts';
import './problems.ts';
import { adminRoutes } from './routes/admin_routes.ts';
import { partnerRoutes } from './routes/partner_routes.ts';
import { mediationMigrations } from './schema.ts';
import { createServiceRegistry } from './service_registry.ts';
import { verifyAccessLog } from './verify_log.ts';

export type { AccessView, StaffAccessView, StaffFilter } from './access_history.ts';
export type { AccessEntry, ItemDecision } from './access_log.ts';
export { MEDIATION_COMMANDS } from './cli.ts';
export type { Delivery, SendAnswer, SendRequest } from './data_flows.ts';
export type { MediationServices } from './mediation_services.ts';
export type { ReadAnswer, ReadRequest } from './provide_items.ts';
export type { FlowRule, Purpose, RegisteredService, ServiceInput } from './service_registry.ts';

export interface MediationOptions {
  /** Municipality code whose data key seals a resident's data when the address matches no prefix. */
  defaultMunicipality?: string;
  /** Address prefix → municipality code (e.g. `{ '東京都千代田区': '131016' }`). */
  municipalities?: Record<string, string>;
  /** Days a month segment of the access log stays online after the month ends (≥ 365; default 400). */
  logOnlineDays?: number;
  logCheckpointEvery?: number;
  logCheckpointMinutes?: number;
  /** Where sealed archive segments go (default `TSUNAGU_DATA_DIR/mediation/archive`). */
  archiveDir?: string;
  /** Environment (previous master keys); defaults to `process.env`. */
  env?: Record<string, string | undefined>;
  /** Background re-encryption / re-wrap / retention interval (ms); 0 turns it off (tests). */
  maintenanceIntervalMs?: number;
  directory?: Directory;
  decider?: Decider;
}

/**
 * Options from the environment: MEDIATION_DEFAULT_MUNICIPALITY, MEDIATION_MUNICIPALITIES
 * (`prefix=code;prefix=code`), MEDIATION_LOG_ONLINE_DAYS, MEDIATION_LOG_CHECKPOINT_EVERY,
 * MEDIATION_LOG_CHECKPOINT_MINUTES, MEDIATION_ARCHIVE_DIR, MEDIATION_PREVIOUS_MASTER_KEYS.
 */
export function mediationOptionsFromEnv(
  env: Record<string, string | undefined> = process.env,
): MediationOptions {
  const num = (name: string) => (env[name] ? Number(env[name]) : undefined);
  const municipalities = Object.fromEntries(
    (env['MEDIATION_MUNICIPALITIES'] ?? '')
      .split(';')
      .map((pair) => pair.split('=').map((s) => s.trim()))
      .filter((p): p is [string, string] => p.length === 2 && !!p[0] && !!p[1]),
  );
  const options: MediationOptions = { env, municipalities };
  if (env['MEDIATION_DEFAULT_MUNICIPALITY'])
    options.defaultMunicipality = env['MEDIATION_DEFAULT_MUNICIPALITY'];
  if (num('MEDIATION_LOG_ONLINE_DAYS')) options.logOnlineDays = num('MEDIATION_LOG_ONLINE_DAYS')!;
  if (num('MEDIATION_LOG_CHECKPOINT_EVERY'))
    options.logCheckpointEvery = num('MEDIATION_LOG_CHECKPOINT_EVERY')!;
  if (num('MEDIATION_LOG_CHECKPOINT_MINUTES'))
    options.logCheckpointMinutes = num('MEDIATION_LOG_CHECKPOINT_MINUTES')!;
  if (env['MEDIATION_ARCHIVE_DIR']) options.archiveDir = env['MEDIATION_ARCHIVE_DIR'];
  return options;
}

const ARCHIVE_PURPOSE = 'tsunagu/mediation/log-archive';

export function mediationModule(options: MediationOptions = {}): ModuleFactory<MediationServices> {
  return (ctx) => {
    const { db, audit, config, now } = ctx;
    const idp = ctx.services['idp'] as IdpServices | undefined;
    const consent = ctx.services['consent'] as ConsentServices | undefined;
    const directory = options.directory ?? (idp ? idpDirectory(idp) : undefined);
    const decider = options.decider ?? consent;
    if (!directory || !decider) throw new Error('mediation needs the idp and consent modules before it');
    const env = options.env ?? process.env;
    const keys = createDataKeys({ db, keks: keksFromConfig(config, env), now });
    const previous = previousMasterKeys(env);
    const personal = createPersonalData({ db, keys, now });
    const signer = createLogSigner(config);
    const checkpointFile = path.join(config.dataDir, 'mediation', 'log-checkpoints.jsonl');
    const log = createAccessLog({
      db,
      audit,
      signer,
      logger: ctx.logger,
      checkpointFile,
      checkpointEvery: options.logCheckpointEvery ?? 1000,
      checkpointMinutes: options.logCheckpointMinutes ?? 10,
      now,
    });
    const archive = createLogArchive({
      db,
      audit,
      signer,
      key: deriveKey(config, ARCHIVE_PURPOSE),
      previousKeys: previous.map((m) =>
        Buffer.from(hkdfSync('sha256', m, Buffer.alloc(0), ARCHIVE_PURPOSE, 32)),
      ),
      dir: options.archiveDir ?? path.join(config.dataDir, 'mediation', 'archive'),
      onlineDays: options.logOnlineDays ?? 400,
      now,
    });
    const registry = createServiceRegistry({
      db,
      audit,
      now,
      itemCodes: Object.keys(consent?.dataItems ?? {}),
      clientExists: (id) => directory.clientExists(id),
    });
    const defaultMunicipality = options.defaultMunicipality ?? '000000';
    const municipalityForAddress = (address: string) =>
      Object.entries(options.municipalities ?? {}).find(([prefix]) => address.startsWith(prefix))?.[1] ??
      defaultMunicipality;
    const municipalityOf = async (resident: string) => {
      const { rows } = await db.query<{ municipality: string }>(
        'SELECT municipality FROM mediation.personal_data WHERE resident = $1 LIMIT 1',
        [resident],
      );
      return rows[0]?.municipality ?? defaultMunicipality;
    };

    // The identity provider hands over the verified basic 4 info in its enrolment transaction.
    idp?.accounts.onProfile(async (tx, commonId, p) => {
      await personal.put(
        {
          resident: commonId,
          municipality: municipalityForAddress(p.address),
          values: { name: p.name, address: p.address, birthdate: p.birthdate, gender: p.gender },
          source: 'idp',
        },
        tx,
      );
    });
    const importFromIdp = async (resident: string) => {
      const p = (await idp?.accounts.find(resident))?.profile;
      if (!p) return false;
      await personal.put({
        resident,
        municipality: municipalityForAddress(p.address),
        values: { name: p.name, address: p.address, birthdate: p.birthdate, gender: p.gender },
        source: 'idp',
      });
      return true;
    };

    // Attempts by kind and decision, and access-log writes that failed (nothing was served then).
    const attempts = new Counter({
      name: 'tsunagu_mediation_attempts_total',
      help: 'Personal-data attempts by kind and decision',
      labelNames: ['kind', 'decision'] as const,
      registers: [ctx.metrics],
    });
    const logFailures = new Counter({
      name: 'tsunagu_mediation_log_failures_total',
      help: 'Access-log writes that failed (the attempt was refused)',
      registers: [ctx.metrics],
    });
    const countedLog: typeof log = {
      ...log,
      record: (entry) =>
        log.record(entry).then(
          (ref) => {
            attempts.inc({ kind: entry.kind, decision: entry.decision });
            return ref;
          },
          (error: unknown) => {
            logFailures.inc();
            throw error;
          },
        ),
    };
    const flowDeps = {
      registry,
      directory,
      decider,
      personal,
      log: countedLog,
      now,
      db,
      keys,
      municipalityOf,
    };
    const services = createMediationServices({
      ...flowDeps,
      audit,
      archive,
      verify: () =>
        verifyAccessLog(db, [signer, ...previous.map((m) => createLogSigner(config, m))], checkpointFile),
      importFromIdp,
    });

    let timer: NodeJS.Timeout | undefined;
    let running: Promise<unknown> | undefined;
    const maintain = async () => {
      await services.rewrapKeys('mediation');
      await services.reencryptAll();
      await services.runRetention('mediation');
      await sweepIdempotency(db, now());
    };
    return {
      name: 'mediation',
      migrations: mediationMigrations,
      routers: [
        { prefix: '/api/mediation', router: partnerRoutes(ctx, flowDeps) },
        { prefix: '/api/admin/mediation', router: adminRoutes(ctx, services) },
      ],
      services,
      async start() {
        const every = options.maintenanceIntervalMs ?? 60_000;
        if (every <= 0) return;
        running = maintain().catch((err: unknown) =>
          ctx.logger.warn({ err }, 'mediation maintenance failed'),
        );
        timer = setInterval(() => {
          if (running) return;
          running = maintain()
            .catch((err: unknown) => ctx.logger.warn({ err }, 'mediation maintenance failed'))
            .finally(() => (running = undefined));
        }, every);
        timer.unref();
        void running.finally(() => (running = undefined));
      },
      async stop() {
        if (timer) clearInterval(timer);
        await running;
        await log.close();
      },
    };
  };
}

/** The mediation module configured from the environment (see `mediationOptionsFromEnv`). */
export const createMediationModule: ModuleFactory<MediationServices> = (ctx) =>
  mediationModule(mediationOptionsFromEnv())(ctx);

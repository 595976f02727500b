/**
 * The mediation module's services, as other modules (portal pages), the routes and the CLI use them.
 */
import type { AuditLog, Database } from '../core/index.ts';
import {
  type AccessView,
  residentHistory,
  type StaffAccessView,
  type StaffFilter,
  staffQuery,
  toCsv,
} from './access_history.ts';
import type { AccessLog } from './access_log.ts';
import type { DataKeys, DataKeyStatus } from './data_keys.ts';
import {
  ackFlows,
  type Delivery,
  type FlowDeps,
  receiveFlows,
  type SendAnswer,
  type SendRequest,
  sendFlow,
} from './data_flows.ts';
import type { LogArchive } from './log_archive.ts';
import type { PersonalData } from './personal_data.ts';
import { provideItems, type ReadAnswer, type ReadRequest } from './provide_items.ts';
import type { RegisteredService, ServiceRegistry } from './service_registry.ts';
import type { LogVerifyReport } from './verify_log.ts';

export interface MediationServices {
  registry: ServiceRegistry;
  personalData: PersonalData;
  /** A partner reads consented items (the HTTP route's pipeline). */
  provide(request: ReadRequest): Promise<ReadAnswer>;
  sendFlow(request: SendRequest): Promise<SendAnswer>;
  receiveFlows(service: string, limit?: number): Promise<Delivery[]>;
  /** The recipient holds these deliveries: their payloads are deleted. Answers the ids acknowledged now. */
  ackFlows(service: string, flowIds: string[]): Promise<string[]>;
  /** The resident's access history, newest first, without entries still under suppression. */
  history(resident: string, options?: { limit?: number }): Promise<AccessView[]>;
  historyCsv(resident: string): Promise<string>;
  /** The staff view with filters (callers audit the read). */
  staffLog(filter: StaffFilter): Promise<StaffAccessView[]>;
  staffLogCsv(filter: StaffFilter): Promise<string>;
  verifyLog(): Promise<LogVerifyReport>;
  checkpointLog(): Promise<{ size: number; head: string } | null>;
  /** Archives and purges segments past their online retention; returns the purged segments. */
  runRetention(actor: string): Promise<string[]>;
  archive: LogArchive;
  keyStatus(): Promise<DataKeyStatus[]>;
  rotateDataKey(municipality: string, actor: string): Promise<{ municipality: string; version: number }>;
  /** Moves every row off retired data keys (batches); returns how many rows moved. */
  reencryptAll(): Promise<number>;
  /** Re-wraps data keys under the current master key; returns how many. */
  rewrapKeys(actor: string): Promise<number>;
  /** Copies a resident's verified basic 4 info from the identity provider (accounts enrolled earlier). */
  importFromIdp(resident: string): Promise<boolean>;
  /** Display names of services, for pages. */
  serviceNames(): Promise<Record<string, string>>;
}

export function createMediationServices(
  deps: FlowDeps & {
    audit: AuditLog;
    db: Database;
    keys: DataKeys;
    archive: LogArchive;
    log: AccessLog;
    verify: () => Promise<LogVerifyReport>;
    importFromIdp: (resident: string) => Promise<boolean>;
  },
): MediationServices {
  const { db, audit, keys, now } = deps;
  const services: MediationServices = {
    registry: deps.registry,
    personalData: deps.personal,
    provide: (request) => provideItems(deps, request),
    sendFlow: (request) => sendFlow(deps, request),
    receiveFlows: (service, limit) => receiveFlows(deps, service, limit),
    ackFlows: (service, ids) => ackFlows(deps, service, ids),
    history: (resident, options) => residentHistory(db, resident, now(), options),
    historyCsv: async (resident) => toCsv(await residentHistory(db, resident, now(), { limit: 5000 }), false),
    staffLog: (filter) => staffQuery(db, filter),
    staffLogCsv: async (filter) => toCsv(await staffQuery(db, filter), true),
    verifyLog: deps.verify,
    checkpointLog: () => deps.log.checkpoint(),
    runRetention: (actor) => deps.archive.runDue(actor),
    archive: deps.archive,
    keyStatus: () => keys.status(),
    async rotateDataKey(municipality, actor) {
      const version = await keys.rotate(municipality);
      await audit.record({
        actor,
        action: 'mediation.keys.rotate',
        target: `mediation:data-key:${municipality}`,
        details: { version },
      });
      return { municipality, version };
    },
    async reencryptAll() {
      let total = 0;
      for (;;) {
        const moved = await deps.personal.reencrypt(500);
        total += moved;
        if (moved === 0) return total;
      }
    },
    async rewrapKeys(actor) {
      const count = await keys.rewrap();
      if (count > 0)
        await audit.record({
          actor,
          action: 'mediation.keys.rewrap',
          target: 'mediation:data-keys',
          details: { count, kekId: keys.kekId },
        });
      return count;
    },
    importFromIdp: deps.importFromIdp,
    async serviceNames() {
      const list: RegisteredService[] = await deps.registry.list();
      return Object.fromEntries(list.map((s) => [s.service, s.name]));
    },
  };
  return services;
}

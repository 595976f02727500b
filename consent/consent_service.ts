/**
 * The consent module's services, as other modules and the HTTP routes use them. Mutations take an
 * optional transaction so the routes can commit them together with an Idempotency-Key answer.
 */
import type { AuditLog, Config, Database, Queryable } from '../core/index.ts';
import { ProblemError } from '../core/index.ts';
import { type ConsentAction, changeConsent, expireDue } from './change_consent.ts';
import { DATA_ITEMS } from './data_items.ts';
import { type Decision, type DecisionQuery, decide } from './decide.ts';
import { type GiveInput, giveConsent } from './give_consent.ts';
import { sweepIdempotency } from './idempotency.ts';
import {
  findNotice,
  latestMaterialVersion,
  type Notice,
  type NoticeInput,
  publishNotice,
} from './notices.ts';
import type { ResidentDirectory } from './ports.ts';
import { buildReceipt, type ReceiptKeys, type ReceiptOptions } from './receipts.ts';
import {
  type ConsentEvent,
  type ConsentRecord,
  findRecord,
  listEvents,
  listRecords,
  residentHistory,
  toRecord,
} from './records.ts';
import type { Sealer } from './seal.ts';
import {
  isLinked,
  issueLinkCode,
  type LinkMethod,
  linkVerified,
  linkWithCode,
  listLinks,
  type ServiceLink,
  unlink,
} from './service_links.ts';
import { type DeliveryReport, deliverDue, registerWebhook } from './webhooks.ts';

export interface ConsentChange {
  /** The addressed or created records (a data flow's pair side by side). */
  records: ConsentRecord[];
  /** How many records actually changed. */
  changed: number;
}

export type HistoryEntry = Awaited<ReturnType<typeof residentHistory>>[number];

export interface ConsentServices {
  /** "May `service` receive `item` about `resident` for `purpose` now?" Deny by default. */
  decide(query: DecisionQuery): Promise<Decision>;
  give(input: GiveInput, actor?: string, tx?: Queryable): Promise<ConsentChange>;
  change(
    input: { id: string; resident: string; action: ConsentAction },
    actor?: string,
    tx?: Queryable,
  ): Promise<ConsentChange>;
  /**
   * Gives the consent behind record `id` again under its notice's latest version: re-consent after
   * a material notice change, or consent again after a withdrawal or expiry.
   */
  consentAgain(id: string, resident: string, actor?: string, tx?: Queryable): Promise<ConsentChange>;
  /** A notice's latest version and its newest material version published by now (0 when none). */
  currentNotice(noticeId: string): Promise<{ latest: Notice; materialVersion: number } | undefined>;
  /** A one-time code (10 minutes) a partner shows its signed-in user to link that account. */
  issueLinkCode(service: string, accountRef: string): Promise<{ code: string; expiresAt: string }>;
  /** The resident links the partner account behind `code` to their common ID. */
  link(resident: string, code: string, actor?: string, tx?: Queryable): Promise<ServiceLink>;
  /**
   * Records a link whose proof the caller verified: the portal's OAuth/OIDC redirect, where the
   * resident signed in at the partner and `accountRef` is the subject its ID token named.
   */
  linkVerified(
    link: { resident: string; service: string; accountRef: string; method: LinkMethod },
    actor?: string,
    tx?: Queryable,
  ): Promise<ServiceLink>;
  unlink(resident: string, service: string, actor?: string, tx?: Queryable): Promise<ServiceLink>;
  /** The resident's links, current and ended, newest first. */
  links(resident: string): Promise<ServiceLink[]>;
  isLinked(resident: string, service: string): Promise<boolean>;
  /**
   * The points module's exchange policy: the resident is linked to both services and a live
   * `points-history` flow from the source to the target for `point-exchange` exists.
   */
  mayExchange(query: { resident: string; sourceService: string; targetService: string }): Promise<boolean>;
  get(id: string): Promise<ConsentRecord | undefined>;
  list(resident: string): Promise<ConsentRecord[]>;
  events(id: string): Promise<ConsentEvent[]>;
  history(resident: string): Promise<HistoryEntry[]>;
  /** The signed receipt of one of the resident's consents. */
  receipt(
    id: string,
    resident: string,
  ): Promise<{ receipt: Record<string, unknown>; jws: string; kid: string }>;
  receiptKeys(): Promise<{ keys: unknown[] }>;
  publishNotice(input: NoticeInput, actor: string): Promise<Notice>;
  notice(noticeId: string, version?: number): Promise<Notice | undefined>;
  registerWebhook(service: string, url: string, actor: string): Promise<{ url: string; secret: string }>;
  /** Delivers due consent status records to the services' webhooks. */
  deliverDue(): Promise<DeliveryReport>;
  /** Writes `expired` events for consents whose validity ended. */
  expireDue(): Promise<number>;
  /** Forgets Idempotency-Key answers older than a day. */
  sweepIdempotency(): Promise<number>;
  dataItems: typeof DATA_ITEMS;
}

export interface ServiceDeps {
  db: Database;
  audit: AuditLog;
  config: Config;
  directory: ResidentDirectory;
  sealer: Sealer;
  keys: ReceiptKeys;
  receiptOptions: ReceiptOptions;
  now: () => Date;
}

export function createConsentServices(deps: ServiceDeps): ConsentServices {
  const { db, audit, directory, now } = deps;
  const inTx = <T>(tx: Queryable | undefined, fn: (tx: Queryable) => Promise<T>) =>
    tx ? fn(tx) : db.transaction(fn);
  return {
    decide: (query) => decide(db, query, now()),
    give(input, actor = 'resident', tx) {
      return inTx(tx, async (t) => {
        const at = now();
        const result = await giveConsent({ audit, directory }, t, at, input, actor);
        return { records: result.records.map((r) => toRecord(r, at)), changed: result.changed };
      });
    },
    change(input, actor = 'resident', tx) {
      return inTx(tx, async (t) => {
        const at = now();
        const result = await changeConsent({ audit }, t, at, input, actor);
        return { records: result.records.map((r) => toRecord(r, at)), changed: result.changed };
      });
    },
    consentAgain(id, resident, actor = 'resident', tx) {
      return inTx(tx, async (t) => {
        const at = now();
        const row = await findRecord(t, id);
        if (!row || row.resident !== resident)
          throw new ProblemError('consent-not-found', { detail: `No consent ${id}.` });
        const latest = (await findNotice(t, row.notice_id))!;
        const result = await giveConsent(
          { audit, directory },
          t,
          at,
          {
            resident,
            service: row.recipient_service,
            source: row.source_service,
            items: [row.data_item],
            purpose: row.purpose,
            notice: { id: latest.noticeId, version: latest.version },
            validUntil: row.valid_until && row.valid_until > at ? row.valid_until : null,
            language: row.language,
            collectionMethod: 'portal',
          },
          actor,
        );
        return { records: result.records.map((r) => toRecord(r, at)), changed: result.changed };
      });
    },
    async currentNotice(noticeId) {
      const latest = await findNotice(db, noticeId);
      if (!latest) return undefined;
      return { latest, materialVersion: await latestMaterialVersion(db, noticeId, now()) };
    },
    issueLinkCode: (service, accountRef) => issueLinkCode({ db, audit, directory, now }, service, accountRef),
    link: (resident, code, actor = 'resident', tx) =>
      inTx(tx, (t) => linkWithCode({ db, audit, directory, now }, t, resident, code, actor)),
    linkVerified: (link, actor = 'resident', tx) =>
      inTx(tx, (t) => linkVerified({ db, audit, directory, now }, t, link, actor)),
    unlink: (resident, service, actor = 'resident', tx) =>
      inTx(tx, (t) => unlink({ db, audit, directory, now }, t, resident, service, actor)),
    links: (resident) => listLinks(db, resident),
    isLinked: (resident, service) => isLinked(db, resident, service),
    async mayExchange(query) {
      if (
        !(await isLinked(db, query.resident, query.sourceService)) ||
        !(await isLinked(db, query.resident, query.targetService))
      )
        return false;
      const d = await decide(
        db,
        {
          resident: query.resident,
          service: query.targetService,
          source: query.sourceService,
          item: 'points-history',
          purpose: 'point-exchange',
        },
        now(),
      );
      return d.decision === 'allow';
    },
    async get(id) {
      const row = await findRecord(db, id);
      return row ? toRecord(row, now()) : undefined;
    },
    async list(resident) {
      const at = now();
      return (await listRecords(db, resident)).map((r) => toRecord(r, at));
    },
    events: (id) => listEvents(db, [id]),
    history: (resident) => residentHistory(db, resident),
    async receipt(id, resident) {
      const row = await findRecord(db, id);
      if (!row || row.resident !== resident)
        throw new ProblemError('consent-not-found', { detail: `No consent ${id}.` });
      const at = now();
      const record = toRecord(row, at);
      let pair: ConsentRecord | undefined;
      if (row.pair_id) {
        const { rows } = await db.query<{ id: string }>(
          'SELECT id FROM consent.records WHERE pair_id = $1 AND id <> $2',
          [row.pair_id, row.id],
        );
        const other = rows[0] && (await findRecord(db, rows[0].id));
        if (other) pair = toRecord(other, at);
      }
      const notice = (await findNotice(db, row.notice_id, row.notice_version))!;
      const receipt = buildReceipt(record, pair, await listEvents(db, [id]), notice, deps.receiptOptions);
      const signed = await deps.keys.sign(new TextEncoder().encode(JSON.stringify(receipt)));
      return { receipt, ...signed };
    },
    receiptKeys: () => deps.keys.jwks(),
    publishNotice: (input, actor) => publishNotice({ db, audit, directory, now }, input, actor),
    notice: (noticeId, version) => findNotice(db, noticeId, version),
    registerWebhook: (service, url, actor) => registerWebhook(deps, service, url, actor),
    deliverDue: () => deliverDue(deps),
    expireDue: () => db.transaction((tx) => expireDue({ audit }, tx, now())),
    sweepIdempotency: () => sweepIdempotency(db, now()),
    dataItems: DATA_ITEMS,
  };
}

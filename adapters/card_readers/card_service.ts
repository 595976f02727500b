/**
 * The card-reader adapter's services: facilities, terminals (per-terminal secrets, revocation), city
 * IDs for the card's free area, guardians, bus eligibility and point rules for staff; touches from
 * terminals; and the reads — a resident's own visits, a guardian's notices, live shelter rosters and
 * aggregates for staff. Every staff change and every read of someone's data is audited.
 *
 * @example
 *   const cards = (ctx.services['adapters'] as AdaptersServices).adapters['card_readers'] as CardReaderServices;
 *   const { items } = await cards.visits(commonId, `resident:${commonId}`);
 */
import { randomBytes } from 'node:crypto';
import type { AuditLog, Database, Queryable } from '../../core/index.ts';
import { ProblemError } from '../../core/index.ts';
import type { IdpServices } from '../../idp/index.ts';
import type { Sealer } from '../kit/index.ts';
import type { CardTouch, CityIdRequest } from './parse_touch.ts';
import {
  ACTIONS_BY_KIND,
  type FacilityKind,
  recordTouch,
  type TouchDeps,
  touchHash,
} from './record_touch.ts';
import { receiveOnce } from './receive_once.ts';
import type { Terminal } from './verify_terminal.ts';
import './problems.ts';

/** Pushes a nursery arrival/departure to a guardian (LINE, app push, …); retried by the outbox. */
export interface GuardianNotifier {
  notify(notice: {
    guardian: string;
    childLabel: string;
    facility: { code: string; name: string };
    action: 'arrival' | 'departure';
    at: Date;
    text: { ja: string; en: string };
  }): Promise<void>;
}

/** Finds card holders; by default the idp's enrolled JPKI certificates. */
export interface CardHolders {
  byJpkiSerial(serial: string, issuer?: string): Promise<string | undefined>;
  /** Name for staff rosters (personal data; the caller audits the read). */
  nameOf(resident: string): Promise<string | null>;
}

export function idpCardHolders(idp: () => IdpServices | undefined): CardHolders {
  return {
    async byJpkiSerial(serial, issuer) {
      const services = idp();
      if (!services) return undefined;
      return services.proofing.commonIdForCertificate({
        kind: 'jpki-auth',
        serial,
        ...(issuer ? { issuer } : {}),
      });
    },
    async nameOf(resident) {
      return (await idp()?.accounts.find(resident))?.profile?.name ?? null;
    },
  };
}

interface Deps extends TouchDeps {
  db: Database;
  audit: AuditLog;
  /** Seals terminal secrets and guardians' child labels; its blind index hashes city IDs. */
  sealer: Sealer;
  holders: () => CardHolders;
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const HOUR = 3_600_000;

function newCityId(prefix: string): string {
  const bytes = randomBytes(16);
  let out = '';
  for (const b of bytes) out += CROCKFORD[b & 31];
  return `${prefix}-${out.slice(0, 8)}-${out.slice(8, 16)}`;
}

const JA: Record<string, string> = {
  arrival: '登園しました',
  departure: '降園しました',
  'check-in': '避難所の受付をしました',
  'check-out': '避難所の退所を受け付けました',
  entry: 'ご利用ありがとうございます',
};
const EN: Record<string, string> = {
  arrival: 'Arrived',
  departure: 'Left',
  'check-in': 'Checked in at the shelter',
  'check-out': 'Checked out of the shelter',
  entry: 'Welcome',
};

export function createCardService(deps: Deps, options: { cityIdPrefix: string }) {
  const { db, audit, sealer, now } = deps;

  async function facility(code: string) {
    const { rows } = await db.query<{
      code: string;
      kind: FacilityKind;
      name: string;
      capacity: number | null;
    }>('SELECT code, kind, name, capacity FROM adapters.card_facility WHERE code = $1', [code]);
    if (!rows[0]) throw new ProblemError('card-facility-unknown', { detail: `No facility ${code}.` });
    return rows[0];
  }

  async function resolveCard(card: CardTouch['card']): Promise<string> {
    const resident =
      card.type === 'city-id'
        ? (
            await db.query<{ resident: string }>(
              'SELECT resident FROM adapters.card_city_id WHERE id_hash = $1 AND revoked_at IS NULL',
              [sealer.blindIndex(card.value)],
            )
          ).rows[0]?.resident
        : await deps.holders().byJpkiSerial(card.value, card.issuer);
    if (!resident)
      throw new ProblemError('card-unknown', {
        detail: 'このカードは登録されていません / This card is not registered.',
      });
    return resident;
  }

  async function issueInTx(tx: Queryable, resident: string, actor: string) {
    const cityId = newCityId(options.cityIdPrefix);
    await tx.query(
      'UPDATE adapters.card_city_id SET revoked_at = $2 WHERE resident = $1 AND revoked_at IS NULL',
      [resident, now()],
    );
    await tx.query('INSERT INTO adapters.card_city_id (id_hash, resident, issued_at) VALUES ($1, $2, $3)', [
      sealer.blindIndex(cityId),
      resident,
      now(),
    ]);
    await audit.recordInTransaction(tx, {
      actor,
      action: 'adapters.card-readers.city-id.issue',
      target: `resident:${resident}`,
    });
    return { cityId };
  }

  const service = {
    /** A touch from a verified terminal: the visit, once (see record_touch.ts). */
    async touch(terminal: Terminal, touch: CardTouch) {
      if (touch.facility !== terminal.facility)
        throw new ProblemError('terminal-facility-mismatch', {
          detail: `Terminal ${terminal.id} belongs to ${terminal.facility}.`,
        });
      const at = Date.parse(touch.at);
      if (at > now().getTime() + 5 * 60_000 || at < now().getTime() - 7 * 24 * HOUR)
        throw new ProblemError('touch-invalid', { detail: 'at must be within the last 7 days.' });
      const resident = await resolveCard(touch.card);
      const result = await recordTouch(deps, terminal, touch, resident, touch.card.type);
      const { request: _hash, ...outcome } = result.outcome;
      const ja =
        outcome.kind === 'bus'
          ? outcome.discount
            ? '運賃減免の対象です'
            : '運賃減免の対象外です'
          : JA[outcome.action];
      const en =
        outcome.kind === 'bus'
          ? outcome.discount
            ? 'Fare discount applies'
            : 'No fare discount'
          : EN[outcome.action];
      const pointsText =
        outcome.points > 0
          ? { ja: ` ${outcome.points}ポイント付与`, en: ` +${outcome.points} points` }
          : { ja: '', en: '' };
      return {
        replayed: result.replayed,
        body: { ...outcome, message: { ja: `${ja}${pointsText.ja}`, en: `${en}${pointsText.en}` } },
      };
    },

    /** Outbox handler body: one guardian notice through the notifier. */
    async deliverNotice(
      notifier: GuardianNotifier,
      p: { guardian: string; child: string; facility: string; action: 'arrival' | 'departure'; at: string },
    ) {
      const f = await facility(p.facility);
      const { rows } = await db.query<{ label: string }>(
        'SELECT label_sealed AS label FROM adapters.card_guardian WHERE child = $1 AND guardian = $2',
        [p.child, p.guardian],
      );
      if (!rows[0]) return; // the relation was removed meanwhile: nothing to tell
      const childLabel = sealer.open(`card-guardian:${p.child}:${p.guardian}`, rows[0].label);
      const time = new Date(Date.parse(p.at) + 9 * HOUR).toISOString().slice(11, 16);
      await notifier.notify({
        guardian: p.guardian,
        childLabel,
        facility: { code: f.code, name: f.name },
        action: p.action,
        at: new Date(p.at),
        text: {
          ja: `${childLabel}さんが${time}に${f.name}を${p.action === 'arrival' ? '登園' : '降園'}しました。`,
          en: `${childLabel} ${p.action === 'arrival' ? 'arrived at' : 'left'} ${f.name} at ${time} JST.`,
        },
      });
    },

    async putFacility(
      input: {
        code: string;
        kind: FacilityKind;
        name: string;
        municipality: string;
        capacity?: number | null;
      },
      actor: string,
    ) {
      await db.transaction(async (tx) => {
        await tx.query(
          `INSERT INTO adapters.card_facility (code, kind, name, municipality, capacity, created_at)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (code) DO UPDATE SET kind = EXCLUDED.kind, name = EXCLUDED.name,
             municipality = EXCLUDED.municipality, capacity = EXCLUDED.capacity`,
          [input.code, input.kind, input.name, input.municipality, input.capacity ?? null, now()],
        );
        await audit.recordInTransaction(tx, {
          actor,
          action: 'adapters.card-readers.facility.put',
          target: `adapters.card-facility:${input.code}`,
          details: { kind: input.kind, capacity: input.capacity ?? null },
        });
      });
      return facility(input.code);
    },

    async facilities() {
      const { rows } = await db.query(
        'SELECT code, kind, name, municipality, capacity FROM adapters.card_facility ORDER BY kind, code',
      );
      return rows;
    },

    /** Registers a terminal of a facility; the secret is returned once and kept sealed. */
    async registerTerminal(input: { id: string; facility: string }, actor: string) {
      await facility(input.facility);
      const secret = randomBytes(32).toString('base64url');
      await db.transaction(async (tx) => {
        const inserted = await tx.query(
          `INSERT INTO adapters.card_terminal (id, facility, secret_sealed, created_at, created_by)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING`,
          [input.id, input.facility, sealer.seal(`card-terminal:${input.id}`, secret), now(), actor],
        );
        if (inserted.rowCount === 0)
          throw new ProblemError('conflict', { detail: `Terminal ${input.id} exists.` });
        await audit.recordInTransaction(tx, {
          actor,
          action: 'adapters.card-readers.terminal.register',
          target: `adapters.card-terminal:${input.id}`,
          details: { facility: input.facility },
        });
      });
      return { id: input.id, facility: input.facility, secret };
    },

    /** Revokes a terminal: its next request is refused. */
    async revokeTerminal(id: string, actor: string) {
      await db.transaction(async (tx) => {
        const updated = await tx.query(
          `UPDATE adapters.card_terminal SET revoked_at = coalesce(revoked_at, $2), revoked_by = coalesce(revoked_by, $3)
            WHERE id = $1`,
          [id, now(), actor],
        );
        if (updated.rowCount === 0)
          throw new ProblemError('card-terminal-unknown', { detail: `No terminal ${id}.` });
        await audit.recordInTransaction(tx, {
          actor,
          action: 'adapters.card-readers.terminal.revoke',
          target: `adapters.card-terminal:${id}`,
        });
      });
    },

    async terminals() {
      const { rows } = await db.query<{
        id: string;
        facility: string;
        createdAt: Date;
        revokedAt: Date | null;
        lastSeenAt: Date | null;
      }>(
        `SELECT id, facility, created_at AS "createdAt", revoked_at AS "revokedAt", last_seen_at AS "lastSeenAt"
           FROM adapters.card_terminal ORDER BY facility, id`,
      );
      return rows.map((r) => ({
        id: r.id,
        facility: r.facility,
        createdAt: r.createdAt.toISOString(),
        revokedAt: r.revokedAt?.toISOString() ?? null,
        lastSeenAt: r.lastSeenAt?.toISOString() ?? null,
      }));
    },

    /** A fresh city ID for the card's free area; an earlier one of the resident stops working. */
    async issueCityId(resident: string, actor: string) {
      return db.transaction((tx) => issueInTx(tx, resident, actor));
    },

    /**
     * A registration desk's terminal asks for a city ID for the card on its reader (identified by
     * its JPKI user-certificate serial); the desk writes it into the card's free area. Once per
     * request id: a resent request answers the same city ID.
     */
    async issueAtDesk(terminal: Terminal, request: CityIdRequest) {
      const f = await facility(terminal.facility);
      if (f.kind !== 'registration')
        throw new ProblemError('terminal-facility-mismatch', {
          detail: 'Only registration desks issue city IDs.',
        });
      const resident = await resolveCard(request.card);
      const hash = touchHash(request as unknown as CardTouch);
      const aad = `card-city-id:${terminal.id}:${request.requestId}`;
      const result = await receiveOnce(
        db,
        deps.inbox,
        {
          adapter: 'card_readers',
          source: `card:${terminal.id}`,
          eventId: `city-id/${request.requestId}`,
          kind: 'city-id',
        },
        async (tx) => {
          const { cityId } = await issueInTx(tx, resident, `terminal:${terminal.id}`);
          return { sealed: sealer.seal(aad, cityId), request: hash };
        },
      );
      const outcome = result.outcome as { sealed: string; request: string };
      if (result.duplicate && outcome.request !== hash)
        throw new ProblemError('idempotency-key-reused', {
          detail: 'This request id was sent for another card.',
        });
      return { replayed: result.duplicate, cityId: sealer.open(aad, outcome.sealed) };
    },

    async putGuardian(input: { child: string; guardian: string; label: string }, actor: string) {
      await db.transaction(async (tx) => {
        await tx.query(
          `INSERT INTO adapters.card_guardian (child, guardian, label_sealed, created_at) VALUES ($1, $2, $3, $4)
           ON CONFLICT (child, guardian) DO UPDATE SET label_sealed = EXCLUDED.label_sealed`,
          [
            input.child,
            input.guardian,
            sealer.seal(`card-guardian:${input.child}:${input.guardian}`, input.label),
            now(),
          ],
        );
        await audit.recordInTransaction(tx, {
          actor,
          action: 'adapters.card-readers.guardian.put',
          target: `resident:${input.child}`,
          details: { guardian: input.guardian },
        });
      });
    },

    async removeGuardian(input: { child: string; guardian: string }, actor: string) {
      await db.transaction(async (tx) => {
        await tx.query('DELETE FROM adapters.card_guardian WHERE child = $1 AND guardian = $2', [
          input.child,
          input.guardian,
        ]);
        await audit.recordInTransaction(tx, {
          actor,
          action: 'adapters.card-readers.guardian.remove',
          target: `resident:${input.child}`,
          details: { guardian: input.guardian },
        });
      });
    },

    async putBusEligibility(
      input: { resident: string; category: string; validFrom: string; validUntil: string },
      actor: string,
    ) {
      await db.transaction(async (tx) => {
        await tx.query(
          `INSERT INTO adapters.card_bus_eligibility (resident, category, valid_from, valid_until) VALUES ($1, $2, $3, $4)
           ON CONFLICT (resident, category, valid_from) DO UPDATE SET valid_until = EXCLUDED.valid_until`,
          [input.resident, input.category, input.validFrom, input.validUntil],
        );
        await audit.recordInTransaction(tx, {
          actor,
          action: 'adapters.card-readers.bus-eligibility.put',
          target: `resident:${input.resident}`,
          details: { category: input.category, validFrom: input.validFrom, validUntil: input.validUntil },
        });
      });
    },

    async putRule(
      input: {
        kind: FacilityKind;
        action: string;
        points: number;
        currency: string;
        pool: string;
        pointType: string;
        oncePerDay: boolean;
        active: boolean;
      },
      actor: string,
    ) {
      if (!ACTIONS_BY_KIND[input.kind].includes(input.action as never))
        throw new ProblemError('validation-failed', {
          detail: `A ${input.kind} has no action ${input.action}.`,
        });
      await deps.points().pointType(input.currency, input.pointType);
      await db.transaction(async (tx) => {
        await tx.query(
          `INSERT INTO adapters.card_rule (facility_kind, action, points, currency, pool, point_type, once_per_day, active, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
           ON CONFLICT (facility_kind, action) DO UPDATE SET points = EXCLUDED.points, currency = EXCLUDED.currency,
             pool = EXCLUDED.pool, point_type = EXCLUDED.point_type, once_per_day = EXCLUDED.once_per_day,
             active = EXCLUDED.active, updated_at = EXCLUDED.updated_at`,
          [
            input.kind,
            input.action,
            input.points,
            input.currency,
            input.pool,
            input.pointType,
            input.oncePerDay,
            input.active,
            now(),
          ],
        );
        await audit.recordInTransaction(tx, {
          actor,
          action: 'adapters.card-readers.rule.put',
          target: `adapters.card-rule:${input.kind}/${input.action}`,
          details: { points: input.points, oncePerDay: input.oncePerDay, active: input.active },
        });
      });
      return input;
    },

    /** The resident's own visits, newest first (resident portal); audited. */
    async visits(resident: string, actor: string, limit = 50) {
      const { rows } = await db.query<{
        facility: string;
        name: string;
        kind: string;
        action: string;
        at: Date;
        points: number;
        discount: string | null;
      }>(
        `SELECT v.facility, f.name, v.kind, v.action, v.at, v.points, v.discount
           FROM adapters.card_visit v JOIN adapters.card_facility f ON f.code = v.facility
          WHERE v.resident = $1 ORDER BY v.at DESC, v.id DESC LIMIT $2`,
        [resident, Math.min(Math.max(limit, 1), 500)],
      );
      await audit.record({
        actor,
        action: 'adapters.card-readers.visits.read',
        target: `resident:${resident}`,
      });
      return { items: rows.map((r) => ({ ...r, at: r.at.toISOString() })) };
    },

    /** A guardian's nursery notices, newest first (the real-time feed); audited. */
    async guardianNotices(guardian: string, actor: string, after = '0') {
      const { rows } = await db.query<{
        id: string;
        child: string;
        label: string | null;
        facility: string;
        name: string;
        action: string;
        at: Date;
      }>(
        `SELECT n.id::text, n.child, g.label_sealed AS label, n.facility, f.name, n.action, n.at
           FROM adapters.card_notice n
           JOIN adapters.card_facility f ON f.code = n.facility
           LEFT JOIN adapters.card_guardian g ON g.child = n.child AND g.guardian = n.guardian
          WHERE n.guardian = $1 AND n.id > $2::bigint ORDER BY n.id DESC LIMIT 100`,
        [guardian, after],
      );
      await audit.record({
        actor,
        action: 'adapters.card-readers.notices.read',
        target: `resident:${guardian}`,
      });
      return {
        items: rows.map((r) => ({
          id: r.id,
          child: r.label ? sealer.open(`card-guardian:${r.child}:${guardian}`, r.label) : null,
          facility: r.facility,
          facilityName: r.name,
          action: r.action,
          at: r.at.toISOString(),
        })),
      };
    },

    /** Every shelter with how many people are in it now (no personal data). */
    async shelters() {
      const { rows } = await db.query<{
        code: string;
        name: string;
        capacity: number | null;
        present: string;
      }>(
        `SELECT f.code, f.name, f.capacity, count(p.id)::text AS present
           FROM adapters.card_facility f
           LEFT JOIN adapters.card_shelter_presence p ON p.shelter = f.code AND p.checked_out_at IS NULL
          WHERE f.kind = 'shelter' GROUP BY f.code ORDER BY f.code`,
      );
      return { items: rows.map((r) => ({ ...r, present: Number(r.present) })) };
    },

    /** Who is in a shelter now, with names, for disaster staff; audited as a personal-data read. */
    async shelterRoster(shelter: string, actor: string) {
      const f = await facility(shelter);
      if (f.kind !== 'shelter')
        throw new ProblemError('card-facility-unknown', { detail: `${shelter} is not a shelter.` });
      const { rows } = await db.query<{ resident: string; checkedInAt: Date }>(
        `SELECT resident, checked_in_at AS "checkedInAt" FROM adapters.card_shelter_presence
          WHERE shelter = $1 AND checked_out_at IS NULL ORDER BY checked_in_at, id`,
        [shelter],
      );
      const items = await Promise.all(
        rows.map(async (r) => ({
          resident: r.resident,
          name: await deps.holders().nameOf(r.resident),
          checkedInAt: r.checkedInAt.toISOString(),
        })),
      );
      await audit.record({
        actor,
        action: 'adapters.card-readers.roster.read',
        target: `adapters.card-facility:${shelter}`,
        details: { present: items.length },
      });
      return { shelter: f.code, name: f.name, capacity: f.capacity, present: items.length, items };
    },

    /** Touches and distinct residents per facility, JST day and action (staff; no personal data). */
    async aggregates(query: { from: string; to: string; facility?: string }) {
      const { rows } = await db.query<{
        facility: string;
        kind: string;
        day: string;
        action: string;
        touches: string;
        residents: string;
        points: string;
      }>(
        `SELECT facility, kind, to_char(jst_day, 'YYYY-MM-DD') AS day, action, count(*)::text AS touches,
                count(DISTINCT resident)::text AS residents, coalesce(sum(points), 0)::text AS points
           FROM adapters.card_visit
          WHERE jst_day BETWEEN $1::date AND $2::date AND ($3::text IS NULL OR facility = $3)
          GROUP BY facility, kind, jst_day, action ORDER BY jst_day, facility, action`,
        [query.from, query.to, query.facility ?? null],
      );
      return {
        items: rows.map((r) => ({
          ...r,
          touches: Number(r.touches),
          residents: Number(r.residents),
          points: Number(r.points),
        })),
      };
    },

    /** A facility's visits of one JST day (staff roster, e.g. a nursery's attendance); audited. */
    async facilityDay(code: string, day: string, actor: string) {
      const f = await facility(code);
      const { rows } = await db.query<{ resident: string; action: string; at: Date }>(
        `SELECT resident, action, at FROM adapters.card_visit WHERE facility = $1 AND jst_day = $2::date
          ORDER BY at, id`,
        [code, day],
      );
      await audit.record({
        actor,
        action: 'adapters.card-readers.facility-day.read',
        target: `adapters.card-facility:${code}`,
        details: { day, visits: rows.length },
      });
      return {
        facility: f.code,
        name: f.name,
        day,
        items: await Promise.all(
          rows.map(async (r) => ({
            resident: r.resident,
            name: await deps.holders().nameOf(r.resident),
            action: r.action,
            at: r.at.toISOString(),
          })),
        ),
      };
    },
  };
  return service;
}

export type CardService = ReturnType<typeof createCardService>;
export type CardReaderServices = Omit<CardService, 'touch' | 'deliverNotice' | 'issueAtDesk'>;

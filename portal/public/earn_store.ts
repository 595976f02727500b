/**
 * Where to earn: municipal services and activities that grant points (events, check-ups, courses,
 * volunteering, health and SDGs activities), with dates and places, kept by staff in
 * `portal.earn_activities` and listed on the public site while they have not ended.
 *
 * @example
 *   await earn.create({ municipality: 'saijo', kind: 'checkup', title: '特定健診', startsAt, reward: '500ポイント' }, 'staff:1');
 *   const upcoming = await earn.upcoming();
 */
import { type ModuleContext, ProblemError } from '../../core/index.ts';
import { EARN_KINDS } from './categories.ts';
import { defineDirectoryProblems } from './problems.ts';

defineDirectoryProblems();

export interface EarnActivityInput {
  municipality: string;
  kind: string;
  title: string;
  titleEn?: string | null;
  description?: string | null;
  startsAt: string;
  endsAt?: string | null;
  placeName?: string | null;
  address?: string | null;
  lat?: number | null;
  lon?: number | null;
  reward?: string | null;
  url?: string | null;
  published?: boolean;
}

export interface EarnActivity extends Required<EarnActivityInput> {
  id: string;
}

/** JSON Schema of the staff API body (also validates the fields' shapes before SQL sees them). */
export const EARN_ACTIVITY_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['municipality', 'kind', 'title', 'startsAt'],
  properties: {
    municipality: { type: 'string', minLength: 1, maxLength: 64 },
    kind: { enum: EARN_KINDS.map((k) => k.code) },
    title: { type: 'string', minLength: 1, maxLength: 200 },
    titleEn: { type: ['string', 'null'], maxLength: 200 },
    description: { type: ['string', 'null'], maxLength: 4000 },
    startsAt: { type: 'string', format: 'date-time' },
    endsAt: { type: ['string', 'null'], format: 'date-time' },
    placeName: { type: ['string', 'null'], maxLength: 200 },
    address: { type: ['string', 'null'], maxLength: 200 },
    lat: { type: ['number', 'null'], minimum: -90, maximum: 90 },
    lon: { type: ['number', 'null'], minimum: -180, maximum: 180 },
    reward: { type: ['string', 'null'], maxLength: 200 },
    url: { type: ['string', 'null'], format: 'uri', pattern: '^https?://', maxLength: 300 },
    published: { type: 'boolean' },
  },
} as const;

const COLUMNS = `id::text, municipality, kind, title, title_en AS "titleEn", description,
  to_char(starts_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS "startsAt",
  to_char(ends_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS "endsAt",
  place_name AS "placeName", address, lat, lon, reward, url, published`;

function values(input: EarnActivityInput): unknown[] {
  if (input.endsAt && new Date(input.endsAt) < new Date(input.startsAt))
    throw new ProblemError('validation-failed', { detail: 'endsAt must not be before startsAt' });
  return [
    input.municipality,
    input.kind,
    input.title,
    input.titleEn ?? null,
    input.description ?? null,
    input.startsAt,
    input.endsAt ?? null,
    input.placeName ?? null,
    input.address ?? null,
    input.lat ?? null,
    input.lon ?? null,
    input.reward ?? null,
    input.url ?? null,
    input.published ?? true,
  ];
}

export function createEarnStore(ctx: ModuleContext) {
  const { db } = ctx;
  return {
    /** Published activities that have not ended, soonest first. */
    async upcoming(limit = 200): Promise<EarnActivity[]> {
      const { rows } = await db.query<EarnActivity>(
        `SELECT ${COLUMNS} FROM portal.earn_activities
          WHERE published AND coalesce(ends_at, starts_at) >= $1 ORDER BY starts_at, id LIMIT $2`,
        [ctx.now(), limit],
      );
      return rows;
    },

    async get(id: string): Promise<EarnActivity> {
      const { rows } = await db.query<EarnActivity>(
        `SELECT ${COLUMNS} FROM portal.earn_activities WHERE id = $1`,
        [/^\d{1,18}$/.test(id) ? id : '0'],
      );
      if (!rows[0]) throw new ProblemError('activity-not-found', { detail: `No activity ${id}.` });
      return rows[0];
    },

    async create(input: EarnActivityInput, actor: string): Promise<EarnActivity> {
      return db.transaction(async (tx) => {
        const { rows } = await tx.query<EarnActivity>(
          `INSERT INTO portal.earn_activities (municipality, kind, title, title_en, description, starts_at, ends_at,
                  place_name, address, lat, lon, reward, url, published, created_by, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16)
           RETURNING ${COLUMNS}`,
          [...values(input), actor, ctx.now()],
        );
        await ctx.audit.recordInTransaction(tx, {
          actor,
          action: 'portal.earn-activity.create',
          target: `portal.earn-activity:${rows[0]!.id}`,
          details: { municipality: input.municipality, kind: input.kind },
        });
        return rows[0]!;
      });
    },

    async update(id: string, input: EarnActivityInput, actor: string): Promise<EarnActivity> {
      return db.transaction(async (tx) => {
        const { rows } = await tx.query<EarnActivity>(
          `UPDATE portal.earn_activities SET municipality = $2, kind = $3, title = $4, title_en = $5, description = $6,
                  starts_at = $7, ends_at = $8, place_name = $9, address = $10, lat = $11, lon = $12, reward = $13,
                  url = $14, published = $15, updated_at = $16
            WHERE id = $1 RETURNING ${COLUMNS}`,
          [/^\d{1,18}$/.test(id) ? id : '0', ...values(input), ctx.now()],
        );
        if (!rows[0]) throw new ProblemError('activity-not-found', { detail: `No activity ${id}.` });
        await ctx.audit.recordInTransaction(tx, {
          actor,
          action: 'portal.earn-activity.update',
          target: `portal.earn-activity:${id}`,
          details: { published: input.published ?? true },
        });
        return rows[0];
      });
    },
  };
}

export type EarnStore = ReturnType<typeof createEarnStore>;

/**
 * Privacy notices per recipient service, versioned and append-only. Publishing a *material* version
 * means earlier consents to that notice no longer allow anything until the resident re-consents.
 */
import type { AuditLog, Database, Queryable } from '../core/index.ts';
import { ProblemError } from '../core/index.ts';
import type { ResidentDirectory } from './ports.ts';

export interface NoticeInput {
  noticeId: string;
  service: string;
  purposes: string[];
  titleJa: string;
  titleEn: string;
  bodyJa: string;
  bodyEn: string;
  url?: string | null;
  /** True when the change needs every resident to consent again. */
  material: boolean;
}

export interface Notice extends Omit<NoticeInput, 'url'> {
  version: number;
  url: string | null;
  publishedAt: string;
}

interface NoticeRow {
  notice_id: string;
  version: number;
  service_id: string;
  purposes: string[];
  title_ja: string;
  title_en: string;
  body_ja: string;
  body_en: string;
  url: string | null;
  material: boolean;
  published_at: Date;
}

function toNotice(r: NoticeRow): Notice {
  return {
    noticeId: r.notice_id,
    version: r.version,
    service: r.service_id,
    purposes: r.purposes,
    titleJa: r.title_ja,
    titleEn: r.title_en,
    bodyJa: r.body_ja,
    bodyEn: r.body_en,
    url: r.url,
    material: r.material,
    publishedAt: r.published_at.toISOString(),
  };
}

export async function findNotice(
  db: Queryable,
  noticeId: string,
  version?: number,
): Promise<Notice | undefined> {
  const { rows } = await db.query<NoticeRow>(
    version === undefined
      ? 'SELECT * FROM consent.notices WHERE notice_id = $1 ORDER BY version DESC LIMIT 1'
      : 'SELECT * FROM consent.notices WHERE notice_id = $1 AND version = $2',
    version === undefined ? [noticeId] : [noticeId, version],
  );
  return rows[0] ? toNotice(rows[0]) : undefined;
}

/** The newest material version of a notice published by `now` (0 when there is none). */
export async function latestMaterialVersion(db: Queryable, noticeId: string, now: Date): Promise<number> {
  const { rows } = await db.query<{ v: number | null }>(
    'SELECT max(version) AS v FROM consent.notices WHERE notice_id = $1 AND material AND published_at <= $2',
    [noticeId, now],
  );
  return rows[0]?.v ?? 0;
}

export async function publishNotice(
  deps: { db: Database; audit: AuditLog; directory: ResidentDirectory; now: () => Date },
  input: NoticeInput,
  actor: string,
): Promise<Notice> {
  if (!(await deps.directory.serviceExists(input.service)))
    throw new ProblemError('service-not-found', { detail: `No partner service ${input.service}.` });
  return deps.db.transaction(async (tx) => {
    const now = deps.now();
    // One publisher per notice at a time, so versions stay gapless.
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext('consent.notice:' || $1))`, [input.noticeId]);
    const previous = await findNotice(tx, input.noticeId);
    if (previous && previous.service !== input.service)
      throw new ProblemError('notice-mismatch', {
        detail: `Notice ${input.noticeId} belongs to service ${previous.service}.`,
      });
    const version = (previous?.version ?? 0) + 1;
    const { rows } = await tx.query<NoticeRow>(
      `INSERT INTO consent.notices (notice_id, version, service_id, purposes, title_ja, title_en, body_ja,
         body_en, url, material, published_at, published_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING *`,
      [
        input.noticeId,
        version,
        input.service,
        input.purposes,
        input.titleJa,
        input.titleEn,
        input.bodyJa,
        input.bodyEn,
        input.url ?? null,
        input.material,
        now,
        actor,
      ],
    );
    await deps.audit.recordInTransaction(tx, {
      actor,
      action: 'consent.notice.publish',
      target: `notice:${input.noticeId}`,
      details: { version, service: input.service, material: input.material, purposes: input.purposes },
    });
    return toNotice(rows[0]!);
  });
}

/**
 * Service link records (MyData): a resident links their account at a partner service to their
 * common ID by proving control of it — the partner shows its signed-in user a one-time code
 * (8 characters, 10 minutes, stored hashed), the resident enters it in the portal. The service is
 * then told (consent status outbox) which of its accounts belongs to which pairwise subject. A
 * resident can unlink at any time; links are never deleted.
 */
import { createHash, randomInt, randomUUID } from 'node:crypto';
import type { AuditLog, Database, Queryable } from '../core/index.ts';
import { ProblemError } from '../core/index.ts';
import type { ResidentDirectory } from './ports.ts';

export interface ServiceLink {
  id: string;
  resident: string;
  service: string;
  accountRef: string;
  method: 'link-code';
  linkedAt: string;
  unlinkedAt: string | null;
}

interface LinkRow {
  id: string;
  resident: string;
  service_id: string;
  account_ref: string;
  method: 'link-code';
  linked_at: Date;
  unlinked_at: Date | null;
}

const CODE_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'; // Crockford base32: no I, L, O, U
const CODE_TTL_MS = 10 * 60_000;

function toLink(r: LinkRow): ServiceLink {
  return {
    id: r.id,
    resident: r.resident,
    service: r.service_id,
    accountRef: r.account_ref,
    method: r.method,
    linkedAt: r.linked_at.toISOString(),
    unlinkedAt: r.unlinked_at?.toISOString() ?? null,
  };
}

/** Upper case, without spaces or hyphens, with the look-alikes read the Crockford way. */
function normalise(code: string): string {
  return code.toUpperCase().replace(/[\s-]/g, '').replace(/[IL]/g, '1').replace(/O/g, '0');
}

const hash = (code: string) => createHash('sha256').update(normalise(code)).digest('hex');

export interface LinkDeps {
  db: Database;
  audit: AuditLog;
  directory: ResidentDirectory;
  now: () => Date;
}

async function notify(tx: Queryable, link: LinkRow, event: 'linked' | 'unlinked', at: Date) {
  const payload = {
    type: 'link.status',
    event,
    linkId: link.id,
    accountRef: link.account_ref,
    at: at.toISOString(),
  };
  await tx.query(
    `INSERT INTO consent.outbox (service_id, resident, payload, created_at, next_attempt_at)
     VALUES ($1, $2, $3, $4, $4)`,
    [link.service_id, link.resident, JSON.stringify(payload), at],
  );
}

export async function issueLinkCode(
  d: LinkDeps,
  service: string,
  accountRef: string,
): Promise<{ code: string; expiresAt: string }> {
  const raw = Array.from({ length: 8 }, () => CODE_ALPHABET[randomInt(CODE_ALPHABET.length)]).join('');
  const code = `${raw.slice(0, 4)}-${raw.slice(4)}`;
  const now = d.now();
  const expiresAt = new Date(now.getTime() + CODE_TTL_MS);
  await d.db.query(
    `INSERT INTO consent.link_codes (code_hash, service_id, account_ref, created_at, expires_at)
     VALUES ($1, $2, $3, $4, $5)`,
    [hash(code), service, accountRef, now, expiresAt],
  );
  return { code, expiresAt: expiresAt.toISOString() };
}

export async function linkWithCode(
  d: LinkDeps,
  tx: Queryable,
  resident: string,
  code: string,
  actor: string,
): Promise<ServiceLink> {
  const now = d.now();
  const { rows } = await tx.query<{ service_id: string; account_ref: string }>(
    `SELECT service_id, account_ref FROM consent.link_codes
      WHERE code_hash = $1 AND used_at IS NULL AND expires_at > $2 FOR UPDATE`,
    [hash(code), now],
  );
  const found = rows[0];
  if (!found) throw new ProblemError('link-code-invalid', { detail: 'Ask the service for a new code.' });
  if (!(await d.directory.residentActive(resident)))
    throw new ProblemError('resident-not-found', { detail: 'No such active resident.' });
  const { rows: live } = await tx.query<LinkRow>(
    `SELECT * FROM consent.service_links
      WHERE service_id = $1 AND (resident = $2 OR account_ref = $3) AND unlinked_at IS NULL`,
    [found.service_id, resident, found.account_ref],
  );
  if (live.length > 0)
    throw new ProblemError('already-linked', { detail: 'Unlink the current link with this service first.' });
  await tx.query('UPDATE consent.link_codes SET used_at = $2 WHERE code_hash = $1', [hash(code), now]);
  const { rows: inserted } = await tx.query<LinkRow>(
    `INSERT INTO consent.service_links (id, resident, service_id, account_ref, method, linked_at)
     VALUES ($1, $2, $3, $4, 'link-code', $5) RETURNING *`,
    [randomUUID(), resident, found.service_id, found.account_ref, now],
  );
  const link = inserted[0]!;
  await d.audit.recordInTransaction(tx, {
    actor,
    action: 'consent.link.linked',
    target: `service-link:${link.id}`,
    details: { service: link.service_id, method: link.method },
  });
  await notify(tx, link, 'linked', now);
  return toLink(link);
}

export async function unlink(
  d: LinkDeps,
  tx: Queryable,
  resident: string,
  service: string,
  actor: string,
): Promise<ServiceLink> {
  const now = d.now();
  const { rows } = await tx.query<LinkRow>(
    `UPDATE consent.service_links SET unlinked_at = $3, unlinked_by = $4
      WHERE resident = $1 AND service_id = $2 AND unlinked_at IS NULL RETURNING *`,
    [resident, service, now, actor],
  );
  const link = rows[0];
  if (!link) throw new ProblemError('link-not-found', { detail: `No link with service ${service}.` });
  await d.audit.recordInTransaction(tx, {
    actor,
    action: 'consent.link.unlinked',
    target: `service-link:${link.id}`,
    details: { service: link.service_id },
  });
  await notify(tx, link, 'unlinked', now);
  return toLink(link);
}

export async function listLinks(db: Queryable, resident: string): Promise<ServiceLink[]> {
  const { rows } = await db.query<LinkRow>(
    'SELECT * FROM consent.service_links WHERE resident = $1 ORDER BY linked_at DESC, id',
    [resident],
  );
  return rows.map(toLink);
}

export async function isLinked(db: Queryable, resident: string, service: string): Promise<boolean> {
  const { rows } = await db.query(
    'SELECT 1 FROM consent.service_links WHERE resident = $1 AND service_id = $2 AND unlinked_at IS NULL',
    [resident, service],
  );
  return rows.length > 0;
}

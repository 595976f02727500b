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

/** How the resident proved control of the partner account: a code the partner showed, or signing in there. */
export type LinkMethod = 'link-code' | 'oauth-redirect';

export interface ServiceLink {
  id: string;
  resident: string;
  service: string;
  accountRef: string;
  method: LinkMethod;
  linkedAt: string;
  unlinkedAt: string | null;
}

interface LinkRow {
  id: string;
  resident: string;
  service_id: string;
  account_ref: string;
  method: LinkMethod;
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
  await tx.query('UPDATE consent.link_codes SET used_at = $2 WHERE code_hash = $1', [hash(code), now]);
  return recordLink(d, tx, resident, found.service_id, found.account_ref, 'link-code', actor, now);
}

/**
 * Records a link whose proof the caller checked: the resident signed in at the partner (the portal's
 * OAuth/OIDC redirect) and `accountRef` is the subject the partner's ID token named.
 */
export async function linkVerified(
  d: LinkDeps,
  tx: Queryable,
  link: { resident: string; service: string; accountRef: string; method: LinkMethod },
  actor: string,
): Promise<ServiceLink> {
  if (!link.accountRef || link.accountRef.length > 255)
    throw new ProblemError('validation-failed', { detail: 'accountRef must be 1–255 characters.' });
  if (!(await d.directory.serviceExists(link.service)))
    throw new ProblemError('validation-failed', { detail: `No such service ${link.service}.` });
  if (!(await d.directory.residentActive(link.resident)))
    throw new ProblemError('resident-not-found', { detail: 'No such active resident.' });
  return recordLink(d, tx, link.resident, link.service, link.accountRef, link.method, actor, d.now());
}

async function recordLink(
  d: LinkDeps,
  tx: Queryable,
  resident: string,
  service: string,
  accountRef: string,
  method: LinkMethod,
  actor: string,
  now: Date,
): Promise<ServiceLink> {
  const { rows: live } = await tx.query<LinkRow>(
    `SELECT * FROM consent.service_links
      WHERE service_id = $1 AND (resident = $2 OR account_ref = $3) AND unlinked_at IS NULL`,
    [service, resident, accountRef],
  );
  if (live.length > 0)
    throw new ProblemError('already-linked', { detail: 'Unlink the current link with this service first.' });
  const { rows: inserted } = await tx.query<LinkRow>(
    `INSERT INTO consent.service_links (id, resident, service_id, account_ref, method, linked_at)
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
    [randomUUID(), resident, service, accountRef, method, now],
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

/**
 * Recovering from wrong links, with two approvers: one staff member proposes, a different one
 * approves, and only then the change is applied, in one transaction with its audit entry.
 *
 *   unlink  an evidence row (certificate or upstream identity) no longer proves the account
 *   split   some evidence moves to a new common ID (a second person was linked by mistake)
 *   merge   `from` becomes an alias of `into` (one person had two IDs); IDs are never reused
 *   review  a duplicate candidate from the review queue is linked to its candidate, or rejected
 *
 * Every applied change ends the affected residents' sessions, grants and tokens, and records one
 * event per partner service that knows an affected resident (their pairwise subjects), which the
 * service reads from GET /api/idp/events.
 */
import type { AuditLog, Database, Queryable } from '../../core/index.ts';
import { defineProblem, ProblemError } from '../../core/index.ts';
import type { Sealer } from '../keys/seal.ts';
import type { Accounts } from './accounts.ts';

defineProblem('link-change-invalid', { status: 422, title: 'The link change cannot be applied' });
defineProblem('link-change-not-found', { status: 404, title: 'Link change not found' });
defineProblem('second-approver-required', { status: 403, title: 'A different staff member must approve' });

export type LinkChangeRequest =
  | { operation: 'unlink'; evidenceId: string; reason: string }
  | { operation: 'split'; commonId: string; evidenceIds: string[]; reason: string }
  | { operation: 'merge'; from: string; into: string; reason: string }
  | { operation: 'review'; reviewId: string; decision: 'link' | 'reject'; reason: string };

export interface LinkChange {
  id: string;
  operation: LinkChangeRequest['operation'];
  params: Record<string, unknown>;
  reason: string;
  status: 'proposed' | 'applied' | 'failed';
  proposedBy: string;
  approvedBy: string | null;
  result: Record<string, unknown> | null;
  createdAt: string;
}

export interface LinkEvent {
  id: string;
  type: 'sessions-revoked' | 'identifier-changed';
  subjects: string[];
  createdAt: string;
}

export interface LinkChanges {
  propose(request: LinkChangeRequest, actor: string): Promise<LinkChange>;
  approve(id: string, actor: string): Promise<LinkChange>;
  list(): Promise<LinkChange[]>;
  /** Events for one partner service after `afterId`, oldest first. */
  events(clientId: string, afterId: string): Promise<LinkEvent[]>;
}

interface ChangeRow {
  id: string;
  operation: LinkChange['operation'];
  params: Record<string, unknown>;
  reason: string;
  status: LinkChange['status'];
  proposed_by: string;
  approved_by: string | null;
  result: Record<string, unknown> | null;
  created_at: Date;
}

const LINK_LOCK = 0x69646d6b;

function toChange(r: ChangeRow): LinkChange {
  return {
    id: r.id,
    operation: r.operation,
    params: r.params,
    reason: r.reason,
    status: r.status,
    proposedBy: r.proposed_by,
    approvedBy: r.approved_by,
    result: r.result,
    createdAt: r.created_at.toISOString(),
  };
}

const invalid = (detail: string) => new ProblemError('link-change-invalid', { detail });

export function createLinkChanges(options: {
  db: Database;
  audit: AuditLog;
  sealer: Sealer;
  accounts: Accounts;
  now: () => Date;
}): LinkChanges {
  const { db, audit, sealer, accounts, now } = options;

  const activeAccount = async (tx: Queryable, commonId: string) => {
    const { rows } = await tx.query<{ status: string }>(
      'SELECT status FROM idp.accounts WHERE common_id = $1',
      [commonId],
    );
    if (rows[0]?.status !== 'active') throw invalid(`account ${commonId} is not active`);
  };

  const moveEvidence = async (tx: Queryable, ids: string[], to: string) => {
    const { rows } = await tx.query<{ id: string }>(
      `WITH old AS (
         UPDATE idp.evidence SET status = 'unlinked' WHERE id = ANY($1::bigint[]) AND status = 'active'
         RETURNING kind, issuer, serial, not_after, cert_sha256, verified_at)
       INSERT INTO idp.evidence (common_id, kind, issuer, serial, not_after, cert_sha256, status, verified_at)
       SELECT $2, kind, issuer, serial, not_after, cert_sha256, 'active', verified_at FROM old RETURNING id`,
      [ids, to],
    );
    if (rows.length !== ids.length) throw invalid('some evidence is no longer active');
  };

  /** Ends sessions, grants and tokens of the affected residents and queues the services' events. */
  const revokeAndNotify = async (
    tx: Queryable,
    changeId: string,
    affected: string[],
    type: LinkEvent['type'],
    renamed?: { from: string; into: string },
  ) => {
    await tx.query(`DELETE FROM idp.oidc_payloads WHERE payload->>'accountId' = ANY($1::text[])`, [affected]);
    await tx.query(`DELETE FROM idp.oidc_payloads WHERE payload->'session'->>'accountId' = ANY($1::text[])`, [
      affected,
    ]);
    const { rows } = await tx.query<{ client_id: string; subjects: string[] }>(
      `SELECT client_id, array_agg(sub ORDER BY sub) AS subjects FROM idp.pairwise_subjects
        WHERE common_id = ANY($1::text[]) GROUP BY client_id ORDER BY client_id`,
      [affected],
    );
    for (const r of rows) {
      let subjects = r.subjects;
      if (renamed) subjects = [...subjects, await accounts.pairwiseSubject(renamed.into, r.client_id)];
      await tx.query(
        'INSERT INTO idp.link_events (client_id, type, subjects, change_id, created_at) VALUES ($1, $2, $3, $4, $5)',
        [r.client_id, type, subjects, changeId, now()],
      );
    }
    return rows.length;
  };

  const apply = async (tx: Queryable, change: ChangeRow): Promise<Record<string, unknown>> => {
    const p = change.params as {
      evidenceId: string;
      commonId: string;
      evidenceIds: string[];
      from: string;
      into: string;
      reviewId: string;
      decision: 'link' | 'reject';
    };
    switch (change.operation) {
      case 'unlink': {
        const { rows } = await tx.query<{ common_id: string }>(
          `UPDATE idp.evidence SET status = 'unlinked' WHERE id = $1 AND status = 'active' RETURNING common_id`,
          [p.evidenceId],
        );
        if (!rows[0]) throw invalid('evidence is not active');
        const notified = await revokeAndNotify(tx, change.id, [rows[0].common_id], 'sessions-revoked');
        return { commonId: rows[0].common_id, notified };
      }
      case 'split': {
        await activeAccount(tx, p.commonId);
        const ids = p.evidenceIds;
        const { rows } = await tx.query<{ n: string }>(
          `SELECT count(*) AS n FROM idp.evidence WHERE id = ANY($1::bigint[]) AND common_id = $2 AND status = 'active'`,
          [ids, p.commonId],
        );
        if (Number(rows[0]!.n) !== ids.length) throw invalid('evidence does not belong to the account');
        const { rows: acc } = await tx.query<{ trust_framework: string }>(
          'SELECT trust_framework FROM idp.accounts WHERE common_id = $1',
          [p.commonId],
        );
        const newId = await accounts.create(tx, acc[0]!.trust_framework, null);
        await moveEvidence(tx, ids, newId);
        const notified = await revokeAndNotify(tx, change.id, [p.commonId], 'sessions-revoked');
        return { commonId: p.commonId, newCommonId: newId, notified };
      }
      case 'merge': {
        const from = p.from;
        const into = p.into;
        if (from === into) throw invalid('cannot merge an account into itself');
        await activeAccount(tx, from);
        await activeAccount(tx, into);
        const { rows } = await tx.query<{ id: string }>(
          `SELECT id FROM idp.evidence WHERE common_id = $1 AND status = 'active'`,
          [from],
        );
        await moveEvidence(
          tx,
          rows.map((r) => r.id),
          into,
        );
        await tx.query('UPDATE idp.match_keys SET common_id = $2 WHERE common_id = $1', [from, into]);
        await tx.query(
          `UPDATE idp.accounts SET status = 'merged', merged_into = $2, updated_at = $3 WHERE common_id = $1`,
          [from, into, now()],
        );
        const notified = await revokeAndNotify(tx, change.id, [from], 'identifier-changed', { from, into });
        await revokeAndNotify(tx, change.id, [into], 'sessions-revoked');
        return { from, into, notified };
      }
      case 'review': {
        const { rows } = await tx.query<{ candidate_common_id: string; sealed_evidence: string }>(
          `UPDATE idp.review_queue SET status = $2 WHERE id = $1 AND status = 'open'
           RETURNING candidate_common_id, sealed_evidence`,
          [p.reviewId, p.decision === 'link' ? 'linked' : 'rejected'],
        );
        if (!rows[0]) throw invalid('review is not open');
        if (p.decision === 'reject') return { decision: 'reject' };
        await activeAccount(tx, rows[0].candidate_common_id);
        const items = JSON.parse(sealer.open('review-evidence', rows[0].sealed_evidence)) as Array<{
          kind: string;
          issuer: string;
          serial: string;
        }>;
        for (const item of items) {
          const inserted = await tx.query(
            `INSERT INTO idp.evidence (common_id, kind, issuer, serial, status, verified_at)
             VALUES ($1, $2, $3, $4, 'active', $5)
             ON CONFLICT (kind, issuer, serial) WHERE status = 'active' DO NOTHING`,
            [rows[0].candidate_common_id, item.kind, item.issuer, item.serial, now()],
          );
          if (inserted.rowCount !== 1) throw invalid('the evidence is already linked to an account');
        }
        return { decision: 'link', commonId: rows[0].candidate_common_id, linked: items.length };
      }
    }
  };

  const load = async (tx: Queryable, id: string): Promise<ChangeRow> => {
    const { rows } = await tx.query<ChangeRow>('SELECT * FROM idp.link_changes WHERE id = $1 FOR UPDATE', [
      id,
    ]);
    if (!rows[0]) throw new ProblemError('link-change-not-found');
    return rows[0];
  };

  return {
    async propose(request, actor) {
      const { operation, reason, ...params } = request;
      return db.transaction(async (tx) => {
        const { rows } = await tx.query<ChangeRow>(
          `INSERT INTO idp.link_changes (operation, params, reason, status, proposed_by, created_at)
           VALUES ($1, $2, $3, 'proposed', $4, $5) RETURNING *`,
          [operation, JSON.stringify(params), reason, actor, now()],
        );
        const change = rows[0]!;
        await audit.recordInTransaction(tx, {
          actor,
          action: 'idp.link.propose',
          target: `link-change:${change.id}`,
          details: { operation, params },
        });
        return toChange(change);
      });
    },

    async approve(id, actor) {
      const outcome = await db
        .transaction(async (tx) => {
          await tx.query('SELECT pg_advisory_xact_lock($1)', [LINK_LOCK]);
          const change = await load(tx, id);
          if (change.status !== 'proposed') throw invalid(`the change is already ${change.status}`);
          if (change.proposed_by === actor) throw new ProblemError('second-approver-required');
          const result = await apply(tx, change);
          const { rows } = await tx.query<ChangeRow>(
            `UPDATE idp.link_changes SET status = 'applied', approved_by = $2, result = $3, decided_at = $4
              WHERE id = $1 RETURNING *`,
            [id, actor, JSON.stringify(result), now()],
          );
          await audit.recordInTransaction(tx, {
            actor,
            action: `idp.link.${change.operation}`,
            target: `link-change:${id}`,
            details: { proposedBy: change.proposed_by, result },
          });
          return toChange(rows[0]!);
        })
        .catch(async (error: unknown) => {
          if (error instanceof ProblemError && error.code === 'link-change-invalid') {
            await db.query(
              `UPDATE idp.link_changes SET status = 'failed', approved_by = $2, result = $3, decided_at = $4
                WHERE id = $1 AND status = 'proposed'`,
              [id, actor, JSON.stringify({ error: error.detail }), now()],
            );
          }
          throw error;
        });
      return outcome;
    },

    async list() {
      const { rows } = await db.query<ChangeRow>('SELECT * FROM idp.link_changes ORDER BY id');
      return rows.map(toChange);
    },

    async events(clientId, afterId) {
      const { rows } = await db.query<{
        id: string;
        type: LinkEvent['type'];
        subjects: string[];
        created_at: Date;
      }>(
        `SELECT id, type, subjects, created_at FROM idp.link_events WHERE client_id = $1 AND id > $2 ORDER BY id LIMIT 100`,
        [clientId, afterId],
      );
      return rows.map((r) => ({
        id: r.id,
        type: r.type,
        subjects: r.subjects,
        createdAt: r.created_at.toISOString(),
      }));
    },
  };
}

/**
 * Turns verified My Number card signatures into common IDs.
 *
 *   enroll  (身元確認)  the signing certificate (with the basic 4 info), optionally the
 *                      user-authentication certificate over the same nonce, so both serials are
 *                      tied to one common ID. Duplicate prevention, in order:
 *                        1. a known issuer + serial                → the same person
 *                        2. a known match key (name+birth+gender)  → review queue, no new ID
 *                        3. otherwise                              → a new common ID
 *   login   (当人認証)  the user-authentication certificate (or the signing one) of an enrolled person.
 *
 * Every success and failure is audited without personal values.
 */
import { createHmac } from 'node:crypto';
import type { AuditLog, Database, Queryable } from '../../core/index.ts';
import type { Accounts, VerifiedProfile } from '../accounts/accounts.ts';
import type { Sealer } from '../keys/seal.ts';
import { ACR } from '../provider/create_provider.ts';
import type { Basic4 } from './jpki_profile.ts';
import type { NonceStore } from './nonces.ts';
import type { RevocationSource } from './revocation.ts';
import { type JpkiFailure, type JpkiVerified, type TrustAnchors, verifyJpki } from './verify_jpki.ts';

export type ProofingFailure = JpkiFailure | 'NONCE' | 'NOT_ENROLLED' | 'REVIEW' | 'MISMATCH';

export type ProofingResult =
  | { ok: true; commonId: string; acr: string; amr: string[]; created: boolean }
  | { ok: false; code: ProofingFailure };

export interface SignedNonce {
  certificate: Uint8Array;
  signature: Uint8Array;
  intermediates?: Uint8Array[];
}

export interface IdentityProofing {
  issueNonce(binding: string): Promise<{ nonce: string; expiresAt: Date }>;
  enroll(input: {
    binding: string;
    nonce: string;
    sign: SignedNonce;
    auth?: SignedNonce;
  }): Promise<ProofingResult>;
  login(input: { binding: string; nonce: string; card: SignedNonce }): Promise<ProofingResult>;
  /** Open duplicate candidates for staff (no personal values). */
  reviewQueue(): Promise<Array<{ id: string; candidateCommonId: string; reason: string; createdAt: string }>>;
  trustAnchorsAreTest(): boolean;
  /**
   * The enrolled resident whose card carries this certificate (serial as upper-case hex, no leading
   * zeros), if it is active and unexpired; undefined when unknown or when the serial alone is
   * ambiguous across issuers. For card readers, which read the certificate without a PIN.
   */
  commonIdForCertificate(query: {
    kind: 'jpki-auth' | 'jpki-sign';
    serial: string;
    issuer?: string;
  }): Promise<string | undefined>;
}

const PROOFING_LOCK = 0x69646d6b; // "idmk"
const AMR = ['hwk', 'pin'];

export function genderOf(code: string): string {
  return code === '1' ? 'male' : code === '2' ? 'female' : 'other';
}

/** NFKC, no spaces of any width: the form compared for duplicate candidates. */
export function normaliseName(name: string): string {
  return name.normalize('NFKC').replace(/[\s\u3000]+/gu, '');
}

function profileOf(basic4: Basic4, v: JpkiVerified, at: Date): VerifiedProfile {
  return {
    name: basic4.name,
    birthdate: basic4.birthDate,
    gender: genderOf(basic4.gender),
    address: basic4.address,
    evidence: { issuer: v.issuer, serial: v.serial, verifiedAt: at.toISOString() },
  };
}

export function createIdentityProofing(options: {
  db: Database;
  audit: AuditLog;
  sealer: Sealer;
  accounts: Accounts;
  nonces: NonceStore;
  anchors: () => TrustAnchors;
  revocation: () => RevocationSource;
  now: () => Date;
}): IdentityProofing {
  const { db, audit, sealer, accounts, nonces, now } = options;
  const matchKeySecret = sealer.derive('match-key');
  const matchKey = (b: Basic4) =>
    createHmac('sha256', matchKeySecret)
      .update(`${normaliseName(b.name)}\u0000${b.birthDate}\u0000${b.gender}`)
      .digest('base64url');

  const failed = async (binding: string, action: string, code: ProofingFailure): Promise<ProofingResult> => {
    await audit.record({
      actor: 'anonymous',
      action,
      target: `interaction:${binding}`,
      details: { result: code },
    });
    return { ok: false, code };
  };

  const verify = (card: SignedNonce, nonce: string, expected: 'sign' | 'auth') =>
    verifyJpki(
      {
        certificate: card.certificate,
        intermediates: card.intermediates ?? [],
        signature: card.signature,
        nonce,
        expected,
      },
      options.anchors(),
      options.revocation(),
      now(),
    );

  const owners = async (tx: Queryable, items: Array<{ kind: string; v: JpkiVerified }>) => {
    const found = new Set<string>();
    for (const { kind, v } of items) {
      const { rows } = await tx.query<{ common_id: string }>(
        `SELECT common_id FROM idp.evidence WHERE kind = $1 AND issuer = $2 AND serial = $3 AND status = 'active'`,
        [kind, v.issuer, v.serial],
      );
      for (const r of rows) found.add(r.common_id);
    }
    return [...found];
  };

  const addEvidence = async (tx: Queryable, commonId: string, kind: string, v: JpkiVerified) => {
    await tx.query(
      `INSERT INTO idp.evidence (common_id, kind, issuer, serial, not_after, cert_sha256, status, verified_at)
       VALUES ($1, $2, $3, $4, $5, $6, 'active', $7)
       ON CONFLICT (kind, issuer, serial) WHERE status = 'active' DO NOTHING`,
      [commonId, kind, v.issuer, v.serial, v.notAfter, v.certSha256, now()],
    );
  };

  return {
    issueNonce: (binding) => nonces.issue(binding),
    trustAnchorsAreTest: () => options.anchors().isTest,
    async commonIdForCertificate(query) {
      const { rows } = await db.query<{ common_id: string }>(
        `SELECT DISTINCT common_id FROM idp.evidence
          WHERE kind = $1 AND serial = $2 AND ($3::text IS NULL OR issuer = $3) AND status = 'active'
            AND (not_after IS NULL OR not_after > $4)`,
        [query.kind, query.serial.replace(/^(00)+(?=.)/, '').toUpperCase(), query.issuer ?? null, now()],
      );
      return rows.length === 1 ? rows[0]!.common_id : undefined;
    },

    async enroll({ binding, nonce, sign, auth }) {
      const action = 'idp.jpki.enroll';
      if (!(await nonces.consume(nonce, binding))) return failed(binding, action, 'NONCE');
      const s = await verify(sign, nonce, 'sign');
      if (!s.ok) return failed(binding, action, s.code);
      const a = auth ? await verify(auth, nonce, 'auth') : undefined;
      if (a && !a.ok) return failed(binding, action, a.code);
      const basic4 = s.basic4!;
      const items = [{ kind: 'jpki-sign', v: s }, ...(a?.ok ? [{ kind: 'jpki-auth', v: a }] : [])];
      const profile = profileOf(basic4, s, now());
      const key = matchKey(basic4);
      const trustFramework = options.anchors().isTest ? 'test' : 'jp_jpki';

      const outcome = await db.transaction(async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock($1)', [PROOFING_LOCK]);
        const known = await owners(tx, items);
        if (known.length > 1) return { code: 'MISMATCH' as const, commonId: known[0]! };
        if (known.length === 1) {
          const commonId = known[0]!;
          for (const item of items) await addEvidence(tx, commonId, item.kind, item.v);
          await accounts.updateProfile(tx, commonId, profile);
          await audit.recordInTransaction(tx, {
            actor: `account:${commonId}`,
            action,
            target: `account:${commonId}`,
            details: { result: 'known', kinds: items.map((i) => i.kind) },
          });
          return { commonId, created: false };
        }
        const { rows } = await tx.query<{ common_id: string }>(
          'SELECT common_id FROM idp.match_keys WHERE key = $1',
          [key],
        );
        if (rows[0]) {
          const { rows: queued } = await tx.query<{ id: string }>(
            `INSERT INTO idp.review_queue (candidate_common_id, reason, sealed_evidence, status, created_at)
             VALUES ($1, 'basic4-match', $2, 'open', $3) RETURNING id`,
            [
              rows[0].common_id,
              sealer.seal(
                'review-evidence',
                JSON.stringify(items.map((i) => ({ kind: i.kind, issuer: i.v.issuer, serial: i.v.serial }))),
              ),
              now(),
            ],
          );
          await audit.recordInTransaction(tx, {
            actor: 'anonymous',
            action,
            target: `account:${rows[0].common_id}`,
            details: { result: 'REVIEW', review: queued[0]!.id },
          });
          return { code: 'REVIEW' as const, commonId: rows[0].common_id };
        }
        const commonId = await accounts.create(tx, trustFramework, profile);
        for (const item of items) await addEvidence(tx, commonId, item.kind, item.v);
        await tx.query('INSERT INTO idp.match_keys (key, common_id) VALUES ($1, $2)', [key, commonId]);
        await audit.recordInTransaction(tx, {
          actor: `account:${commonId}`,
          action,
          target: `account:${commonId}`,
          details: { result: 'created', kinds: items.map((i) => i.kind), trustFramework },
        });
        return { commonId, created: true };
      });
      if ('code' in outcome && outcome.code) return { ok: false, code: outcome.code };
      if (!('created' in outcome)) return { ok: false, code: 'MISMATCH' };
      return { ok: true, commonId: outcome.commonId, acr: ACR.jpkiSign, amr: AMR, created: outcome.created };
    },

    async login({ binding, nonce, card }) {
      const action = 'idp.jpki.login';
      if (!(await nonces.consume(nonce, binding))) return failed(binding, action, 'NONCE');
      let v = await verify(card, nonce, 'auth');
      if (!v.ok && v.code === 'PROFILE') v = await verify(card, nonce, 'sign');
      if (!v.ok) return failed(binding, action, v.code);
      const kind = v.kind === 'sign' ? 'jpki-sign' : 'jpki-auth';
      const known = await owners(db, [{ kind, v }]);
      const commonId = known[0];
      if (!commonId || !(await accounts.isActive(commonId))) return failed(binding, action, 'NOT_ENROLLED');
      await audit.record({
        actor: `account:${commonId}`,
        action,
        target: `account:${commonId}`,
        details: { result: 'ok', kind },
      });
      return {
        ok: true,
        commonId,
        acr: v.kind === 'sign' ? ACR.jpkiSign : ACR.jpkiAuth,
        amr: AMR,
        created: false,
      };
    },

    async reviewQueue() {
      const { rows } = await db.query<{
        id: string;
        candidate_common_id: string;
        reason: string;
        created_at: Date;
      }>(
        `SELECT id, candidate_common_id, reason, created_at FROM idp.review_queue WHERE status = 'open' ORDER BY id`,
      );
      return rows.map((r) => ({
        id: r.id,
        candidateCommonId: r.candidate_common_id,
        reason: r.reason,
        createdAt: r.created_at.toISOString(),
      }));
    },
  };
}

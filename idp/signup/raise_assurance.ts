/**
 * Raising a signed-in resident's assurance with the My Number card (the JPKI enrollment of the
 * card login page, run for the session's account): the same common ID gets the card's evidence and
 * the verified basic 4 info, so its points, links and consents stay where they are.
 *
 * Duplicate prevention is the enrollment's, in the same order and under the same lock:
 *   1. the card is already bound to this common ID          → nothing new, card level
 *   2. the card is bound to another common ID                → review queue ('card-bound-elsewhere')
 *   3. another common ID has the same basic 4 info           → review queue ('basic4-match')
 *   4. otherwise                                             → evidence + profile on this common ID
 * Never a silent second ID: in 2 and 3 the session keeps its lower level until staff decide.
 */
import { createHmac } from 'node:crypto';
import type { AuditLog, Database, Queryable } from '../../core/index.ts';
import type { Accounts, VerifiedProfile } from '../accounts/accounts.ts';
import { genderOf, normaliseName, type ProofingResult, type SignedNonce } from '../jpki/identity_proofing.ts';
import type { Basic4 } from '../jpki/jpki_profile.ts';
import type { NonceStore } from '../jpki/nonces.ts';
import type { JpkiResult, JpkiVerified } from '../jpki/verify_jpki.ts';
import type { Sealer } from '../keys/seal.ts';
import { ACR } from '../provider/create_provider.ts';

/** The enrollment's lock (identity_proofing.ts), so a raise and an enrollment never race. */
const PROOFING_LOCK = 0x69646d6b;

export interface RaiseAssurance {
  raise(input: {
    commonId: string;
    binding: string;
    nonce: string;
    sign: SignedNonce;
    auth?: SignedNonce;
  }): Promise<ProofingResult>;
}

export function createRaiseAssurance(options: {
  db: Database;
  audit: AuditLog;
  sealer: Sealer;
  accounts: Accounts;
  nonces: NonceStore;
  verify: (card: SignedNonce, nonce: string, expected: 'sign' | 'auth') => Promise<JpkiResult>;
  isTest: () => boolean;
  now: () => Date;
}): RaiseAssurance {
  const { db, audit, sealer, accounts, now } = options;
  const matchKeySecret = sealer.derive('match-key');
  const matchKey = (b: Basic4) =>
    createHmac('sha256', matchKeySecret)
      .update(`${normaliseName(b.name)}\u0000${b.birthDate}\u0000${b.gender}`)
      .digest('base64url');
  const action = 'idp.assurance.raise';

  const failed = async (commonId: string, code: Exclude<ProofingResult, { ok: true }>['code']) => {
    await audit.record({
      actor: `account:${commonId}`,
      action,
      target: `account:${commonId}`,
      details: { result: code },
    });
    return { ok: false, code } as const;
  };

  const queue = async (
    tx: Queryable,
    commonId: string,
    candidate: string,
    reason: string,
    items: Array<{ kind: string; v: JpkiVerified }>,
  ) => {
    const { rows } = await tx.query<{ id: string }>(
      `INSERT INTO idp.review_queue (candidate_common_id, reason, sealed_evidence, status, created_at)
       VALUES ($1, $2, $3, 'open', $4) RETURNING id`,
      [
        candidate,
        reason,
        sealer.seal(
          'review-evidence',
          JSON.stringify(items.map((i) => ({ kind: i.kind, issuer: i.v.issuer, serial: i.v.serial }))),
        ),
        now(),
      ],
    );
    await audit.recordInTransaction(tx, {
      actor: `account:${commonId}`,
      action,
      target: `account:${candidate}`,
      details: { result: 'REVIEW', review: rows[0]!.id, reason, from: commonId },
    });
  };

  return {
    async raise({ commonId, binding, nonce, sign, auth }) {
      if (!(await options.nonces.consume(nonce, binding))) return failed(commonId, 'NONCE');
      const s = await options.verify(sign, nonce, 'sign');
      if (!s.ok) return failed(commonId, s.code);
      const a = auth ? await options.verify(auth, nonce, 'auth') : undefined;
      if (a && !a.ok) return failed(commonId, a.code);
      const items = [{ kind: 'jpki-sign', v: s }, ...(a?.ok ? [{ kind: 'jpki-auth', v: a }] : [])];
      const basic4 = s.basic4!;
      const profile: VerifiedProfile = {
        name: basic4.name,
        birthdate: basic4.birthDate,
        gender: genderOf(basic4.gender),
        address: basic4.address,
        evidence: { issuer: s.issuer, serial: s.serial, verifiedAt: now().toISOString() },
      };
      const key = matchKey(basic4);
      const trustFramework = options.isTest() ? 'test' : 'jp_jpki';

      const outcome = await db.transaction(async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock($1)', [PROOFING_LOCK]);
        const owners = new Set<string>();
        for (const { kind, v } of items) {
          const { rows } = await tx.query<{ common_id: string }>(
            `SELECT common_id FROM idp.evidence WHERE kind = $1 AND issuer = $2 AND serial = $3 AND status = 'active'`,
            [kind, v.issuer, v.serial],
          );
          for (const r of rows) owners.add(r.common_id);
        }
        const elsewhere = [...owners].find((o) => o !== commonId);
        if (elsewhere) {
          await queue(tx, commonId, elsewhere, 'card-bound-elsewhere', items);
          return 'REVIEW' as const;
        }
        const { rows: matches } = await tx.query<{ common_id: string }>(
          'SELECT common_id FROM idp.match_keys WHERE key = $1',
          [key],
        );
        if (matches[0] && matches[0].common_id !== commonId) {
          await queue(tx, commonId, matches[0].common_id, 'basic4-match', items);
          return 'REVIEW' as const;
        }
        for (const { kind, v } of items) {
          await tx.query(
            `INSERT INTO idp.evidence (common_id, kind, issuer, serial, not_after, cert_sha256, status, verified_at)
             VALUES ($1, $2, $3, $4, $5, $6, 'active', $7)
             ON CONFLICT (kind, issuer, serial) WHERE status = 'active' DO NOTHING`,
            [commonId, kind, v.issuer, v.serial, v.notAfter, v.certSha256, now()],
          );
        }
        await accounts.updateProfile(tx, commonId, profile);
        await tx.query('UPDATE idp.accounts SET trust_framework = $2 WHERE common_id = $1', [
          commonId,
          trustFramework,
        ]);
        await tx.query('INSERT INTO idp.match_keys (key, common_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [
          key,
          commonId,
        ]);
        await audit.recordInTransaction(tx, {
          actor: `account:${commonId}`,
          action,
          target: `account:${commonId}`,
          details: { result: owners.size > 0 ? 'known' : 'raised', kinds: items.map((i) => i.kind) },
        });
        return 'RAISED' as const;
      });
      if (outcome === 'REVIEW') return { ok: false, code: 'REVIEW' };
      return { ok: true, commonId, acr: ACR.jpkiSign, amr: ['hwk', 'pin'], created: false };
    },
  };
}

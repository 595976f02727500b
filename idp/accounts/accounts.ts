/**
 * Residents' accounts and common IDs (共通ID). A common ID is 128 random bits, never changes and is
 * never reused (rows are never deleted; a merged ID stays as an alias). Verified attributes (the
 * basic 4 info from the signing certificate) are sealed at rest and only unsealed to build claims.
 * Partner services see a pairwise subject per service, never the common ID.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { Database, Queryable } from '../../core/index.ts';
import type { Sealer } from '../keys/seal.ts';

export interface VerifiedProfile {
  name: string;
  /** ISO date (YYYY-MM-DD). */
  birthdate: string;
  /** OIDC gender: 'male' | 'female' | 'other'. */
  gender: string;
  address: string;
  /** Evidence for OpenID Connect for Identity Assurance. */
  evidence: { issuer: string; serial: string; verifiedAt: string };
}

export interface AccountRecord {
  commonId: string;
  status: 'active' | 'merged' | 'disabled';
  mergedInto: string | null;
  trustFramework: string;
  profile: VerifiedProfile | null;
  createdAt: Date;
}

export interface Accounts {
  /** Creates a new account with a fresh common ID inside the caller's transaction. */
  create(tx: Queryable, trustFramework: string, profile: VerifiedProfile | null): Promise<string>;
  updateProfile(tx: Queryable, commonId: string, profile: VerifiedProfile): Promise<void>;
  find(commonId: string): Promise<AccountRecord | undefined>;
  isActive(commonId: string): Promise<boolean>;
  /** The subject a partner service sees for this resident. */
  pairwiseSubject(commonId: string, clientId: string): Promise<string>;
  /** The common ID behind a service's pairwise subject, if that service was ever given it. */
  commonIdForSubject(clientId: string, sub: string): Promise<string | undefined>;
  /**
   * Runs `listener` inside the transaction that stores a verified profile (enrolment, re-enrolment,
   * federation), so a module keeping its own copy (mediation) commits or fails with it.
   */
  onProfile(listener: ProfileListener): void;
}

export type ProfileListener = (tx: Queryable, commonId: string, profile: VerifiedProfile) => Promise<void>;

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

/** 26 characters of RFC 4648 base32 (lower case), 130 bits of which 128 random. */
export function newCommonId(): string {
  const bytes = randomBytes(16);
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

interface Row {
  common_id: string;
  status: AccountRecord['status'];
  merged_into: string | null;
  trust_framework: string;
  sealed_profile: string | null;
  created_at: Date;
}

export function createAccounts(db: Database, sealer: Sealer, now: () => Date): Accounts {
  const pairwiseKey = sealer.derive('pairwise-subject');
  const sealProfile = (commonId: string, p: VerifiedProfile) =>
    sealer.seal(`profile:${commonId}`, JSON.stringify(p));
  const listeners: ProfileListener[] = [];
  const notify = async (tx: Queryable, commonId: string, profile: VerifiedProfile) => {
    for (const listener of listeners) await listener(tx, commonId, profile);
  };
  return {
    onProfile(listener) {
      listeners.push(listener);
    },
    async create(tx, trustFramework, profile) {
      const commonId = newCommonId();
      await tx.query(
        `INSERT INTO idp.accounts (common_id, status, trust_framework, sealed_profile, created_at, updated_at)
         VALUES ($1, 'active', $2, $3, $4, $4)`,
        [commonId, trustFramework, profile ? sealProfile(commonId, profile) : null, now()],
      );
      if (profile) await notify(tx, commonId, profile);
      return commonId;
    },
    async updateProfile(tx, commonId, profile) {
      await tx.query('UPDATE idp.accounts SET sealed_profile = $2, updated_at = $3 WHERE common_id = $1', [
        commonId,
        sealProfile(commonId, profile),
        now(),
      ]);
      await notify(tx, commonId, profile);
    },
    async find(commonId) {
      const { rows } = await db.query<Row>('SELECT * FROM idp.accounts WHERE common_id = $1', [commonId]);
      const r = rows[0];
      if (!r) return undefined;
      return {
        commonId: r.common_id,
        status: r.status,
        mergedInto: r.merged_into,
        trustFramework: r.trust_framework,
        profile: r.sealed_profile
          ? (JSON.parse(sealer.open(`profile:${r.common_id}`, r.sealed_profile)) as VerifiedProfile)
          : null,
        createdAt: r.created_at,
      };
    },
    async isActive(commonId) {
      const { rows } = await db.query<{ status: string }>(
        'SELECT status FROM idp.accounts WHERE common_id = $1',
        [commonId],
      );
      return rows[0]?.status === 'active';
    },
    async pairwiseSubject(commonId, clientId) {
      const sub = createHmac('sha256', pairwiseKey)
        .update(`${clientId}\u0000${commonId}`)
        .digest('base64url');
      await db.query(
        `INSERT INTO idp.pairwise_subjects (client_id, sub, common_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
        [clientId, sub, commonId],
      );
      return sub;
    },
    async commonIdForSubject(clientId, sub) {
      // A merged-away ID answers with the ID it was merged into.
      const { rows } = await db.query<{ common_id: string }>(
        `SELECT COALESCE(a.merged_into, p.common_id) AS common_id
           FROM idp.pairwise_subjects p JOIN idp.accounts a ON a.common_id = p.common_id
          WHERE p.client_id = $1 AND p.sub = $2`,
        [clientId, sub],
      );
      return rows[0]?.common_id;
    },
  };
}

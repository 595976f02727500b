/**
 * The provider's signing keys, stored sealed in `idp.signing_keys` and rotatable without downtime:
 * `rotate()` adds a fresh key per algorithm in front and retires the previous ones, which stay in
 * the published JWKS (so tokens they signed still verify) until `prune()` removes them.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { JWK } from 'oidc-provider';
import type { Database, Queryable } from '../../core/index.ts';
import type { Sealer } from './seal.ts';

export const SIGNING_ALGS = ['RS256', 'ES256'] as const;
type Alg = (typeof SIGNING_ALGS)[number];

const KEYS_LOCK = 0x69647073; // "idps"

function generate(alg: Alg): JWK {
  const { privateKey } =
    alg === 'RS256'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const kid = `${alg.toLowerCase()}-${randomBytes(9).toString('base64url')}`;
  return { ...(privateKey.export({ format: 'jwk' }) as JWK), kid, alg, use: 'sig' };
}

export interface SigningKeyStore {
  /** Creates the first keys when there are none; safe when several instances start at once. */
  ensure(): Promise<void>;
  /** Private JWKs for the provider: active keys first (newest first), then retired ones. */
  load(): Promise<{ keys: JWK[] }>;
  /** Adds a new active key per algorithm and retires the current ones; returns the new kids. */
  rotate(): Promise<string[]>;
  /** A fingerprint of the stored key set: another instance rotated when it changes. */
  version(): Promise<string>;
  /** Deletes keys retired before `before`; returns their kids. */
  prune(before: Date): Promise<string[]>;
}

export function createSigningKeyStore(db: Database, sealer: Sealer, now: () => Date): SigningKeyStore {
  const insert = async (tx: Queryable, alg: Alg): Promise<string> => {
    const jwk = generate(alg);
    await tx.query(
      `INSERT INTO idp.signing_keys (kid, alg, sealed_jwk, status, created_at) VALUES ($1, $2, $3, 'active', $4)`,
      [jwk.kid, alg, sealer.seal(`signing-key:${jwk.kid}`, JSON.stringify(jwk)), now()],
    );
    return jwk.kid as string;
  };
  return {
    async ensure() {
      await db.transaction(async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock($1)', [KEYS_LOCK]);
        const { rows } = await tx.query<{ alg: string }>(
          `SELECT DISTINCT alg FROM idp.signing_keys WHERE status = 'active'`,
        );
        const present = new Set(rows.map((r) => r.alg));
        for (const alg of SIGNING_ALGS) if (!present.has(alg)) await insert(tx, alg);
      });
    },
    async load() {
      const { rows } = await db.query<{ kid: string; sealed_jwk: string }>(
        `SELECT kid, sealed_jwk FROM idp.signing_keys
          ORDER BY (status = 'active') DESC, created_at DESC, kid`,
      );
      return {
        keys: rows.map((r) => JSON.parse(openOrExplain(sealer, `signing-key:${r.kid}`, r.sealed_jwk)) as JWK),
      };
    },
    rotate() {
      return db.transaction(async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock($1)', [KEYS_LOCK]);
        await tx.query(
          `UPDATE idp.signing_keys SET status = 'retired', retired_at = $1 WHERE status = 'active'`,
          [now()],
        );
        const kids: string[] = [];
        for (const alg of SIGNING_ALGS) kids.push(await insert(tx, alg));
        return kids;
      });
    },
    async version() {
      const { rows } = await db.query<{ v: string | null }>(
        `SELECT string_agg(kid || ':' || status, ',' ORDER BY kid) AS v FROM idp.signing_keys`,
      );
      return rows[0]?.v ?? '';
    },
    async prune(before) {
      const { rows } = await db.query<{ kid: string }>(
        `DELETE FROM idp.signing_keys WHERE status = 'retired' AND retired_at < $1 RETURNING kid`,
        [before],
      );
      return rows.map((r) => r.kid);
    },
  };
}

/** Unseals, or explains the usual cause: instances sharing a database with different master keys. */
function openOrExplain(sealer: Sealer, purpose: string, sealed: string): string {
  try {
    return sealer.open(purpose, sealed);
  } catch (error) {
    throw new Error(
      'idp: cannot unseal the provider keys stored in the database: they were sealed under another MASTER_KEY ' +
        '(instances sharing a database must share MASTER_KEY; without it each data directory has its own development key)',
      { cause: error },
    );
  }
}

/** Cookie-signing keys for the provider, generated once and kept sealed. */
export async function loadCookieKeys(db: Database, sealer: Sealer, now: () => Date): Promise<string[]> {
  const fresh = JSON.stringify([randomBytes(32).toString('base64url')]);
  await db.query(
    `INSERT INTO idp.secrets (name, sealed, created_at) VALUES ('cookie-keys', $1, $2) ON CONFLICT (name) DO NOTHING`,
    [sealer.seal('cookie-keys', fresh), now()],
  );
  const { rows } = await db.query<{ sealed: string }>(
    `SELECT sealed FROM idp.secrets WHERE name = 'cookie-keys'`,
  );
  return JSON.parse(openOrExplain(sealer, 'cookie-keys', rows[0]!.sealed)) as string[];
}

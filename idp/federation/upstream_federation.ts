/**
 * Upstream federation: residents sign in with an upstream OpenID provider (a prefecture's
 * personal-data platform, the Digital Agency's authentication app, another Tsunagu) and get or keep
 * a common ID here. We are a plain relying party (openid-client): discovery, code + PKCE (S256),
 * nonce, `client_secret_basic` or `private_key_jwt`.
 *
 *   start(uid, upstream)   state row (sealed PKCE verifier, nonce) → the upstream authorization URL
 *   callback(url)          code exchange, ID token validation, userinfo → link or create → outcome
 *                          stored on the state row for the interaction to pick up
 *   result(uid, state)     the outcome, once (the interaction page finishes the login with it)
 *
 * Linking: (upstream issuer, upstream sub) is evidence of kind 'federated'. A known pair is the same
 * person. A new pair creates a common ID unless the upstream's verified name + birth date + gender
 * match an existing resident, which goes to the review queue instead (never a second ID).
 */
import { createHmac } from 'node:crypto';
import * as oidc from 'openid-client';
import type { AuditLog, Database } from '../../core/index.ts';
import type { Accounts, VerifiedProfile } from '../accounts/accounts.ts';
import { normaliseName } from '../jpki/identity_proofing.ts';
import type { Sealer } from '../keys/seal.ts';

export interface UpstreamConfig {
  /** Short id used in URLs, e.g. `pref`. */
  id: string;
  label: { ja: string; en: string };
  issuer: string;
  clientId: string;
  /** `client_secret_basic` … */
  clientSecret?: string;
  /** … or `private_key_jwt` with this private key (e.g. ES256 for the Digital Agency's app). */
  privateKey?: oidc.CryptoKey | oidc.PrivateKey;
  /** Default `openid profile verified_claims`. */
  scope?: string;
  /** Development and tests only: allow an http:// issuer. */
  allowHttp?: boolean;
  /**
   * Assurance mapping: the upstream ID token's `acr` → our acr. Unmapped or absent values give
   * `urn:tsunagu:acr:federated`, the lowest level.
   */
  acrMap?: Record<string, string>;
}

export type FederationOutcome =
  | { ok: true; commonId: string; created: boolean; acr: string }
  | { ok: false; code: 'UPSTREAM_ERROR' | 'REVIEW' | 'STATE' };

export interface Federation {
  upstreams(): Array<Pick<UpstreamConfig, 'id' | 'label' | 'issuer'>>;
  /** Adds or replaces an upstream (configuration, e.g. at start from a secrets store). */
  add(upstream: UpstreamConfig): void;
  start(uid: string, upstreamId: string): Promise<URL>;
  /** Handles the upstream's redirect; returns the interaction to resume, or undefined for an unknown state. */
  callback(currentUrl: URL): Promise<{ uid: string; state: string } | undefined>;
  result(uid: string, state: string): Promise<FederationOutcome>;
}

const STATE_TTL_MS = 10 * 60_000;
const FEDERATED_ACR = 'urn:tsunagu:acr:federated';
const LINK_LOCK = 0x69646d6b; // the identity-proofing lock: one linker at a time

interface UpstreamClaims {
  name?: string;
  birthdate?: string;
  gender?: string;
  address?: string | { formatted?: string };
}

function profileFrom(
  info: Record<string, unknown>,
  issuer: string,
  sub: string,
  at: Date,
): VerifiedProfile | null {
  const verified = info['verified_claims'] as { claims?: UpstreamClaims } | undefined;
  const c = verified?.claims;
  if (!c?.name || !c.birthdate || !c.gender) return null;
  const address = typeof c.address === 'string' ? c.address : (c.address?.formatted ?? '');
  return {
    name: c.name,
    birthdate: c.birthdate,
    gender: c.gender,
    address,
    evidence: { issuer, serial: sub, verifiedAt: at.toISOString() },
  };
}

const JPKI_GENDER: Record<string, string> = { male: '1', female: '2' };

export function createFederation(options: {
  db: Database;
  audit: AuditLog;
  sealer: Sealer;
  accounts: Accounts;
  redirectUri: string;
  upstreams: UpstreamConfig[];
  now: () => Date;
}): Federation {
  const { db, audit, sealer, accounts, now } = options;
  const configs = new Map<string, UpstreamConfig>();
  const discovered = new Map<string, Promise<oidc.Configuration>>();
  const matchKeySecret = sealer.derive('match-key');
  for (const u of options.upstreams) configs.set(u.id, u);

  const configuration = (u: UpstreamConfig): Promise<oidc.Configuration> => {
    let found = discovered.get(u.id);
    if (!found) {
      const auth = u.privateKey
        ? oidc.PrivateKeyJwt(u.privateKey)
        : oidc.ClientSecretBasic(u.clientSecret ?? '');
      found = oidc.discovery(
        new URL(u.issuer),
        u.clientId,
        undefined,
        auth,
        u.allowHttp ? { execute: [oidc.allowInsecureRequests] } : {},
      );
      found.catch(() => discovered.delete(u.id));
      discovered.set(u.id, found);
    }
    return found;
  };

  type Linked = { ok: true; commonId: string; created: boolean } | { ok: false; code: 'REVIEW' };
  const link = (u: UpstreamConfig, sub: string, profile: VerifiedProfile | null): Promise<Linked> =>
    db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [LINK_LOCK]);
      const { rows } = await tx.query<{ common_id: string }>(
        `SELECT common_id FROM idp.evidence WHERE kind = 'federated' AND issuer = $1 AND serial = $2 AND status = 'active'`,
        [u.issuer, sub],
      );
      if (rows[0]) {
        if (profile) await accounts.updateProfile(tx, rows[0].common_id, profile);
        return { ok: true as const, commonId: rows[0].common_id, created: false };
      }
      let key: string | undefined;
      if (profile) {
        // The same keyed hash as JPKI enrollment (gender as the JPKI code), so a resident verified
        // there and arriving from upstream is a candidate, not a second person.
        key = createHmac('sha256', matchKeySecret)
          .update(
            `${normaliseName(profile.name)}\u0000${profile.birthdate}\u0000${JPKI_GENDER[profile.gender] ?? profile.gender}`,
          )
          .digest('base64url');
        const match = await tx.query<{ common_id: string }>(
          'SELECT common_id FROM idp.match_keys WHERE key = $1',
          [key],
        );
        if (match.rows[0]) {
          await tx.query(
            `INSERT INTO idp.review_queue (candidate_common_id, reason, sealed_evidence, status, created_at)
             VALUES ($1, 'federated-basic4-match', $2, 'open', $3)`,
            [
              match.rows[0].common_id,
              sealer.seal(
                'review-evidence',
                JSON.stringify([{ kind: 'federated', issuer: u.issuer, serial: sub }]),
              ),
              now(),
            ],
          );
          return { ok: false as const, code: 'REVIEW' as const };
        }
      }
      const commonId = await accounts.create(tx, `federated:${u.id}`, profile);
      await tx.query(
        `INSERT INTO idp.evidence (common_id, kind, issuer, serial, status, verified_at)
         VALUES ($1, 'federated', $2, $3, 'active', $4)`,
        [commonId, u.issuer, sub, now()],
      );
      if (key) await tx.query('INSERT INTO idp.match_keys (key, common_id) VALUES ($1, $2)', [key, commonId]);
      return { ok: true as const, commonId, created: true };
    });

  return {
    upstreams: () => [...configs.values()].map(({ id, label, issuer }) => ({ id, label, issuer })),
    add(u) {
      configs.set(u.id, u);
      discovered.delete(u.id);
    },

    async start(uid, upstreamId) {
      const u = configs.get(upstreamId);
      if (!u) throw new Error(`unknown upstream ${upstreamId}`);
      const config = await configuration(u);
      const verifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      const nonce = oidc.randomNonce();
      await db.query(
        `INSERT INTO idp.federation_states (state, interaction_uid, upstream, sealed_verifier, nonce, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)`,
        [
          state,
          uid,
          u.id,
          sealer.seal(`pkce:${state}`, verifier),
          nonce,
          new Date(now().getTime() + STATE_TTL_MS),
        ],
      );
      return oidc.buildAuthorizationUrl(config, {
        redirect_uri: options.redirectUri,
        scope: u.scope ?? 'openid profile verified_claims',
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
        nonce,
      });
    },

    async callback(currentUrl) {
      const state = currentUrl.searchParams.get('state') ?? '';
      const { rows } = await db.query<{
        interaction_uid: string;
        upstream: string;
        sealed_verifier: string;
        nonce: string;
      }>(
        `UPDATE idp.federation_states SET used_at = $2
          WHERE state = $1 AND used_at IS NULL AND expires_at > $2
          RETURNING interaction_uid, upstream, sealed_verifier, nonce`,
        [state, now()],
      );
      const row = rows[0];
      if (!row) return undefined;
      const u = configs.get(row.upstream);
      let outcome: FederationOutcome = { ok: false, code: 'UPSTREAM_ERROR' };
      if (u) {
        try {
          const config = await configuration(u);
          const tokens = await oidc.authorizationCodeGrant(config, currentUrl, {
            pkceCodeVerifier: sealer.open(`pkce:${state}`, row.sealed_verifier),
            expectedState: state,
            expectedNonce: row.nonce,
            idTokenExpected: true,
          });
          const claims = tokens.claims()!;
          const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
          const linked = await link(u, claims.sub, profileFrom(info, u.issuer, claims.sub, now()));
          const acr = u.acrMap?.[String(claims['acr'] ?? '')] ?? FEDERATED_ACR;
          outcome = linked.ok ? { ...linked, acr } : linked;
        } catch {
          outcome = { ok: false, code: 'UPSTREAM_ERROR' };
        }
      }
      await db.query('UPDATE idp.federation_states SET outcome = $2 WHERE state = $1', [
        state,
        JSON.stringify(outcome),
      ]);
      await audit.record({
        actor: outcome.ok ? `account:${outcome.commonId}` : 'anonymous',
        action: 'idp.federation.login',
        target: outcome.ok ? `account:${outcome.commonId}` : `interaction:${row.interaction_uid}`,
        details: {
          upstream: row.upstream,
          result: outcome.ok ? (outcome.created ? 'created' : 'known') : outcome.code,
        },
      });
      return { uid: row.interaction_uid, state };
    },

    async result(uid, state) {
      const { rows } = await db.query<{ outcome: FederationOutcome | null }>(
        `UPDATE idp.federation_states SET outcome_read_at = $3
          WHERE state = $1 AND interaction_uid = $2 AND outcome_read_at IS NULL AND outcome IS NOT NULL
          RETURNING outcome`,
        [state, uid, now()],
      );
      return rows[0]?.outcome ?? { ok: false, code: 'STATE' };
    },
  };
}

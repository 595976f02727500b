/** The `idp` schema. Forward-only: add a migration, never edit an applied one. */
import type { Migration } from '../core/index.ts';

export const idpMigrations: readonly Migration[] = [
  {
    id: '001_provider_state',
    sql: `
      -- Every oidc-provider model (sessions, grants, codes, tokens, interactions …) in one table.
      CREATE TABLE idp.oidc_payloads (
        model        text        NOT NULL,
        id           text        NOT NULL,
        payload      jsonb       NOT NULL,
        grant_id     text,
        uid          text,
        user_code    text,
        client_id    text,
        expires_at   timestamptz,
        consumed_at  timestamptz,
        PRIMARY KEY (model, id)
      );
      CREATE INDEX oidc_payloads_grant ON idp.oidc_payloads (grant_id) WHERE grant_id IS NOT NULL;
      CREATE INDEX oidc_payloads_uid ON idp.oidc_payloads (uid) WHERE uid IS NOT NULL;
      CREATE INDEX oidc_payloads_user_code ON idp.oidc_payloads (user_code) WHERE user_code IS NOT NULL;
      CREATE INDEX oidc_payloads_client ON idp.oidc_payloads (client_id) WHERE client_id IS NOT NULL;
      CREATE INDEX oidc_payloads_expiry ON idp.oidc_payloads (expires_at);

      -- Provider signing keys (private JWKs sealed with AES-256-GCM). The newest active key of an
      -- algorithm signs; retired keys stay published until they are removed.
      CREATE TABLE idp.signing_keys (
        kid         text        PRIMARY KEY,
        alg         text        NOT NULL,
        sealed_jwk  text        NOT NULL,
        status      text        NOT NULL CHECK (status IN ('active', 'retired')),
        created_at  timestamptz NOT NULL,
        retired_at  timestamptz
      );

      -- Other provider secrets (cookie keys), sealed.
      CREATE TABLE idp.secrets (
        name        text        PRIMARY KEY,
        sealed      text        NOT NULL,
        created_at  timestamptz NOT NULL
      );

      -- Partner clients (連携サービス). The provider reads them through the adapter's Client model.
      CREATE TABLE idp.clients (
        client_id     text        PRIMARY KEY,
        name          text        NOT NULL,
        sealed_secret text,
        metadata      jsonb       NOT NULL,
        ip_allowlist  text[]      NOT NULL DEFAULT '{}',
        status        text        NOT NULL CHECK (status IN ('active', 'disabled')),
        created_at    timestamptz NOT NULL,
        updated_at    timestamptz NOT NULL
      );

      -- Residents' common IDs: random, immutable, never deleted (so never reused). A merged ID stays
      -- as an alias of the ID it was merged into.
      CREATE TABLE idp.accounts (
        common_id      text        PRIMARY KEY,
        status         text        NOT NULL CHECK (status IN ('active', 'merged', 'disabled')),
        merged_into    text        REFERENCES idp.accounts (common_id),
        trust_framework text       NOT NULL,
        sealed_profile text,
        created_at     timestamptz NOT NULL,
        updated_at     timestamptz NOT NULL
      );

      -- Pairwise subject per partner service, kept so a service's subject can be mapped back.
      CREATE TABLE idp.pairwise_subjects (
        client_id  text NOT NULL,
        sub        text NOT NULL,
        common_id  text NOT NULL REFERENCES idp.accounts (common_id),
        PRIMARY KEY (client_id, sub),
        UNIQUE (client_id, common_id)
      );
    `,
  },
  {
    id: '002_jpki',
    sql: `
      -- One-time challenges for the card to sign, bound to the login interaction that asked for them.
      CREATE TABLE idp.jpki_nonces (
        nonce       text        PRIMARY KEY,
        binding     text        NOT NULL,
        expires_at  timestamptz NOT NULL,
        used_at     timestamptz
      );
      CREATE INDEX jpki_nonces_expiry ON idp.jpki_nonces (expires_at);

      -- Evidence tying a certificate (or an upstream identity) to a common ID. Same issuer + serial
      -- means the same person. Never deleted: an unlink sets status 'unlinked'.
      CREATE TABLE idp.evidence (
        id           bigserial   PRIMARY KEY,
        common_id    text        NOT NULL REFERENCES idp.accounts (common_id),
        kind         text        NOT NULL CHECK (kind IN ('jpki-sign', 'jpki-auth', 'federated')),
        issuer       text        NOT NULL,
        serial       text        NOT NULL,
        not_after    timestamptz,
        cert_sha256  text,
        status       text        NOT NULL CHECK (status IN ('active', 'unlinked')),
        verified_at  timestamptz NOT NULL
      );
      CREATE UNIQUE INDEX evidence_active ON idp.evidence (kind, issuer, serial) WHERE status = 'active';
      CREATE INDEX evidence_common_id ON idp.evidence (common_id);

      -- Keyed HMAC of normalised name + birth date + gender: a match is only a duplicate candidate.
      CREATE TABLE idp.match_keys (
        key        text PRIMARY KEY,
        common_id  text NOT NULL REFERENCES idp.accounts (common_id)
      );

      -- Candidates for staff review: a new certificate whose holder looks like an existing resident.
      CREATE TABLE idp.review_queue (
        id                   bigserial   PRIMARY KEY,
        candidate_common_id  text        NOT NULL REFERENCES idp.accounts (common_id),
        reason               text        NOT NULL,
        sealed_evidence      text        NOT NULL,
        status               text        NOT NULL CHECK (status IN ('open', 'linked', 'rejected')),
        created_at           timestamptz NOT NULL
      );
    `,
  },
  {
    id: '003_federation',
    sql: `
      -- A sign-in in progress at an upstream provider: PKCE verifier (sealed) and nonce, the
      -- interaction it resumes, and once the upstream answered, the outcome (read once).
      CREATE TABLE idp.federation_states (
        state            text        PRIMARY KEY,
        interaction_uid  text        NOT NULL,
        upstream         text        NOT NULL,
        sealed_verifier  text        NOT NULL,
        nonce            text        NOT NULL,
        expires_at       timestamptz NOT NULL,
        used_at          timestamptz,
        outcome          jsonb,
        outcome_read_at  timestamptz
      );
      CREATE INDEX federation_states_expiry ON idp.federation_states (expires_at);
    `,
  },
  {
    id: '004_link_changes',
    sql: `
      -- Corrections of wrong links (unlink, split, merge, review decisions): proposed by one staff
      -- member, applied only when a second, different one approves.
      CREATE TABLE idp.link_changes (
        id           bigserial   PRIMARY KEY,
        operation    text        NOT NULL CHECK (operation IN ('unlink', 'split', 'merge', 'review')),
        params       jsonb       NOT NULL,
        reason       text        NOT NULL,
        status       text        NOT NULL CHECK (status IN ('proposed', 'applied', 'failed')),
        proposed_by  text        NOT NULL,
        approved_by  text,
        result       jsonb,
        created_at   timestamptz NOT NULL,
        decided_at   timestamptz
      );

      -- What partner services must hear about (OpenID RISC-style), per service and pairwise subject.
      CREATE TABLE idp.link_events (
        id          bigserial   PRIMARY KEY,
        client_id   text        NOT NULL,
        type        text        NOT NULL,
        subjects    text[]      NOT NULL,
        change_id   bigint      NOT NULL REFERENCES idp.link_changes (id),
        created_at  timestamptz NOT NULL
      );
      CREATE INDEX link_events_client ON idp.link_events (client_id, id);
    `,
  },
  {
    id: '005_login_throttle',
    sql: `
      -- Failed resident logins per client address and per certificate, in a sliding window.
      CREATE TABLE idp.login_failures (
        key         text        NOT NULL,
        failed_at   timestamptz NOT NULL
      );
      CREATE INDEX login_failures_key ON idp.login_failures (key, failed_at);
    `,
  },
  {
    id: '006_staff',
    sql: `
      -- Staff accounts for the admin console: password (scrypt) + TOTP, lockout, last login.
      CREATE TABLE idp.staff (
        id                   text        PRIMARY KEY,
        username             text        NOT NULL UNIQUE,
        password_hash        text        NOT NULL,
        sealed_totp_secret   text        NOT NULL,
        last_totp_step       bigint      NOT NULL DEFAULT 0,
        privileged           boolean     NOT NULL,
        status               text        NOT NULL CHECK (status IN ('active', 'disabled')),
        password_changed_at  timestamptz NOT NULL,
        failed_count         integer     NOT NULL DEFAULT 0,
        locked_until         timestamptz,
        last_login_at        timestamptz,
        last_login_ip        text,
        created_at           timestamptz NOT NULL
      );
    `,
  },
];

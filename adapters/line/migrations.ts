/** The LINE adapter's tables (schema `adapters`, migration key `adapters/line`). */
import type { ModuleMigrations } from '../../core/index.ts';

export const lineMigrations: ModuleMigrations = {
  module: 'adapters/line',
  schema: 'adapters',
  migrations: [
    {
      id: '001_line_users',
      sql: `
        -- A LINE user of the official account: the user id sealed, found by its HMAC blind index.
        CREATE TABLE adapters.line_user (
          user_index   text        PRIMARY KEY,
          user_sealed  text        NOT NULL,
          common_id    text,
          followed     boolean     NOT NULL DEFAULT true,
          -- the resident's own choice (通知オン/オフ): balance and expiry notices by push message
          notices      boolean     NOT NULL DEFAULT false,
          linked_at    timestamptz,
          updated_at   timestamptz NOT NULL
        );
        -- one LINE account per resident: linking another one moves the link
        CREATE UNIQUE INDEX line_user_common_id ON adapters.line_user (common_id) WHERE common_id IS NOT NULL;

        -- Nonces of LINE's account-link flow: issued after the resident signed in, used once.
        CREATE TABLE adapters.line_link_nonce (
          nonce_hash   text        PRIMARY KEY,
          common_id    text        NOT NULL,
          created_at   timestamptz NOT NULL,
          expires_at   timestamptz NOT NULL,
          used_at      timestamptz
        );
      `,
    },
  ],
};

/**
 * The wallet adapter's tables in schema `adapters` (migration set `adapters/wallet`): every movement
 * the platform asked the wallet for (the platform side of the reconciliation) and the daily
 * reconciliation reports. The wallet account id is sealed: it is the resident's id at the wallet.
 */
import type { ModuleMigrations } from '../../core/index.ts';

export const walletMigrations: ModuleMigrations = {
  module: 'adapters/wallet',
  schema: 'adapters',
  migrations: [
    {
      id: '001_wallet',
      sql: `
        CREATE TABLE adapters.wallet_movement (
          id              bigserial   PRIMARY KEY,
          -- the wallet's Idempotency-Key and external_id: <prefix><exchange id>[-r]
          reference       text        NOT NULL UNIQUE,
          kind            text        NOT NULL CHECK (kind IN ('credit', 'debit')),
          exchange_id     text        NOT NULL,
          resident        text        NOT NULL,
          account_sealed  text        NOT NULL,
          amount          bigint      NOT NULL CHECK (amount > 0),
          -- pending: in the outbox; done: the wallet applied it; refused: the wallet said no;
          -- voided: given up after the retry budget (the exchange was voided, points restored)
          status          text        NOT NULL DEFAULT 'pending'
                                      CHECK (status IN ('pending', 'done', 'refused', 'voided')),
          wallet_tx_id    text,
          reason          text,
          created_at      timestamptz NOT NULL,
          settled_at      timestamptz
        );
        CREATE INDEX wallet_movement_created ON adapters.wallet_movement (created_at);
        CREATE INDEX wallet_movement_exchange ON adapters.wallet_movement (exchange_id);

        CREATE TABLE adapters.wallet_reconciliation (
          id            bigserial   PRIMARY KEY,
          -- the JST day compared
          day           date        NOT NULL,
          generated_at  timestamptz NOT NULL,
          actor         text        NOT NULL,
          status        text        NOT NULL CHECK (status IN ('balanced', 'discrepancies', 'failed')),
          -- counts and sums per side; items: references, amounts and codes only
          summary       jsonb       NOT NULL,
          items         jsonb       NOT NULL
        );
        CREATE INDEX wallet_reconciliation_day ON adapters.wallet_reconciliation (day DESC, id DESC);
      `,
    },
  ],
};

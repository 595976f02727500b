/**
 * Cross-service exchange: rates per (source currency, target currency) with rounding and limits, and
 * one workflow row per exchange (idempotent per service and event id). The money moves in ledger
 * journals; the row only records which journals belong to the exchange and its state:
 * pending (source points held in the exchange clearing account while an external wallet is
 * credited) → posted, or → voided (the hold journal reversed, the resident's lots restored).
 */
export const EXCHANGE_SQL = `
CREATE TABLE points.exchange_rate (
  id                  serial      PRIMARY KEY,
  source_currency_id  integer     NOT NULL REFERENCES points.currency,
  target_currency_id  integer     NOT NULL REFERENCES points.currency,
  -- the point type credited in the target currency (NULL for an external wallet)
  target_point_type   integer     REFERENCES points.point_type,
  rate_num            bigint      NOT NULL CHECK (rate_num > 0),
  rate_den            bigint      NOT NULL CHECK (rate_den > 0),
  rounding            text        NOT NULL CHECK (rounding IN ('floor', 'round', 'ceil')),
  min_source          bigint      NOT NULL DEFAULT 1 CHECK (min_source >= 1),
  max_source          bigint      CHECK (max_source IS NULL OR max_source >= min_source),
  updated_at          timestamptz NOT NULL,
  UNIQUE (source_currency_id, target_currency_id),
  CHECK (source_currency_id <> target_currency_id)
);

CREATE TABLE points.exchange (
  id                 bigserial   PRIMARY KEY,
  service            text        NOT NULL,
  event_id           text        NOT NULL,
  resident           text        NOT NULL,
  source_currency_id integer     NOT NULL,
  target_currency_id integer     NOT NULL,
  source_amount      bigint      NOT NULL CHECK (source_amount > 0),
  target_amount      bigint      NOT NULL CHECK (target_amount > 0),
  rate               text        NOT NULL,
  status             text        NOT NULL CHECK (status IN ('pending', 'posted', 'voided')),
  hold_journal_id    bigint      NOT NULL,
  void_journal_id    bigint,
  wallet_tx_id       text,
  void_reason        text,
  created_at         timestamptz NOT NULL,
  settled_at         timestamptz,
  UNIQUE (service, event_id),
  CHECK ((status = 'voided') = (void_journal_id IS NOT NULL))
);
CREATE INDEX exchange_pending ON points.exchange (created_at) WHERE status = 'pending';
`;

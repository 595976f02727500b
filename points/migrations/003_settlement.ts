/**
 * Merchant settlement: bank details for payouts and one row per (currency, merchant, period). A
 * settlement retires the merchant's circulated points (received as payment, never its own grants)
 * to the issuer in a `claim` journal; the cashback the merchant paid out in the period is already
 * offset in its balance, and the net is what the bank transfer (全銀 file) pays.
 */
export const SETTLEMENT_SQL = `
CREATE TABLE points.merchant_bank (
  merchant        text PRIMARY KEY REFERENCES points.merchant,
  bank_code       text NOT NULL CHECK (bank_code ~ '^[0-9]{4}$'),
  bank_name       text NOT NULL,
  branch_code     text NOT NULL CHECK (branch_code ~ '^[0-9]{3}$'),
  branch_name     text NOT NULL,
  account_type    text NOT NULL CHECK (account_type IN ('1', '2', '4', '9')),
  account_number  text NOT NULL CHECK (account_number ~ '^[0-9]{7}$'),
  holder_kana     text NOT NULL
);

CREATE TABLE points.settlement (
  id                bigserial   PRIMARY KEY,
  currency_id       integer     NOT NULL REFERENCES points.currency,
  merchant          text        NOT NULL REFERENCES points.merchant,
  period_from       timestamptz NOT NULL,
  period_to         timestamptz NOT NULL CHECK (period_to > period_from),
  received          bigint      NOT NULL,
  cashback          bigint      NOT NULL,
  net               bigint      NOT NULL CHECK (net >= 0),
  claim_journal_id  bigint,
  created_at        timestamptz NOT NULL,
  UNIQUE (currency_id, merchant, period_from, period_to)
);
`;

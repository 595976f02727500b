/**
 * Cashback campaigns. `permanent`: funded by one merchant, credited to the payer in the payment's own
 * journal (merchant → resident). `limited`: funded by the city through a campaign account (kind
 * `campaign`, filled from a pool), accrued at each payment in its period and posted in one journal
 * after the period ends. Caps: per transaction, and per resident per period (the campaign period for
 * limited campaigns, the JST month for permanent ones). Accruals are updated in the payment's
 * transaction under a row lock, and the cap is a CHECK against the copied cap.
 */
export const CAMPAIGNS_SQL = `
CREATE TABLE points.campaign (
  id                serial      PRIMARY KEY,
  currency_id       integer     NOT NULL REFERENCES points.currency,
  code              text        NOT NULL,
  kind              text        NOT NULL CHECK (kind IN ('permanent', 'limited')),
  -- permanent: the funding merchant; limited: NULL for every merchant, or the one merchant it covers
  merchant          text        REFERENCES points.merchant,
  point_type_id     integer     NOT NULL REFERENCES points.point_type,
  rate_bp           integer     NOT NULL CHECK (rate_bp BETWEEN 1 AND 10000),
  per_txn_cap       bigint      CHECK (per_txn_cap > 0),
  per_resident_cap  bigint      CHECK (per_resident_cap > 0),
  starts_at         timestamptz NOT NULL,
  ends_at           timestamptz CHECK (ends_at > starts_at),
  settled_at        timestamptz,
  settle_journal_id bigint,
  created_at        timestamptz NOT NULL,
  UNIQUE (currency_id, code),
  CHECK ((kind = 'permanent' AND merchant IS NOT NULL) OR (kind = 'limited' AND ends_at IS NOT NULL))
);

CREATE TABLE points.campaign_accrual (
  campaign_id  integer NOT NULL REFERENCES points.campaign,
  resident     text    NOT NULL,
  period       text    NOT NULL,
  amount       bigint  NOT NULL DEFAULT 0,
  cap          bigint,
  PRIMARY KEY (campaign_id, resident, period),
  CONSTRAINT accrual_within_cap CHECK (amount >= 0 AND (cap IS NULL OR amount <= cap))
);
`;

/**
 * The double-entry ledger. The database, not only the code, keeps its promises:
 *   - every journal's postings sum to zero per currency (deferred constraint trigger at commit);
 *   - postings only join journals created in the same transaction (statement trigger);
 *   - journals, postings and lot moves are never updated or deleted (statement triggers);
 *   - holder accounts (resident, merchant, pool, expiry, campaign) never go below zero (CHECK), and
 *     only issuer and exchange-clearing accounts may be negative (CHECK on the kind);
 *   - a lot's remaining amount stays between 0 and its original amount (CHECK).
 * Each business command is one plpgsql call, one transaction: idempotency look-up, account locks in
 * ascending id order (deadlock-free), lot consumption in spend order, postings, the stored answer.
 */
export const LEDGER_SQL = `
CREATE TABLE points.currency (
  id                  serial      PRIMARY KEY,
  code                text        NOT NULL UNIQUE,
  municipality        text        NOT NULL,
  name                text        NOT NULL,
  -- the service that owns the currency (e.g. a health app's points), for exchange consent checks
  service             text        NOT NULL,
  external_wallet     boolean     NOT NULL DEFAULT false,
  expiry_notice_days  integer     NOT NULL DEFAULT 14 CHECK (expiry_notice_days >= 0),
  created_at          timestamptz NOT NULL
);

CREATE TABLE points.point_type (
  id              serial   PRIMARY KEY,
  currency_id     integer  NOT NULL REFERENCES points.currency,
  code            text     NOT NULL,
  name            text     NOT NULL,
  -- lower is spent first; within a priority the soonest expiry is spent first
  spend_priority  smallint NOT NULL DEFAULT 100,
  -- a credit of this type expires at JST midnight after this many days; NULL = never
  validity_days   integer  CHECK (validity_days > 0),
  cash_charged    boolean  NOT NULL DEFAULT false,
  issuer          text     NOT NULL,
  UNIQUE (currency_id, code)
);

CREATE TABLE points.merchant (
  id            text        PRIMARY KEY,
  municipality  text        NOT NULL,
  name          text        NOT NULL,
  place         text,
  active        boolean     NOT NULL DEFAULT true,
  created_at    timestamptz NOT NULL
);

CREATE TABLE points.account (
  id              bigserial   PRIMARY KEY,
  currency_id     integer     NOT NULL REFERENCES points.currency,
  kind            text        NOT NULL
    CHECK (kind IN ('resident', 'merchant', 'pool', 'issuer', 'expiry', 'exchange', 'campaign')),
  holder          text        NOT NULL,
  allow_negative  boolean     NOT NULL,
  balance         bigint      NOT NULL DEFAULT 0,
  created_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (currency_id, kind, holder),
  CONSTRAINT account_non_negative CHECK (allow_negative OR balance >= 0),
  CONSTRAINT account_negative_only_for_system CHECK (allow_negative = (kind IN ('issuer', 'exchange')))
);

CREATE TABLE points.journal (
  id           bigserial   PRIMARY KEY,
  kind         text        NOT NULL CHECK (kind IN ('fund', 'grant', 'charge', 'payment', 'exchange',
                 'exchange_hold', 'exchange_settle', 'campaign', 'claim', 'expiry', 'reversal')),
  actor        text        NOT NULL,
  reason       text,
  reverses_id  bigint      UNIQUE REFERENCES points.journal,
  meta         jsonb       NOT NULL DEFAULT '{}',
  created_at   timestamptz NOT NULL,
  xid          xid8        NOT NULL DEFAULT pg_current_xact_id()
);
CREATE INDEX journal_created ON points.journal (created_at);

-- The append-only tables carry no foreign keys: every row is written by the functions below from
-- rows they have just locked or created, and FK checks would take KEY SHARE locks on hot rows (one
-- point type shared by every payment turns into MultiXact churn). invariant_violations() and the
-- property tests check the references instead.
CREATE TABLE points.posting (
  id             bigserial PRIMARY KEY,
  journal_id     bigint    NOT NULL,
  account_id     bigint    NOT NULL,
  currency_id    integer   NOT NULL,
  amount         bigint    NOT NULL CHECK (amount <> 0),
  balance_after  bigint    NOT NULL
);
CREATE INDEX posting_account ON points.posting (account_id, id);
CREATE INDEX posting_journal ON points.posting (journal_id);

CREATE TABLE points.lot (
  id             bigserial   PRIMARY KEY,
  account_id     bigint      NOT NULL,
  point_type_id  integer     NOT NULL,
  priority       smallint    NOT NULL,
  expires_at     timestamptz,
  original       bigint      NOT NULL CHECK (original > 0),
  remaining      bigint      NOT NULL,
  -- received from another holder (a payment), not granted from a pool: only these can be claimed
  circulated     boolean     NOT NULL,
  journal_id     bigint      NOT NULL,
  created_at     timestamptz NOT NULL,
  CONSTRAINT lot_remaining_range CHECK (remaining >= 0 AND remaining <= original)
);
CREATE INDEX lot_spend ON points.lot (account_id, priority, expires_at, id) WHERE remaining > 0;
CREATE INDEX lot_expiry ON points.lot (expires_at) WHERE remaining > 0 AND expires_at IS NOT NULL;

CREATE TABLE points.lot_move (
  journal_id  bigint NOT NULL,
  lot_id      bigint NOT NULL,
  amount      bigint NOT NULL CHECK (amount <> 0)
);
CREATE INDEX lot_move_journal ON points.lot_move (journal_id);

-- Idempotency: the first answer to (scope, key) is the answer forever, failures included.
CREATE TABLE points.request (
  scope         text        NOT NULL,
  key           text        NOT NULL,
  request_hash  text        NOT NULL,
  ok            boolean     NOT NULL,
  response      jsonb       NOT NULL,
  journal_id    bigint,
  created_at    timestamptz NOT NULL,
  PRIMARY KEY (scope, key)
);

-- ---------------------------------------------------------------- guards

CREATE FUNCTION points.forbid_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'points.% is append-only: correct with a compensating transfer', TG_TABLE_NAME
    USING ERRCODE = 'PT900';
END $$;
CREATE TRIGGER journal_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON points.journal
  FOR EACH STATEMENT EXECUTE FUNCTION points.forbid_change();
CREATE TRIGGER posting_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON points.posting
  FOR EACH STATEMENT EXECUTE FUNCTION points.forbid_change();
CREATE TRIGGER lot_move_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON points.lot_move
  FOR EACH STATEMENT EXECUTE FUNCTION points.forbid_change();

CREATE FUNCTION points.check_posting_journal() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM new_rows n JOIN points.journal j ON j.id = n.journal_id
              WHERE j.xid <> pg_current_xact_id()) THEN
    RAISE EXCEPTION 'postings may only be added to a journal created in the same transaction'
      USING ERRCODE = 'PT901';
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER posting_same_transaction AFTER INSERT ON points.posting
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION points.check_posting_journal();

CREATE FUNCTION points.check_journal_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM points.posting WHERE journal_id = NEW.id) THEN
    RAISE EXCEPTION 'journal % has no postings', NEW.id USING ERRCODE = 'PT902';
  END IF;
  IF EXISTS (SELECT 1 FROM points.posting WHERE journal_id = NEW.id
              GROUP BY currency_id HAVING sum(amount) <> 0) THEN
    RAISE EXCEPTION 'journal % does not sum to zero per currency', NEW.id USING ERRCODE = 'PT902';
  END IF;
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER journal_balanced AFTER INSERT ON points.journal
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION points.check_journal_balanced();

-- ---------------------------------------------------------------- helpers

CREATE FUNCTION points.is_holder(p_kind text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
  SELECT p_kind IN ('resident', 'merchant')
$$;

-- The stored answer for (scope, key), marked as a replay; NULL when the key is new.
CREATE FUNCTION points.replay(p_scope text, p_key text, p_hash text) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
  SELECT request_hash, response INTO r FROM points.request WHERE scope = p_scope AND key = p_key;
  IF NOT FOUND THEN RETURN NULL; END IF;
  IF r.request_hash <> p_hash THEN
    RAISE EXCEPTION 'idempotency key % was used with a different request', p_key USING ERRCODE = 'PT409';
  END IF;
  RETURN r.response || '{"replayed": true}'::jsonb;
END $$;

-- Finds an account; creates resident accounts, and merchant accounts of registered merchants.
CREATE FUNCTION points.account_for(p_currency integer, p_kind text, p_holder text, p_create boolean)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE v bigint;
BEGIN
  SELECT id INTO v FROM points.account WHERE currency_id = p_currency AND kind = p_kind AND holder = p_holder;
  IF v IS NOT NULL OR NOT p_create OR p_kind NOT IN ('resident', 'merchant') THEN RETURN v; END IF;
  IF p_kind = 'merchant' AND NOT EXISTS (
      SELECT 1 FROM points.merchant m JOIN points.currency c ON c.municipality = m.municipality
       WHERE m.id = p_holder AND m.active AND c.id = p_currency) THEN
    RETURN NULL;
  END IF;
  INSERT INTO points.account (currency_id, kind, holder, allow_negative)
  VALUES (p_currency, p_kind, p_holder, false)
  ON CONFLICT (currency_id, kind, holder) DO NOTHING RETURNING id INTO v;
  IF v IS NULL THEN
    SELECT id INTO v FROM points.account WHERE currency_id = p_currency AND kind = p_kind AND holder = p_holder;
  END IF;
  RETURN v;
END $$;

CREATE FUNCTION points.post_one(p_journal bigint, p_account bigint, p_currency integer, p_amount bigint)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE after bigint;
BEGIN
  UPDATE points.account SET balance = balance + p_amount WHERE id = p_account RETURNING balance INTO after;
  INSERT INTO points.posting (journal_id, account_id, currency_id, amount, balance_after)
  VALUES (p_journal, p_account, p_currency, p_amount, after);
END $$;

-- Moves p_amount from one account to another inside journal p_journal; the caller holds both
-- account locks. Holder accounts spend their lots in spend order; a credited holder gets lots that
-- either mirror the consumed ones (p_type NULL) or one lot of p_type expiring at p_expires.
-- Returns the two balances after the move (from, to).
CREATE FUNCTION points.move(p_journal bigint, p_currency integer, p_from bigint, p_from_kind text,
  p_to bigint, p_to_kind text, p_amount bigint, p_type integer, p_expires timestamptz,
  p_circulated_only boolean, p_now timestamptz)
RETURNS bigint[] LANGUAGE plpgsql AS $$
DECLARE
  l record; pending bigint := p_amount; take bigint; lot_id bigint; prio smallint; available bigint;
  from_holder boolean := p_from_kind IN ('resident', 'merchant');
  to_holder boolean := p_to_kind IN ('resident', 'merchant');
  after bigint[];
BEGIN
  IF p_amount IS NULL OR p_amount <= 0 THEN RAISE EXCEPTION 'amount must be positive' USING ERRCODE = 'PT400'; END IF;
  IF p_from = p_to THEN RAISE EXCEPTION 'cannot move to the same account' USING ERRCODE = 'PT400'; END IF;
  IF NOT from_holder AND p_from_kind NOT IN ('issuer', 'exchange') THEN
    SELECT balance INTO available FROM points.account WHERE id = p_from;
    IF available < p_amount THEN
      RAISE EXCEPTION '% account has % available, % needed', p_from_kind, available, p_amount
        USING ERRCODE = 'PT001', HINT = p_from_kind;
    END IF;
  END IF;
  IF from_holder THEN
    FOR l IN
      SELECT id, remaining, point_type_id, priority, expires_at FROM points.lot
       WHERE account_id = p_from AND remaining > 0 AND (expires_at IS NULL OR expires_at > p_now)
         AND (NOT p_circulated_only OR circulated)
       ORDER BY priority, expires_at NULLS LAST, id
       FOR UPDATE
    LOOP
      take := least(l.remaining, pending);
      UPDATE points.lot SET remaining = remaining - take WHERE id = l.id;
      IF to_holder AND p_type IS NULL THEN
        INSERT INTO points.lot (account_id, point_type_id, priority, expires_at, original, remaining,
                                circulated, journal_id, created_at)
        VALUES (p_to, l.point_type_id, l.priority,
                CASE WHEN p_to_kind = 'merchant' THEN NULL ELSE l.expires_at END,
                take, take, true, p_journal, p_now)
        RETURNING id INTO lot_id;
        INSERT INTO points.lot_move (journal_id, lot_id, amount) VALUES (p_journal, l.id, -take), (p_journal, lot_id, take);
      ELSE
        INSERT INTO points.lot_move (journal_id, lot_id, amount) VALUES (p_journal, l.id, -take);
      END IF;
      pending := pending - take;
      EXIT WHEN pending = 0;
    END LOOP;
    IF pending > 0 THEN
      RAISE EXCEPTION '% has % spendable, % needed', p_from_kind, p_amount - pending, p_amount
        USING ERRCODE = 'PT001', HINT = p_from_kind;
    END IF;
  END IF;
  IF to_holder AND (p_type IS NOT NULL OR NOT from_holder) THEN
    IF p_type IS NULL THEN
      RAISE EXCEPTION 'a credit to a holder from % needs a point type', p_from_kind USING ERRCODE = 'PT400';
    END IF;
    SELECT spend_priority INTO prio FROM points.point_type WHERE id = p_type AND currency_id = p_currency;
    IF prio IS NULL THEN
      RAISE EXCEPTION 'point type % is not of this currency', p_type USING ERRCODE = 'PT400';
    END IF;
    INSERT INTO points.lot (account_id, point_type_id, priority, expires_at, original, remaining,
                            circulated, journal_id, created_at)
    VALUES (p_to, p_type, prio, p_expires, p_amount, p_amount, from_holder, p_journal, p_now)
    RETURNING id INTO lot_id;
    INSERT INTO points.lot_move (journal_id, lot_id, amount) VALUES (p_journal, lot_id, p_amount);
  END IF;
  WITH upd AS (
    UPDATE points.account SET balance = balance + CASE WHEN id = p_from THEN -p_amount ELSE p_amount END
     WHERE id IN (p_from, p_to) RETURNING id, balance
  ), ins AS (
    INSERT INTO points.posting (journal_id, account_id, currency_id, amount, balance_after)
    SELECT p_journal, upd.id, p_currency, CASE WHEN upd.id = p_from THEN -p_amount ELSE p_amount END, upd.balance
      FROM upd ORDER BY upd.id <> p_from
    RETURNING account_id, balance_after
  )
  SELECT array_agg(balance_after ORDER BY account_id <> p_from) INTO after FROM ins;
  RETURN after;
END $$;

CREATE FUNCTION points.journal_answer(p_journal bigint) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'ok', true,
    'journalId', j.id::text,
    'kind', j.kind,
    'createdAt', j.created_at,
    'postings', (SELECT jsonb_agg(jsonb_build_object(
        'currency', c.code, 'kind', a.kind, 'holder', a.holder,
        'amount', p.amount, 'balanceAfter', p.balance_after) ORDER BY p.id)
      FROM points.posting p JOIN points.account a ON a.id = p.account_id
      JOIN points.currency c ON c.id = p.currency_id WHERE p.journal_id = j.id))
  FROM points.journal j WHERE j.id = p_journal
$$;

-- One journal of moves, idempotent per (scope, key). Each move:
--   {"currency": 1, "currencyCode": "saijo-lsp", "from": {"kind": "resident", "holder": "r1"},
--    "to": {...}, "amount": 100, "pointType": 3 | null, "expiresAt": "…" | null, "circulatedOnly": false}
-- Raises PT001 (insufficient), PT404 (unknown account), PT409 (key reused); the caller records
-- failures under the key in a new transaction (record_failure).
CREATE FUNCTION points.post(p_scope text, p_key text, p_hash text, p_kind text, p_actor text,
  p_reason text, p_meta jsonb, p_moves jsonb, p_now timestamptz)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  prior jsonb; m jsonb; n integer := jsonb_array_length(p_moves); i integer;
  froms bigint[] := '{}'; tos bigint[] := '{}'; j bigint; postings jsonb := '[]'; after bigint[]; answer jsonb;
BEGIN
  prior := points.replay(p_scope, p_key, p_hash);
  IF prior IS NOT NULL THEN RETURN prior; END IF;
  FOR i IN 0 .. n - 1 LOOP
    m := p_moves -> i;
    froms[i + 1] := (SELECT id FROM points.account WHERE currency_id = (m ->> 'currency')::integer
                       AND kind = m -> 'from' ->> 'kind' AND holder = m -> 'from' ->> 'holder');
    tos[i + 1] := (SELECT id FROM points.account WHERE currency_id = (m ->> 'currency')::integer
                     AND kind = m -> 'to' ->> 'kind' AND holder = m -> 'to' ->> 'holder');
    IF froms[i + 1] IS NULL THEN
      IF m -> 'from' ->> 'kind' IN ('resident', 'merchant') THEN
        RAISE EXCEPTION '% has 0 available, % needed', m -> 'from' ->> 'kind', m ->> 'amount'
          USING ERRCODE = 'PT001', HINT = m -> 'from' ->> 'kind';
      END IF;
      RAISE EXCEPTION 'unknown % account %', m -> 'from' ->> 'kind', m -> 'from' ->> 'holder'
        USING ERRCODE = 'PT404', HINT = m -> 'from' ->> 'kind';
    END IF;
    IF tos[i + 1] IS NULL THEN
      tos[i + 1] := points.account_for((m ->> 'currency')::integer, m -> 'to' ->> 'kind', m -> 'to' ->> 'holder', true);
      IF tos[i + 1] IS NULL THEN
        RAISE EXCEPTION 'unknown % account %', m -> 'to' ->> 'kind', m -> 'to' ->> 'holder'
          USING ERRCODE = 'PT404', HINT = m -> 'to' ->> 'kind';
      END IF;
    END IF;
  END LOOP;
  -- Lock order, everywhere: non-merchant accounts by id, then merchant accounts by id. A payment
  -- (one move into a merchant) takes the merchant lock last, at its balance update, so a hot
  -- merchant's row is held only for the end of the transaction.
  IF n = 1 AND p_moves -> 0 -> 'to' ->> 'kind' = 'merchant' THEN
    PERFORM 1 FROM points.account WHERE id = ANY (froms) ORDER BY kind = 'merchant', id FOR UPDATE;
  ELSE
    PERFORM 1 FROM points.account WHERE id = ANY (froms || tos) ORDER BY kind = 'merchant', id FOR UPDATE;
  END IF;
  INSERT INTO points.journal (kind, actor, reason, meta, created_at)
  VALUES (p_kind, p_actor, p_reason, coalesce(p_meta, '{}'), p_now) RETURNING id INTO j;
  FOR i IN 0 .. n - 1 LOOP
    m := p_moves -> i;
    after := points.move(j, (m ->> 'currency')::integer, froms[i + 1], m -> 'from' ->> 'kind',
      tos[i + 1], m -> 'to' ->> 'kind', (m ->> 'amount')::bigint, (m ->> 'pointType')::integer,
      (m ->> 'expiresAt')::timestamptz, coalesce((m ->> 'circulatedOnly')::boolean, false), p_now);
    postings := postings
      || jsonb_build_object('currency', m ->> 'currencyCode', 'kind', m -> 'from' ->> 'kind',
           'holder', m -> 'from' ->> 'holder', 'amount', -(m ->> 'amount')::bigint, 'balanceAfter', after[1])
      || jsonb_build_object('currency', m ->> 'currencyCode', 'kind', m -> 'to' ->> 'kind',
           'holder', m -> 'to' ->> 'holder', 'amount', (m ->> 'amount')::bigint, 'balanceAfter', after[2]);
  END LOOP;
  answer := jsonb_build_object('ok', true, 'journalId', j::text, 'kind', p_kind, 'createdAt', p_now,
    'postings', postings);
  INSERT INTO points.request (scope, key, request_hash, ok, response, journal_id, created_at)
  VALUES (p_scope, p_key, p_hash, true, answer, j, p_now);
  RETURN answer;
END $$;

-- Stores a failed outcome under the key so a retry gets the same answer; returns the stored answer
-- (which is a success if a concurrent attempt with the same key won).
CREATE FUNCTION points.record_failure(p_scope text, p_key text, p_hash text, p_answer jsonb, p_now timestamptz)
RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO points.request (scope, key, request_hash, ok, response, created_at)
  VALUES (p_scope, p_key, p_hash, false, p_answer, p_now) ON CONFLICT DO NOTHING;
  RETURN points.replay(p_scope, p_key, p_hash);
END $$;

-- A compensating journal: every posting negated, every lot move undone (consumed lots refilled,
-- created lots taken back). Fails with PT001 when the points it would take back are spent.
CREATE FUNCTION points.reverse(p_scope text, p_key text, p_hash text, p_journal bigint, p_actor text,
  p_reason text, p_now timestamptz)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE prior jsonb; orig record; j bigint; p record; lm record; answer jsonb;
BEGIN
  prior := points.replay(p_scope, p_key, p_hash);
  IF prior IS NOT NULL THEN RETURN prior; END IF;
  SELECT id, kind INTO orig FROM points.journal WHERE id = p_journal;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'journal % not found', p_journal USING ERRCODE = 'PT404', HINT = 'journal';
  END IF;
  IF orig.kind = 'reversal' THEN
    RAISE EXCEPTION 'a reversal is not reversed; post a new transfer' USING ERRCODE = 'PT410';
  END IF;
  PERFORM 1 FROM points.account WHERE id IN (SELECT account_id FROM points.posting WHERE journal_id = p_journal)
    ORDER BY kind = 'merchant', id FOR UPDATE;
  IF EXISTS (SELECT 1 FROM points.journal WHERE reverses_id = p_journal) THEN
    RAISE EXCEPTION 'journal % is already reversed', p_journal USING ERRCODE = 'PT410';
  END IF;
  IF EXISTS (SELECT 1 FROM points.lot_move mv JOIN points.lot lt ON lt.id = mv.lot_id
              WHERE mv.journal_id = p_journal AND mv.amount > 0 AND lt.remaining < mv.amount) THEN
    RAISE EXCEPTION 'points credited by journal % were already spent or expired', p_journal
      USING ERRCODE = 'PT001', HINT = 'lot';
  END IF;
  INSERT INTO points.journal (kind, actor, reason, reverses_id, meta, created_at)
  VALUES ('reversal', p_actor, p_reason, p_journal, jsonb_build_object('reverses', p_journal::text), p_now)
  RETURNING id INTO j;
  FOR lm IN SELECT lot_id, amount FROM points.lot_move WHERE journal_id = p_journal ORDER BY lot_id LOOP
    UPDATE points.lot SET remaining = remaining - lm.amount WHERE id = lm.lot_id;
    INSERT INTO points.lot_move (journal_id, lot_id, amount) VALUES (j, lm.lot_id, -lm.amount);
  END LOOP;
  FOR p IN SELECT account_id, currency_id, amount FROM points.posting WHERE journal_id = p_journal ORDER BY id LOOP
    PERFORM points.post_one(j, p.account_id, p.currency_id, -p.amount);
  END LOOP;
  answer := points.journal_answer(j);
  INSERT INTO points.request (scope, key, request_hash, ok, response, journal_id, created_at)
  VALUES (p_scope, p_key, p_hash, true, answer, j, p_now);
  RETURN answer;
END $$;

-- Grants from one pool to many residents in one journal (bulk CSV): set-based, one pool lock.
CREATE FUNCTION points.grant_bulk(p_scope text, p_key text, p_hash text, p_currency integer, p_pool text,
  p_type integer, p_residents text[], p_amounts bigint[], p_expires timestamptz[], p_actor text,
  p_reason text, p_now timestamptz)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE prior jsonb; pool record; total bigint; j bigint; prio smallint; answer jsonb; n bigint;
BEGIN
  prior := points.replay(p_scope, p_key, p_hash);
  IF prior IS NOT NULL THEN RETURN prior; END IF;
  SELECT spend_priority INTO prio FROM points.point_type WHERE id = p_type AND currency_id = p_currency;
  IF prio IS NULL THEN RAISE EXCEPTION 'point type % is not of this currency', p_type USING ERRCODE = 'PT400'; END IF;
  IF EXISTS (SELECT 1 FROM unnest(p_amounts) a WHERE a IS NULL OR a <= 0) THEN
    RAISE EXCEPTION 'amounts must be positive' USING ERRCODE = 'PT400';
  END IF;
  SELECT id INTO pool FROM points.account WHERE currency_id = p_currency AND kind = 'pool' AND holder = p_pool;
  IF NOT FOUND THEN RAISE EXCEPTION 'unknown pool account %', p_pool USING ERRCODE = 'PT404', HINT = 'pool'; END IF;
  INSERT INTO points.account (currency_id, kind, holder, allow_negative)
  SELECT DISTINCT p_currency, 'resident', r, false FROM unnest(p_residents) r
  ON CONFLICT (currency_id, kind, holder) DO NOTHING;
  PERFORM 1 FROM points.account
   WHERE id = pool.id OR (currency_id = p_currency AND kind = 'resident' AND holder = ANY (p_residents))
   ORDER BY kind = 'merchant', id FOR UPDATE;
  SELECT sum(a), count(*) INTO total, n FROM unnest(p_amounts) a;
  IF (SELECT balance FROM points.account WHERE id = pool.id) < total THEN
    RAISE EXCEPTION 'pool % has % available, % needed', p_pool,
      (SELECT balance FROM points.account WHERE id = pool.id), total USING ERRCODE = 'PT001', HINT = 'pool';
  END IF;
  INSERT INTO points.journal (kind, actor, reason, meta, created_at)
  VALUES ('grant', p_actor, p_reason, jsonb_build_object('bulk', true, 'rows', n), p_now) RETURNING id INTO j;
  WITH rows AS (
    SELECT r, a, e FROM unnest(p_residents, p_amounts, p_expires) AS u(r, a, e)
  ), lots AS (
    INSERT INTO points.lot (account_id, point_type_id, priority, expires_at, original, remaining,
                            circulated, journal_id, created_at)
    SELECT acc.id, p_type, prio, rows.e, rows.a, rows.a, false, j, p_now
      FROM rows JOIN points.account acc
        ON acc.currency_id = p_currency AND acc.kind = 'resident' AND acc.holder = rows.r
    RETURNING id, original
  )
  INSERT INTO points.lot_move (journal_id, lot_id, amount) SELECT j, id, original FROM lots;
  PERFORM points.post_one(j, pool.id, p_currency, -total);
  WITH sums AS (
    SELECT acc.id, sum(u.a) AS s FROM unnest(p_residents, p_amounts) AS u(r, a)
      JOIN points.account acc ON acc.currency_id = p_currency AND acc.kind = 'resident' AND acc.holder = u.r
     GROUP BY acc.id
  ), updated AS (
    UPDATE points.account acc SET balance = acc.balance + sums.s FROM sums WHERE acc.id = sums.id
    RETURNING acc.id, sums.s, acc.balance
  )
  INSERT INTO points.posting (journal_id, account_id, currency_id, amount, balance_after)
  SELECT j, id, p_currency, s, balance FROM updated;
  answer := jsonb_build_object('ok', true, 'journalId', j::text, 'kind', 'grant', 'createdAt', p_now,
    'rows', n, 'total', total);
  INSERT INTO points.request (scope, key, request_hash, ok, response, journal_id, created_at)
  VALUES (p_scope, p_key, p_hash, true, answer, j, p_now);
  RETURN answer;
END $$;

-- Moves every lot past its expiry into the currency's expiry account: one journal per account,
-- accounts locked in id order. Returns how many lots and points expired.
CREATE FUNCTION points.expire_due(p_now timestamptz, p_limit integer, p_actor text)
RETURNS TABLE (lots bigint, amount bigint) LANGUAGE plpgsql AS $$
DECLARE
  ids bigint[]; acc record; l record; j bigint; sink bigint; total bigint;
  n_lots bigint := 0; n_amount bigint := 0;
BEGIN
  SELECT array_agg(DISTINCT account_id) INTO ids FROM (
    SELECT account_id FROM points.lot
     WHERE remaining > 0 AND expires_at IS NOT NULL AND expires_at <= p_now LIMIT p_limit) s;
  IF ids IS NULL THEN RETURN QUERY SELECT 0::bigint, 0::bigint; RETURN; END IF;
  PERFORM 1 FROM points.account
   WHERE id = ANY (ids)
      OR (kind = 'expiry' AND currency_id IN (SELECT a.currency_id FROM points.account a WHERE a.id = ANY (ids)))
   ORDER BY kind = 'merchant', id FOR UPDATE;
  FOR acc IN SELECT a.id, a.currency_id FROM points.account a WHERE a.id = ANY (ids) ORDER BY a.id LOOP
    SELECT id INTO sink FROM points.account WHERE currency_id = acc.currency_id AND kind = 'expiry';
    total := 0;
    j := NULL;
    FOR l IN SELECT id, remaining FROM points.lot
              WHERE account_id = acc.id AND remaining > 0 AND expires_at IS NOT NULL AND expires_at <= p_now
              ORDER BY id FOR UPDATE LOOP
      IF j IS NULL THEN
        INSERT INTO points.journal (kind, actor, meta, created_at)
        VALUES ('expiry', p_actor, '{}', p_now) RETURNING id INTO j;
      END IF;
      UPDATE points.lot SET remaining = 0 WHERE id = l.id;
      INSERT INTO points.lot_move (journal_id, lot_id, amount) VALUES (j, l.id, -l.remaining);
      total := total + l.remaining;
      n_lots := n_lots + 1;
    END LOOP;
    IF j IS NOT NULL THEN
      PERFORM points.post_one(j, acc.id, acc.currency_id, -total);
      PERFORM points.post_one(j, sink, acc.currency_id, total);
      n_amount := n_amount + total;
    END IF;
  END LOOP;
  RETURN QUERY SELECT n_lots, n_amount;
END $$;

-- Every invariant the ledger promises, as (check, violations); all zero on a healthy ledger.
CREATE FUNCTION points.invariant_violations() RETURNS TABLE (check_name text, violations bigint)
LANGUAGE sql STABLE AS $$
  SELECT 'currency-sums-to-zero', count(*) FROM (
    SELECT currency_id FROM points.account GROUP BY currency_id HAVING sum(balance) <> 0) s
  UNION ALL
  SELECT 'journal-sums-to-zero', count(*) FROM (
    SELECT journal_id FROM points.posting GROUP BY journal_id, currency_id HAVING sum(amount) <> 0) s
  UNION ALL
  SELECT 'no-negative-holder', count(*) FROM points.account WHERE NOT allow_negative AND balance < 0
  UNION ALL
  SELECT 'balance-equals-postings', count(*) FROM points.account a
   WHERE a.balance <> coalesce((SELECT sum(amount) FROM points.posting p WHERE p.account_id = a.id), 0)
  UNION ALL
  SELECT 'holder-balance-equals-lots', count(*) FROM points.account a
   WHERE points.is_holder(a.kind)
     AND a.balance <> coalesce((SELECT sum(remaining) FROM points.lot l WHERE l.account_id = a.id), 0)
  UNION ALL
  SELECT 'lot-equals-moves', count(*) FROM points.lot l
   WHERE l.remaining <> (SELECT sum(amount) FROM points.lot_move m WHERE m.lot_id = l.id)
  UNION ALL
  SELECT 'acknowledged-journal-present', count(*) FROM points.request r
   WHERE r.ok AND NOT EXISTS (SELECT 1 FROM points.journal j WHERE j.id = r.journal_id)
  UNION ALL
  SELECT 'references-exist', (
    (SELECT count(*) FROM points.posting p WHERE NOT EXISTS (SELECT 1 FROM points.journal j WHERE j.id = p.journal_id)
        OR NOT EXISTS (SELECT 1 FROM points.account a WHERE a.id = p.account_id AND a.currency_id = p.currency_id))
    + (SELECT count(*) FROM points.lot l WHERE NOT EXISTS (SELECT 1 FROM points.account a WHERE a.id = l.account_id)
        OR NOT EXISTS (SELECT 1 FROM points.point_type t WHERE t.id = l.point_type_id)
        OR NOT EXISTS (SELECT 1 FROM points.journal j WHERE j.id = l.journal_id))
    + (SELECT count(*) FROM points.lot_move m WHERE NOT EXISTS (SELECT 1 FROM points.lot l WHERE l.id = m.lot_id)
        OR NOT EXISTS (SELECT 1 FROM points.journal j WHERE j.id = m.journal_id)))
$$;
`;

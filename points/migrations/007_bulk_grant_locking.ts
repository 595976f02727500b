/**
 * Bulk grants of 100k rows: lock the residents' accounts through a hash join on the CSV's residents
 * and an id array, instead of `holder = ANY (residents)` inside an OR, which PostgreSQL evaluates as
 * a linear array search per account row (quadratic in the file size).
 */
export const BULK_GRANT_SQL = `
CREATE OR REPLACE FUNCTION points.grant_bulk(p_scope text, p_key text, p_hash text, p_currency integer, p_pool text,
  p_type integer, p_residents text[], p_amounts bigint[], p_expires timestamptz[], p_actor text,
  p_reason text, p_now timestamptz)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE prior jsonb; pool record; total bigint; j bigint; prio smallint; answer jsonb; n bigint; ids bigint[];
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
  SELECT array_agg(acc.id) INTO ids
    FROM (SELECT DISTINCT r FROM unnest(p_residents) r) u
    JOIN points.account acc ON acc.currency_id = p_currency AND acc.kind = 'resident' AND acc.holder = u.r;
  PERFORM 1 FROM points.account WHERE id = ANY (ids || pool.id) ORDER BY kind = 'merchant', id FOR UPDATE;
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
`;

/**
 * The payment hot path as one dedicated function with scalar arguments: the same steps and guards
 * as points.post for a single resident → merchant move, without parsing a moves document, with
 * the resident's account found and locked in one statement and the merchant's row locked last, at
 * its balance update (the lock order everywhere: non-merchant accounts by id, then merchants).
 */
export const PAY_FAST_PATH_SQL = `
CREATE FUNCTION points.pay(p_scope text, p_key text, p_hash text, p_currency integer, p_currency_code text,
  p_resident text, p_merchant text, p_amount bigint, p_actor text, p_now timestamptz)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  prior jsonb; payer bigint; merchant bigint; j bigint; l record; pending bigint := p_amount; take bigint;
  lot_id bigint; payer_after bigint; merchant_after bigint; answer jsonb;
BEGIN
  prior := points.replay(p_scope, p_key, p_hash);
  IF prior IS NOT NULL THEN RETURN prior; END IF;
  IF p_amount IS NULL OR p_amount <= 0 THEN RAISE EXCEPTION 'amount must be positive' USING ERRCODE = 'PT400'; END IF;
  SELECT id INTO merchant FROM points.account
   WHERE currency_id = p_currency AND kind = 'merchant' AND holder = p_merchant;
  IF merchant IS NULL THEN
    merchant := points.account_for(p_currency, 'merchant', p_merchant, true);
    IF merchant IS NULL THEN
      RAISE EXCEPTION 'unknown merchant account %', p_merchant USING ERRCODE = 'PT404', HINT = 'merchant';
    END IF;
  END IF;
  SELECT id INTO payer FROM points.account
   WHERE currency_id = p_currency AND kind = 'resident' AND holder = p_resident FOR UPDATE;
  IF payer IS NULL THEN
    RAISE EXCEPTION 'resident has 0 available, % needed', p_amount USING ERRCODE = 'PT001', HINT = 'resident';
  END IF;
  INSERT INTO points.journal (kind, actor, meta, created_at)
  VALUES ('payment', p_actor, jsonb_build_object('merchant', p_merchant), p_now) RETURNING id INTO j;
  FOR l IN
    SELECT id, remaining, point_type_id, priority FROM points.lot
     WHERE account_id = payer AND remaining > 0 AND (expires_at IS NULL OR expires_at > p_now)
     ORDER BY priority, expires_at NULLS LAST, id
     FOR UPDATE
  LOOP
    take := least(l.remaining, pending);
    UPDATE points.lot SET remaining = remaining - take WHERE id = l.id;
    INSERT INTO points.lot (account_id, point_type_id, priority, expires_at, original, remaining,
                            circulated, journal_id, created_at)
    VALUES (merchant, l.point_type_id, l.priority, NULL, take, take, true, j, p_now)
    RETURNING id INTO lot_id;
    INSERT INTO points.lot_move (journal_id, lot_id, amount) VALUES (j, l.id, -take), (j, lot_id, take);
    pending := pending - take;
    EXIT WHEN pending = 0;
  END LOOP;
  IF pending > 0 THEN
    RAISE EXCEPTION 'resident has % spendable, % needed', p_amount - pending, p_amount
      USING ERRCODE = 'PT001', HINT = 'resident';
  END IF;
  UPDATE points.account SET balance = balance - p_amount WHERE id = payer RETURNING balance INTO payer_after;
  UPDATE points.account SET balance = balance + p_amount WHERE id = merchant RETURNING balance INTO merchant_after;
  INSERT INTO points.posting (journal_id, account_id, currency_id, amount, balance_after)
  VALUES (j, payer, p_currency, -p_amount, payer_after), (j, merchant, p_currency, p_amount, merchant_after);
  answer := jsonb_build_object('ok', true, 'journalId', j::text, 'kind', 'payment', 'createdAt', p_now,
    'postings', jsonb_build_array(
      jsonb_build_object('currency', p_currency_code, 'kind', 'resident', 'holder', p_resident,
                         'amount', -p_amount, 'balanceAfter', payer_after),
      jsonb_build_object('currency', p_currency_code, 'kind', 'merchant', 'holder', p_merchant,
                         'amount', p_amount, 'balanceAfter', merchant_after)));
  INSERT INTO points.request (scope, key, request_hash, ok, response, journal_id, created_at)
  VALUES (p_scope, p_key, p_hash, true, answer, j, p_now);
  RETURN answer;
END $$;
`;

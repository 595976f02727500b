/**
 * The commit-time zero-sum check in one query instead of two (it runs once per journal, on the
 * payment hot path): no postings, or any currency not summing to zero, fails the commit.
 */
export const CHEAPER_BALANCE_CHECK_SQL = `
CREATE OR REPLACE FUNCTION points.check_journal_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE currencies bigint; unbalanced bigint;
BEGIN
  SELECT count(*), count(*) FILTER (WHERE s <> 0) INTO currencies, unbalanced
    FROM (SELECT sum(amount) AS s FROM points.posting WHERE journal_id = NEW.id GROUP BY currency_id) t;
  IF currencies = 0 THEN
    RAISE EXCEPTION 'journal % has no postings', NEW.id USING ERRCODE = 'PT902';
  END IF;
  IF unbalanced > 0 THEN
    RAISE EXCEPTION 'journal % does not sum to zero per currency', NEW.id USING ERRCODE = 'PT902';
  END IF;
  RETURN NULL;
END $$;
`;

/**
 * The invariant check as set-based aggregates (one pass per table) instead of correlated
 * subqueries: lot_move has no index on lot_id, and a per-lot subquery made the check quadratic on
 * ledgers with 100k lots.
 */
export const INVARIANTS_SQL = `
CREATE OR REPLACE FUNCTION points.invariant_violations() RETURNS TABLE (check_name text, violations bigint)
LANGUAGE sql STABLE AS $$
  WITH posted AS (SELECT account_id, sum(amount) AS s FROM points.posting GROUP BY account_id),
       held AS (SELECT account_id, sum(remaining) AS s FROM points.lot GROUP BY account_id),
       moved AS (SELECT lot_id, sum(amount) AS s FROM points.lot_move GROUP BY lot_id)
  SELECT 'currency-sums-to-zero', count(*) FROM (
    SELECT currency_id FROM points.account GROUP BY currency_id HAVING sum(balance) <> 0) s
  UNION ALL
  SELECT 'journal-sums-to-zero', count(*) FROM (
    SELECT journal_id FROM points.posting GROUP BY journal_id, currency_id HAVING sum(amount) <> 0) s
  UNION ALL
  SELECT 'no-negative-holder', count(*) FROM points.account WHERE NOT allow_negative AND balance < 0
  UNION ALL
  SELECT 'balance-equals-postings', count(*) FROM points.account a LEFT JOIN posted p ON p.account_id = a.id
   WHERE a.balance <> coalesce(p.s, 0)
  UNION ALL
  SELECT 'holder-balance-equals-lots', count(*) FROM points.account a LEFT JOIN held h ON h.account_id = a.id
   WHERE a.kind IN ('resident', 'merchant') AND a.balance <> coalesce(h.s, 0)
  UNION ALL
  SELECT 'lot-equals-moves', count(*) FROM points.lot l LEFT JOIN moved m ON m.lot_id = l.id
   WHERE l.remaining <> coalesce(m.s, 0)
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

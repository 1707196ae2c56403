-- Record GitHub's own figures. Within one window the lower remaining wins (answers arrive out of
-- order and reservations already counted requests in flight); a new window replaces the row.
-- An estimated row (assumed before GitHub's first answer, or a window rolled over by rate_limit_reserve)
-- takes GitHub's reset time as it is, and its remaining too when the limit was only assumed: the real
-- limit may be far from the assumed one (an App installation's 12,500, an Enterprise server's own), and
-- keeping the lower figure would leave the token stuck below a reserve computed from the real limit.
-- (Requests still in flight at that first answer are not in it; the reserve absorbs them.) With the
-- limit right, the lower remaining wins as within any window: it counts the reservations in flight.
INSERT INTO github_rate_limits AS r (token_id, resource, "limit", remaining, used, reset_at, observed_at,
                                     estimated)
VALUES (%(token_id)s, %(resource)s, %(limit)s, %(remaining)s, %(used)s, %(reset_at)s, %(now)s,
        %(estimated)s)
ON CONFLICT (token_id, resource) DO UPDATE
   SET "limit"     = excluded."limit",
       remaining   = CASE WHEN r.estimated AND NOT excluded.estimated AND r."limit" <> excluded."limit"
                          THEN excluded.remaining
                          WHEN excluded.reset_at > r.reset_at + interval '1 second' AND NOT r.estimated
                          THEN excluded.remaining
                          ELSE least(r.remaining, excluded.remaining) END,
       used        = excluded.used,
       reset_at    = CASE WHEN r.estimated THEN excluded.reset_at ELSE greatest(r.reset_at, excluded.reset_at) END,
       observed_at = excluded.observed_at,
       estimated   = r.estimated AND excluded.estimated

-- Reserve %(cost)s points of one token's budget if that keeps it at or above the reserve.
-- A window whose reset time has passed counts as full again, until GitHub's first answer in it: like a
-- row seeded before any answer, it is an estimate (its reset an hour from now is a guess), so that
-- answer's figures replace it (rate_limit_observe). Kept as figures, a guess an hour late would hold
-- the budget at zero for that hour whenever the new window started on GitHub's side a little later.
UPDATE github_rate_limits
   SET remaining = CASE WHEN reset_at <= %(now)s THEN "limit" ELSE remaining END - %(cost)s,
       reset_at  = CASE WHEN reset_at <= %(now)s THEN %(now)s::timestamptz + interval '1 hour' ELSE reset_at END,
       estimated = estimated OR reset_at <= %(now)s
 WHERE token_id = %(token_id)s AND resource = %(resource)s
   AND (CASE WHEN reset_at <= %(now)s THEN "limit" ELSE remaining END) - %(cost)s
       >= ceil("limit" * %(reserve)s::double precision)
RETURNING remaining

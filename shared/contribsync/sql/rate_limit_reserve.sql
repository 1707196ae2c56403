-- Reserve %(cost)s points of one token's budget if that keeps it at or above the reserve.
-- A window whose reset time has passed counts as full again.
UPDATE github_rate_limits
   SET remaining = CASE WHEN reset_at <= %(now)s THEN "limit" ELSE remaining END - %(cost)s,
       reset_at  = CASE WHEN reset_at <= %(now)s THEN %(now)s::timestamptz + interval '1 hour' ELSE reset_at END
 WHERE token_id = %(token_id)s AND resource = %(resource)s
   AND (CASE WHEN reset_at <= %(now)s THEN "limit" ELSE remaining END) - %(cost)s
       >= ceil("limit" * %(reserve)s::double precision)
RETURNING remaining

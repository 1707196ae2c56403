-- Every recorded budget, for `contribsync github rate-limit`.
SELECT token_id, resource, "limit", remaining, used, reset_at, observed_at
  FROM github_rate_limits
 ORDER BY token_id, resource

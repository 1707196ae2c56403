-- Known budgets of the given tokens for one resource.
SELECT token_id, "limit", remaining, used, reset_at, observed_at
  FROM github_rate_limits
 WHERE resource = %(resource)s AND token_id = ANY(%(token_ids)s)

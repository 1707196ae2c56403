-- Active repositories never classified, or classified before %(stale_before)s; oldest first.
SELECT r.id, t.size
  FROM repositories r
  LEFT JOIN tracked_repositories t ON t.repository_id = r.id
 WHERE r.is_active
   AND (t.size IS NULL OR t.size_calculated_at IS NULL OR t.size_calculated_at < %(stale_before)s)
 ORDER BY t.size_calculated_at NULLS FIRST, r.full_name
 LIMIT 5000

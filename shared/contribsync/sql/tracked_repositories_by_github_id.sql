-- The stored, tracked repositories among these GitHub ids.
SELECT r.id, r.github_id, r.full_name
  FROM repositories r
  JOIN tracked_repositories t ON t.repository_id = r.id AND t.tracking_enabled
 WHERE r.github_id = ANY(%(github_ids)s::bigint[])

-- Record a repository's size bucket, the metrics behind it and when it was computed.
INSERT INTO tracked_repositories (repository_id, organization_name, repository_name, size, metrics,
                                  size_calculated_at)
SELECT r.id, r.owner, r.name, %(size)s, %(metrics)s::jsonb, %(now)s
  FROM repositories r
 WHERE r.id = %(repository_id)s
ON CONFLICT (repository_id) DO UPDATE
   SET size = excluded.size, metrics = excluded.metrics, size_calculated_at = excluded.size_calculated_at

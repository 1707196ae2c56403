-- The runs of a backfill's events and their follow-ups: every run of these functions for this
-- repository (by id in its data, or by owner/name for discovery) started since a time.
SELECT function, event_name, status, dead_lettered, error, event_id, result
  FROM function_runs
 WHERE started_at >= %(since)s AND function = ANY(%(functions)s)
   AND (data ->> 'repositoryId' = %(repository_id)s
        OR (data ->> 'owner' = %(owner)s AND data ->> 'repo' = %(name)s)
        OR (data -> 'repository' ->> 'owner' = %(owner)s AND data -> 'repository' ->> 'name' = %(name)s))

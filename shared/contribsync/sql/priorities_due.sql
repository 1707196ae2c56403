-- Tracked, live repositories due for a sync: never synced, or last synced at or before the cutoff of
-- their priority. The last sync is timed from the fire that queued it (sync_queued_at) once it ended,
-- else from its end (last_synced_at), so the cadence is a number of fires whatever a sync's duration
-- (priorities.queued_sync_ended is the same "ended" rule in Python). A due repository whose sync this job queued earlier is "pending" while that sync has
-- not ended (last_synced_at before sync_queued_at), not failed (no failed run of it since), and was queued
-- after pending_before; pending rows come last and the caller leaves them out. due_total and pending_total
-- count every due repository before the LIMIT, so the caller can say how many are left for the next run.
-- Highest score first, then the longest waiting. Archived, disabled and inactive repositories are never due.
WITH due AS (
    SELECT r.id,
           t.priority,
           t.priority_score,
           r.last_synced_at,
           (t.sync_queued_at IS NOT NULL AND t.sync_queued_at > %(pending_before)s::timestamptz
            AND (r.last_synced_at IS NULL OR r.last_synced_at < t.sync_queued_at)
            AND NOT EXISTS (SELECT 1 FROM function_runs f
                             WHERE f.function = %(sync_function)s
                               AND f.status = 'failed'
                               AND f.started_at >= t.sync_queued_at
                               AND f.data->>'repositoryId' = r.id::text)) AS pending
      FROM tracked_repositories t
      JOIN repositories r ON r.id = t.repository_id
     WHERE t.tracking_enabled
       AND r.is_active
       AND NOT r.is_archived
       AND NOT r.is_disabled
       AND (r.last_synced_at IS NULL
            OR CASE WHEN r.last_synced_at >= t.sync_queued_at THEN t.sync_queued_at ELSE r.last_synced_at END
               <= CASE t.priority WHEN 'high' THEN %(high_before)s::timestamptz
                                  WHEN 'medium' THEN %(medium_before)s::timestamptz
                                  ELSE %(low_before)s::timestamptz END)
)
SELECT id,
       priority,
       priority_score,
       last_synced_at,
       pending,
       (count(*) FILTER (WHERE NOT pending) OVER ())::integer AS due_total,
       (count(*) FILTER (WHERE pending) OVER ())::integer AS pending_total
  FROM due
 ORDER BY pending, priority_score DESC NULLS LAST, last_synced_at ASC NULLS FIRST, id
 LIMIT %(max_syncs)s

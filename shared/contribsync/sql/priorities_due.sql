-- Tracked, live repositories due for a sync: never synced; or last synced at or before the cutoff of their
-- priority; or at their phase, a fire that falls on github_id modulo the priority's hours, when not synced
-- at this fire already (synced_from at or before phase_before), so that a priority's repositories are
-- spread over its fires instead of all coming due at the one after a common backfill. The last sync is
-- timed from the fire that queued it (sync_queued_at) once it ended, so the cadence is a number of fires
-- whatever a sync's duration; any other sync from other_sync_lead before its end (last_synced_at), so it is
-- due at the last fire before what it read outgrows the interval (priorities.synced_from is the same rule
-- in Python). A due repository whose sync this job queued earlier is "pending" while that
-- sync has not ended (last_synced_at before sync_queued_at), not failed (no failed run of it since), and
-- was queued after pending_before; pending rows come last and the caller leaves them out. due_total and
-- pending_total count every due repository before the LIMIT, so the caller can say how many are left for
-- the next run. Highest score first, then the longest waiting. Archived, disabled and inactive
-- repositories are never due. A repository "covered" by webhooks (a delivery of a handled event stored
-- for it since delivered_since, and some webhook's log reconciled since reconciled_since) has the
-- webhooks' interval and phase (webhooks_before, webhooks_hours) in place of its priority's.
WITH reconciled AS (
    SELECT EXISTS (SELECT 1 FROM webhook_reconcile_hooks WHERE checked_at > %(reconciled_since)s::timestamptz) AS ok
), tracked AS (
    SELECT r.id,
           r.github_id,
           t.priority,
           t.priority_score,
           r.last_synced_at,
           t.sync_queued_at,
           (reconciled.ok AND EXISTS (SELECT 1 FROM webhook_deliveries d
                                       WHERE d.repository_github_id = r.github_id
                                         AND d.received_at > %(delivered_since)s::timestamptz
                                         AND d.status <> 'ignored')) AS covered
      FROM tracked_repositories t
      JOIN repositories r ON r.id = t.repository_id
     CROSS JOIN reconciled
     WHERE t.tracking_enabled
       AND r.is_active
       AND NOT r.is_archived
       AND NOT r.is_disabled
), live AS (
    SELECT id,
           github_id,
           priority,
           priority_score,
           last_synced_at,
           sync_queued_at,
           covered,
           CASE WHEN last_synced_at >= sync_queued_at THEN sync_queued_at
                ELSE last_synced_at - %(other_sync_lead)s::interval END AS synced_from,
           CASE WHEN covered THEN %(webhooks_before)s::timestamptz
                WHEN priority = 'high' THEN %(high_before)s::timestamptz
                WHEN priority = 'medium' THEN %(medium_before)s::timestamptz
                ELSE %(low_before)s::timestamptz END AS due_before,
           CASE WHEN covered THEN %(webhooks_hours)s::integer
                WHEN priority = 'high' THEN %(high_hours)s::integer
                WHEN priority = 'medium' THEN %(medium_hours)s::integer
                ELSE %(low_hours)s::integer END AS every_hours
      FROM tracked
), due AS (
    SELECT id,
           priority,
           priority_score,
           last_synced_at,
           covered,
           (sync_queued_at IS NOT NULL AND sync_queued_at > %(pending_before)s::timestamptz
            AND (last_synced_at IS NULL OR last_synced_at < sync_queued_at)
            AND NOT EXISTS (SELECT 1 FROM function_runs f
                             WHERE f.function = %(sync_function)s
                               AND f.status = 'failed'
                               AND f.started_at >= live.sync_queued_at
                               AND f.data->>'repositoryId' = live.id::text)) AS pending
      FROM live
     WHERE last_synced_at IS NULL
        OR synced_from <= due_before
        OR (synced_from <= %(phase_before)s::timestamptz
            AND mod(github_id, every_hours) = mod(%(fire_hour)s::bigint, every_hours))
)
SELECT id,
       priority,
       priority_score,
       last_synced_at,
       covered,
       pending,
       (count(*) FILTER (WHERE NOT pending) OVER ())::integer AS due_total,
       (count(*) FILTER (WHERE pending) OVER ())::integer AS pending_total
  FROM due
 ORDER BY pending, priority_score DESC NULLS LAST, last_synced_at ASC NULLS FIRST, id
 LIMIT %(max_syncs)s

-- Tracked, live repositories due for a sync: never synced, or last synced at or before the cutoff of
-- their priority. Highest score first, then the longest waiting; due_total counts every due repository
-- (before the LIMIT), so the caller can say how many are left for the next run. Archived, disabled and
-- inactive repositories are never due.
SELECT r.id,
       t.priority,
       t.priority_score,
       r.last_synced_at,
       count(*) OVER ()::integer AS due_total
  FROM tracked_repositories t
  JOIN repositories r ON r.id = t.repository_id
 WHERE t.tracking_enabled
   AND r.is_active
   AND NOT r.is_archived
   AND NOT r.is_disabled
   AND (r.last_synced_at IS NULL
        OR r.last_synced_at <= CASE t.priority WHEN 'high' THEN %(high_before)s::timestamptz
                                               WHEN 'medium' THEN %(medium_before)s::timestamptz
                                               ELSE %(low_before)s::timestamptz END)
 ORDER BY t.priority_score DESC NULLS LAST, r.last_synced_at ASC NULLS FIRST, r.id
 LIMIT %(max_syncs)s

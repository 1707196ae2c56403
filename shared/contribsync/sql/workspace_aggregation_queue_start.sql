-- contributor.info's queue row for an aggregation: 'processing', priority by tier (enterprise 10,
-- pro 50, free 100; a repository change 1). One row per (workspace, time range, status).
INSERT INTO workspace_aggregation_queue AS q (workspace_id, time_range, priority, status, started_at,
                                              attempts, triggered_by)
VALUES (%(workspace_id)s, %(time_range)s, %(priority)s, 'processing', now(), 1, %(triggered_by)s)
ON CONFLICT (workspace_id, time_range, status) DO UPDATE
   SET started_at = now(), attempts = q.attempts + 1, priority = excluded.priority,
       triggered_by = excluded.triggered_by
RETURNING id

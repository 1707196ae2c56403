-- Retention of the aggregation queue: finished rows (completed or failed) older than the cutoff.
DELETE FROM workspace_aggregation_queue
 WHERE status IN ('completed', 'failed') AND coalesce(completed_at, created_at) < %(before)s
RETURNING id

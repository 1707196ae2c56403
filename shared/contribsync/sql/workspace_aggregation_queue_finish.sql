-- The processing row becomes 'completed' (or 'failed'); workspace_aggregation_queue_clear has removed
-- the previous row of that status first (one row per workspace, time range and status).
UPDATE workspace_aggregation_queue
   SET status = %(status)s, completed_at = now(), error_message = %(error)s
 WHERE workspace_id = %(workspace_id)s AND time_range = %(time_range)s AND status = 'processing'
RETURNING id

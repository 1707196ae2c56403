-- Make room for a finished queue row: drop the previous one of the same status.
DELETE FROM workspace_aggregation_queue
 WHERE workspace_id = %(workspace_id)s AND time_range = %(time_range)s AND status = %(status)s
RETURNING id

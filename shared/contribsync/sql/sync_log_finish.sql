-- Close a sync_logs row with its outcome, counters and GitHub usage.
UPDATE sync_logs
   SET status                = %(status)s,
       completed_at          = %(now)s,
       records_processed     = %(processed)s,
       records_inserted      = %(inserted)s,
       records_updated       = %(updated)s,
       records_failed        = %(failed)s,
       error_message         = %(error)s,
       github_api_calls_used = %(api_calls)s,
       rate_limit_remaining  = %(rate_limit_remaining)s,
       metadata              = metadata || %(metadata)s
 WHERE id = %(id)s

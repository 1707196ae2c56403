-- contributor.info's hybrid queue records each job it sends in progressive_capture_jobs and passes the
-- row's id as data.jobId. The run moves that row: processing when it starts, then completed, failed or
-- cancelled when it ends (with the error). A row that already ended is left alone (a redelivery).
UPDATE progressive_capture_jobs
   SET status       = %(status)s::text,
       started_at   = coalesce(started_at, %(now)s),
       completed_at = CASE WHEN %(status)s::text = 'processing' THEN completed_at ELSE %(now)s END,
       error        = coalesce(%(error)s, error)
 WHERE id = %(job_id)s
   AND coalesce(status, 'pending') NOT IN ('completed', 'failed', 'cancelled')

-- Close a run-history row; a failure's traceback and step only come with a failed or retried run.
UPDATE function_runs
   SET status          = %(status)s,
       ended_at        = %(now)s,
       duration_ms     = greatest(0, (extract(epoch FROM (%(now)s::timestamptz - started_at)) * 1000)::integer),
       error_type      = %(error_type)s,
       error           = %(error)s,
       error_traceback = %(error_traceback)s,
       error_step      = %(error_step)s,
       result          = %(result)s,
       next_attempt_at = %(next_attempt_at)s,
       dead_lettered   = %(dead_lettered)s
 WHERE id = %(run_id)s
RETURNING data ->> 'jobId' AS job_id

-- Recent runs, newest first, optionally filtered by function and by status (one, or any of several).
SELECT id, event_id, event_name, function, concurrency_key, attempt, status, started_at, ended_at,
       duration_ms, error_type, error, error_step, error_traceback, result, data, next_attempt_at, dead_lettered
  FROM function_runs
 WHERE (%(function)s::text IS NULL OR function = %(function)s)
   AND (%(statuses)s::text[] IS NULL OR status = ANY(%(statuses)s::text[]))
 ORDER BY started_at DESC, id
 LIMIT %(limit)s

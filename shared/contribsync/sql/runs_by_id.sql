-- One run of the run history by id, with everything recorded about it.
SELECT id, event_id, event_name, function, concurrency_key, attempt, status, started_at, ended_at,
       duration_ms, error_type, error, error_step, error_traceback, result, data, message_id, next_attempt_at,
       dead_lettered
  FROM function_runs
 WHERE id::text = %(id)s

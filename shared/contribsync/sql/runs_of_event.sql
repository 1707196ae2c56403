-- Every attempt of one event on one function, oldest first (a run's retries, deferrals and replays of
-- the same id).
SELECT id, event_id, event_name, function, attempt, status, started_at, ended_at, duration_ms, error_type,
       error, error_step, next_attempt_at, dead_lettered
  FROM function_runs
 WHERE event_id = %(event_id)s AND function = %(function)s
 ORDER BY started_at, id
 LIMIT 100

-- Record a run that never started (invalid message, throttled, over the concurrency limit, cancelled).
INSERT INTO function_runs (event_id, event_name, function, concurrency_key, attempt, status, started_at,
                           ended_at, duration_ms, error_type, error, error_traceback, error_step, data,
                           message_id, next_attempt_at, dead_lettered)
VALUES (%(event_id)s, %(event_name)s, %(function)s, %(concurrency_key)s, %(attempt)s, %(status)s, %(now)s,
        %(now)s, 0, %(error_type)s, %(error)s, %(error_traceback)s, %(error_step)s, %(data)s, %(message_id)s,
        %(next_attempt_at)s, %(dead_lettered)s)
RETURNING id

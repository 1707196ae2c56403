-- Open a run-history row for one attempt of one event on one function.
INSERT INTO function_runs (event_id, event_name, function, concurrency_key, attempt, status,
                           started_at, data, message_id)
VALUES (%(event_id)s, %(event_name)s, %(function)s, %(concurrency_key)s, %(attempt)s, 'running',
        %(now)s, %(data)s, %(message_id)s)
RETURNING id

-- The run completed: its progress is no longer needed.
DELETE FROM run_progress WHERE function = %(function)s AND event_id = %(event_id)s

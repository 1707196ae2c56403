-- One run of the run history by id.
SELECT id, event_id, event_name, function, status, data FROM function_runs WHERE id::text = %(id)s

-- Which of these event ids have a completed run.
SELECT DISTINCT event_id FROM function_runs WHERE event_id = ANY(%(event_ids)s) AND status = 'completed'

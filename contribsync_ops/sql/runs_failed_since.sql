-- Events whose last attempt failed for good since a time, and that have not completed since, neither
-- themselves nor as a replay: the latest failed run of each (event, function).
SELECT DISTINCT ON (f.event_id, f.function) f.id, f.event_id, f.event_name, f.function, f.status, f.data
  FROM function_runs f
 WHERE f.status = 'failed' AND f.started_at >= %(since)s
   AND NOT EXISTS (SELECT 1 FROM function_runs c
                    WHERE c.function = f.function AND c.status = 'completed'
                      AND (c.event_id = f.event_id OR c.event_id = 'replay:' || f.id::text))
 ORDER BY f.event_id, f.function, f.started_at DESC

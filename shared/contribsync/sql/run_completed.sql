-- Has this event already completed on this function? (SQS is at-least-once: skip redeliveries.)
SELECT id FROM function_runs
 WHERE event_id = %(event_id)s AND function = %(function)s AND status = 'completed'
 LIMIT 1

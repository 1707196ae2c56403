-- A cancellation that applies to this run: same function (and event when named), sent after the
-- event, and whose `match` is contained in the event's data.
SELECT id, reason FROM cancellations
 WHERE function = %(function)s
   AND (event_name IS NULL OR event_name = ANY(%(event_names)s))
   AND created_at >= %(event_time)s
   AND expires_at > %(now)s
   AND %(data)s::jsonb @> match
 ORDER BY created_at
 LIMIT 1

-- The two checks every run starts with, in one round trip: has this event already completed on this
-- function (SQS redelivery: skip it), and the reason of a cancellation that applies (see cancel_match),
-- '' when it has none. NULL when no cancellation applies.
SELECT EXISTS (SELECT 1 FROM function_runs
                WHERE event_id = %(event_id)s AND function = %(function)s AND status = 'completed') AS completed,
       (SELECT coalesce(reason, '') FROM cancellations
         WHERE function = %(function)s
           AND (event_name IS NULL OR event_name = ANY(%(event_names)s))
           AND created_at >= %(event_time)s
           AND expires_at > %(now)s
           AND %(data)s::jsonb @> match
         ORDER BY created_at
         LIMIT 1) AS cancelled

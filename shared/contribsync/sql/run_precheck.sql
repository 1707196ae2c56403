-- What every run starts with, in one round trip:
-- - claimed: this session takes the run's advisory lock (released by run_release), so two copies of one
--   message (SQS delivers at least once, sometimes at the same time) never run at once; false when
--   another session holds it. The two-int form keeps these apart from the bigint locks on GitHub ids.
-- - completed: this event already completed on this function (a redelivery: skip it);
-- - cancelled: the reason of a cancellation that applies (see cancel_match), '' when it gave none;
--   NULL when none applies.
SELECT pg_try_advisory_lock(hashtext(%(function)s), hashtext(%(event_id)s)) AS claimed,
       EXISTS (SELECT 1 FROM function_runs
                WHERE event_id = %(event_id)s AND function = %(function)s AND status = 'completed') AS completed,
       (SELECT coalesce(reason, '') FROM cancellations
         WHERE function = %(function)s
           AND (event_name IS NULL OR event_name = ANY(%(event_names)s))
           AND created_at >= %(event_time)s
           AND expires_at > %(now)s
           AND %(data)s::jsonb @> match
         ORDER BY created_at
         LIMIT 1) AS cancelled

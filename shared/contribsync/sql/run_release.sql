-- Release the run's advisory lock that run_precheck took in this session.
SELECT pg_advisory_unlock(hashtext(%(function)s), hashtext(%(event_id)s)) AS released

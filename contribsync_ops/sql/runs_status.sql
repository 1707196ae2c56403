-- Per function: runs in flight, failures and completions of the last hour, the last run and the last
-- cron fire (runs of events the scheduler sent, ids "cron:...").
SELECT function,
       count(*) FILTER (WHERE status = 'running') AS running,
       count(*) FILTER (WHERE status = 'failed' AND started_at > now() - interval '1 hour') AS failed_last_hour,
       count(*) FILTER (WHERE status = 'completed' AND started_at > now() - interval '1 hour') AS completed_last_hour,
       max(started_at) AS last_run,
       max(started_at) FILTER (WHERE event_id LIKE 'cron:%%') AS last_cron
  FROM function_runs
 GROUP BY function

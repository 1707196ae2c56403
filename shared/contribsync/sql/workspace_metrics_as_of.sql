-- The time a workspace's cached metrics were computed for (its rows share one period_end).
SELECT max(period_end) AS as_of FROM workspace_metrics_cache WHERE workspace_id = %(workspace_id)s

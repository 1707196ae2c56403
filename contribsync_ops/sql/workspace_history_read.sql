-- A workspace's newest daily metrics rows.
SELECT * FROM workspace_metrics_history WHERE workspace_id = %(workspace_id)s
 ORDER BY metric_date DESC LIMIT %(days)s

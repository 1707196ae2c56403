-- Retention: drop daily workspace metrics older than the cutoff date; one row back per deleted row.
DELETE FROM workspace_metrics_history WHERE metric_date < %(before)s RETURNING id

-- Retention: drop daily workspace metrics dated before the cutoff date (the cutoff day itself stays);
-- one row back per deleted row.
DELETE FROM workspace_metrics_history WHERE metric_date < %(before)s RETURNING id

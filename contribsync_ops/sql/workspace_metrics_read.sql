-- A workspace's cached metrics, one row per time range.
SELECT * FROM workspace_metrics_cache WHERE workspace_id = %(workspace_id)s
 ORDER BY array_position(ARRAY['7d', '30d', '90d', '1y', 'all'], time_range)

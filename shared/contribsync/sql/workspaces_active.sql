-- Workspaces the daily aggregation covers.
SELECT id FROM workspaces WHERE is_active ORDER BY created_at, id

-- Serialise writers of one workspace's metrics (aggregations, repository changes) until the end of
-- the transaction, whichever Lambda instance runs them.
SELECT pg_advisory_xact_lock(hashtextextended('workspace:' || %(workspace_id)s::text, 0)) IS NULL AS locked

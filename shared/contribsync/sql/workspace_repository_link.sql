-- Add a repository to a workspace (idempotent); says whether it was new and whether the repository was
-- ever synced or is tracked.
WITH linked AS (
    INSERT INTO workspace_repositories (workspace_id, repository_id)
    SELECT %(workspace_id)s, r.id FROM repositories r WHERE r.id = %(repository_id)s  -- none if not stored
    ON CONFLICT (workspace_id, repository_id) DO NOTHING
    RETURNING id
)
SELECT r.id, r.owner, r.name, r.full_name, EXISTS (SELECT 1 FROM linked) AS added,
       (r.last_synced_at IS NOT NULL OR r.prs_synced_through IS NOT NULL) AS synced,
       EXISTS (SELECT 1 FROM tracked_repositories t WHERE t.repository_id = r.id AND t.tracking_enabled) AS tracked
  FROM repositories r WHERE r.id = %(repository_id)s

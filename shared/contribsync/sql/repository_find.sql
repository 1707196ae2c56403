-- A stored repository by uuid, GitHub id or owner/name (case-insensitive, as GitHub's names are);
-- `tracked` once discovery made it a tracked repository (a webhook may store a repository first);
-- `sync_queued_at`: when sync/workspace-priorities last queued its sync.
SELECT id, github_id, full_name, owner, name, has_discussions, pull_request_count, last_updated_at,
       last_synced_at, prs_synced_through, issues_synced_through,
       EXISTS (SELECT 1 FROM tracked_repositories t
                WHERE t.repository_id = repositories.id AND t.tracking_enabled) AS tracked,
       (SELECT max(t.sync_queued_at) FROM tracked_repositories t
         WHERE t.repository_id = repositories.id) AS sync_queued_at
  FROM repositories
 WHERE id = %(id)s::uuid
    OR github_id = %(github_id)s::bigint
    OR lower(full_name) = lower(%(full_name)s::text)
 ORDER BY (id = %(id)s::uuid) DESC NULLS LAST, (github_id = %(github_id)s::bigint) DESC NULLS LAST
 LIMIT 1

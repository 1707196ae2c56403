-- Repositories GitHub deleted, or an App installation no longer covers: kept, but inactive and untracked.
WITH deactivated AS (
    UPDATE repositories SET is_active = false, updated_at = now()
     WHERE github_id = ANY(%(github_ids)s::bigint[])
    RETURNING id
), untracked AS (
    UPDATE tracked_repositories SET tracking_enabled = false, updated_at = now()
     WHERE repository_id IN (SELECT id FROM deactivated)
)
SELECT id FROM deactivated

-- The syncs sync/workspace-priorities just queued: their repositories are pending until those end.
UPDATE tracked_repositories
   SET sync_queued_at = %(now)s
 WHERE repository_id = ANY(%(repository_ids)s::uuid[])

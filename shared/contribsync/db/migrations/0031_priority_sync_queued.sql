-- When sync/workspace-priorities last queued a sync of the repository (services/priorities.py). Until
-- that sync ends (repositories.last_synced_at passes it), fails, or SYNC_PENDING_FOR goes by, the
-- repository is not due again: a sync waiting behind a backlog or a spent budget is not queued twice.
ALTER TABLE tracked_repositories ADD COLUMN IF NOT EXISTS sync_queued_at timestamptz;

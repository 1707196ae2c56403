-- Why a tracked repository has its priority, and when that priority last changed
-- (sync/workspace-priorities, services/priorities.py). The job rewrites a row only when its priority,
-- score, workspace membership or reasons change, so priority_changed_at is when they last did.
ALTER TABLE tracked_repositories ADD COLUMN IF NOT EXISTS priority_reasons text[] NOT NULL DEFAULT '{}';
ALTER TABLE tracked_repositories ADD COLUMN IF NOT EXISTS priority_changed_at timestamptz;

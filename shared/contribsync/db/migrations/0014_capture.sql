-- Capture pipeline support.

-- A service's progress through one event (e.g. a sync's cursor and counters), so a retried or
-- redelivered message resumes where the previous attempt stopped instead of refetching.
CREATE TABLE IF NOT EXISTS run_progress (
    function   text        NOT NULL,
    event_id   text        NOT NULL,
    progress   jsonb       NOT NULL,
    pages      integer     NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (function, event_id)
);

-- GitHub's id of the comment a review comment replies to. in_reply_to_id (the uuid FK) is resolved
-- from it, also later, when the parent arrives in another page or run (contributor.info lost these links).
ALTER TABLE comments ADD COLUMN IF NOT EXISTS in_reply_to_github_id bigint;
CREATE INDEX IF NOT EXISTS comments_unresolved_reply_idx ON comments (repository_id)
    WHERE in_reply_to_id IS NULL AND in_reply_to_github_id IS NOT NULL;

-- Incremental syncs: every PR / issue updated up to this instant is stored. Its own columns: neither
-- the cooldown clock (last_updated_at) nor the metadata refresh touch them.
ALTER TABLE repositories ADD COLUMN IF NOT EXISTS prs_synced_through timestamptz;
ALTER TABLE repositories ADD COLUMN IF NOT EXISTS issues_synced_through timestamptz;

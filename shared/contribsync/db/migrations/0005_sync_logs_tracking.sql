-- sync_logs, tracked_repositories and progressive capture (contributor.info's supabase/migrations).
-- Difference, on purpose: sync_logs.sync_type accepts every type the jobs write (the original CHECK
-- allowed four of them and rejected pr_details, repository_discussions and the rest: §0).

CREATE TABLE IF NOT EXISTS sync_logs (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    sync_type            text        NOT NULL CHECK (sync_type IN (
                             'full_sync', 'incremental_sync', 'repository_sync', 'contributor_sync',
                             'pr_details', 'pr_reviews', 'pr_comments', 'repository_discussions',
                             'repository_issues', 'issue_comments', 'discussions_cron', 'embeddings',
                             'workspace_metrics', 'webhook')),
    repository_id        uuid        REFERENCES repositories (id) ON DELETE SET NULL,
    status               text        NOT NULL CHECK (status IN ('started', 'completed', 'failed', 'cancelled')),
    started_at           timestamptz NOT NULL DEFAULT now(),
    completed_at         timestamptz,
    records_processed    integer     NOT NULL DEFAULT 0,
    records_inserted     integer     NOT NULL DEFAULT 0,
    records_updated      integer     NOT NULL DEFAULT 0,
    records_failed       integer     NOT NULL DEFAULT 0,
    error_message        text,
    github_api_calls_used integer    NOT NULL DEFAULT 0,
    rate_limit_remaining integer,
    metadata             jsonb       NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX IF NOT EXISTS sync_logs_repository_started_idx ON sync_logs (repository_id, started_at DESC);

CREATE TABLE IF NOT EXISTS tracked_repositories (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    repository_id      uuid        UNIQUE REFERENCES repositories (id) ON DELETE CASCADE,
    organization_name  text        NOT NULL,
    repository_name    text        NOT NULL,
    tracking_enabled   boolean     NOT NULL DEFAULT true,
    size               text        CHECK (size IN ('small', 'medium', 'large', 'xl')),
    priority           text        NOT NULL DEFAULT 'medium' CHECK (priority IN ('high', 'medium', 'low')),
    priority_score     integer,
    metrics            jsonb,
    size_calculated_at timestamptz,
    is_workspace_repo  boolean     NOT NULL DEFAULT false,
    workspace_count    integer     NOT NULL DEFAULT 0,
    added_at           timestamptz NOT NULL DEFAULT now(),
    last_sync_at       timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (organization_name, repository_name)
);

CREATE TABLE IF NOT EXISTS progressive_capture_jobs (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    job_type        text        NOT NULL,
    repository_id   uuid        REFERENCES repositories (id) ON DELETE CASCADE,
    processor_type  text        NOT NULL DEFAULT 'inngest' CHECK (processor_type IN ('inngest', 'github_actions')),
    status          text        NOT NULL DEFAULT 'pending'
                        CHECK (status IN ('pending', 'processing', 'completed', 'failed', 'cancelled')),
    time_range_days integer,
    metadata        jsonb       NOT NULL DEFAULT '{}'::jsonb,
    error           text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    started_at      timestamptz,
    completed_at    timestamptz
);
CREATE INDEX IF NOT EXISTS progressive_capture_jobs_status_idx ON progressive_capture_jobs (status, created_at);

CREATE TABLE IF NOT EXISTS progressive_backfill_state (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    repository_id         uuid        NOT NULL UNIQUE REFERENCES repositories (id) ON DELETE CASCADE,
    total_prs             integer,
    processed_prs         integer     NOT NULL DEFAULT 0,
    last_processed_cursor text,
    last_processed_at     timestamptz,
    status                text        NOT NULL DEFAULT 'active'
                              CHECK (status IN ('active', 'paused', 'completed', 'failed')),
    chunk_size            integer     NOT NULL DEFAULT 25,
    error_count           integer     NOT NULL DEFAULT 0,
    metadata              jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS backfill_chunks (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    backfill_state_id uuid        NOT NULL REFERENCES progressive_backfill_state (id) ON DELETE CASCADE,
    repository_id     uuid        REFERENCES repositories (id) ON DELETE CASCADE,
    chunk_number      integer     NOT NULL,
    status            text        NOT NULL DEFAULT 'pending',
    pr_numbers        integer[],
    started_at        timestamptz,
    completed_at      timestamptz,
    error             text,
    api_calls_made    integer     NOT NULL DEFAULT 0,
    created_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (backfill_state_id, chunk_number)
);

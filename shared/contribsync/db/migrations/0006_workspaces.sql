-- Workspaces and their metrics (contributor.info's migrations), plus the totals the backfill guide reads
-- on workspaces (total_repositories, total_contributors, total_pull_requests, total_issues).

CREATE TABLE IF NOT EXISTS workspaces (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name                text        NOT NULL,
    slug                text        NOT NULL UNIQUE,
    description         text,
    owner_id            uuid,
    visibility          text        NOT NULL DEFAULT 'public' CHECK (visibility IN ('public', 'private')),
    tier                text        NOT NULL DEFAULT 'free' CHECK (tier IN ('free', 'pro', 'enterprise')),
    data_retention_days integer     NOT NULL DEFAULT 30,
    max_repositories    integer,
    is_active           boolean     NOT NULL DEFAULT true,
    total_repositories  integer     NOT NULL DEFAULT 0,
    total_contributors  integer     NOT NULL DEFAULT 0,
    total_pull_requests integer     NOT NULL DEFAULT 0,
    total_issues        integer     NOT NULL DEFAULT 0,
    settings            jsonb       NOT NULL DEFAULT '{}'::jsonb,
    last_activity_at    timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS workspace_repositories (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id  uuid        NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    repository_id uuid        NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    added_by      uuid,
    added_at      timestamptz NOT NULL DEFAULT now(),
    notes         text,
    tags          text[]      NOT NULL DEFAULT '{}',
    is_pinned     boolean     NOT NULL DEFAULT false,
    UNIQUE (workspace_id, repository_id)
);
CREATE INDEX IF NOT EXISTS workspace_repositories_repository_idx ON workspace_repositories (repository_id);

-- One row per workspace and time range. TTLs (contributor.info): 7d 5 min, 30d 10 min, 90d 30 min,
-- 1y 1 h, all 2 h; a row past expires_at, or marked is_stale, is recomputed.
CREATE TABLE IF NOT EXISTS workspace_metrics_cache (
    id                      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id            uuid        NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    time_range              text        NOT NULL CHECK (time_range IN ('7d', '30d', '90d', '1y', 'all')),
    period_start            timestamptz,
    period_end              timestamptz,
    total_prs               integer     NOT NULL DEFAULT 0,
    open_prs                integer     NOT NULL DEFAULT 0,
    merged_prs              integer     NOT NULL DEFAULT 0,
    closed_prs              integer     NOT NULL DEFAULT 0,
    draft_prs               integer     NOT NULL DEFAULT 0,
    total_issues            integer     NOT NULL DEFAULT 0,
    open_issues             integer     NOT NULL DEFAULT 0,
    closed_issues           integer     NOT NULL DEFAULT 0,
    total_contributors      integer     NOT NULL DEFAULT 0,
    active_contributors     integer     NOT NULL DEFAULT 0,
    new_contributors        integer     NOT NULL DEFAULT 0,
    total_reviews           integer     NOT NULL DEFAULT 0,
    total_commits           integer     NOT NULL DEFAULT 0,
    total_stars             integer     NOT NULL DEFAULT 0,
    total_forks             integer     NOT NULL DEFAULT 0,
    total_watchers          integer     NOT NULL DEFAULT 0,
    avg_pr_merge_time_hours numeric,
    median_pr_merge_time_hours numeric,
    avg_time_to_first_review_hours numeric,
    reviews_per_pr          numeric,
    pr_velocity             numeric,
    issue_closure_rate      numeric,
    top_contributors        jsonb       NOT NULL DEFAULT '[]'::jsonb,
    activity_timeline       jsonb       NOT NULL DEFAULT '[]'::jsonb,
    repository_stats        jsonb       NOT NULL DEFAULT '[]'::jsonb,
    language_distribution   jsonb       NOT NULL DEFAULT '{}'::jsonb,
    stars_trend             numeric,
    prs_trend               numeric,
    contributors_trend      numeric,
    issues_trend            numeric,
    calculated_at           timestamptz NOT NULL DEFAULT now(),
    expires_at              timestamptz NOT NULL,
    is_stale                boolean     NOT NULL DEFAULT false,
    calculation_time_ms     integer,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    UNIQUE (workspace_id, time_range)
);

CREATE TABLE IF NOT EXISTS workspace_metrics_history (
    id                        uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id              uuid        NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    metric_date               date        NOT NULL,
    daily_prs                 integer     NOT NULL DEFAULT 0,
    daily_merged_prs          integer     NOT NULL DEFAULT 0,
    daily_issues              integer     NOT NULL DEFAULT 0,
    daily_reviews             integer     NOT NULL DEFAULT 0,
    daily_commits             integer     NOT NULL DEFAULT 0,
    daily_active_contributors integer     NOT NULL DEFAULT 0,
    daily_new_contributors    integer     NOT NULL DEFAULT 0,
    total_prs                 integer     NOT NULL DEFAULT 0,
    total_issues              integer     NOT NULL DEFAULT 0,
    total_contributors        integer     NOT NULL DEFAULT 0,
    total_stars               integer     NOT NULL DEFAULT 0,
    total_forks               integer     NOT NULL DEFAULT 0,
    metrics                   jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_at                timestamptz NOT NULL DEFAULT now(),
    UNIQUE (workspace_id, metric_date)
);
CREATE INDEX IF NOT EXISTS workspace_metrics_history_date_idx ON workspace_metrics_history (metric_date);

CREATE TABLE IF NOT EXISTS workspace_aggregation_queue (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id  uuid        NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    time_range    text        NOT NULL CHECK (time_range IN ('7d', '30d', '90d', '1y', 'all')),
    priority      integer     NOT NULL DEFAULT 50,
    status        text        NOT NULL DEFAULT 'pending'
                      CHECK (status IN ('pending', 'processing', 'completed', 'failed')),
    scheduled_for timestamptz NOT NULL DEFAULT now(),
    started_at    timestamptz,
    completed_at  timestamptz,
    attempts      integer     NOT NULL DEFAULT 0,
    max_attempts  integer     NOT NULL DEFAULT 3,
    error_message text,
    triggered_by  text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (workspace_id, time_range, status)
);

-- Per-repository partial aggregates behind the workspace metrics (issue 8).
--
-- A workspace's metrics are combined from one row per (repository, as_of, window): additive counts,
-- plus what cannot be added across repositories kept whole (merge and first-review durations for
-- medians and averages; active contributor ids with their counts, for distinct counts and the top
-- list; first activity per contributor, for "new"). So a repository joining or leaving a workspace
-- costs one repository's partials and a recombination, never a rescan of the others, and the result
-- is the same as a full recompute at the same as_of. Rows are immutable per as_of; old ones are
-- collected by the aggregation.
CREATE TABLE IF NOT EXISTS repository_metric_partials (
    repository_id          uuid        NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    as_of                  timestamptz NOT NULL,
    window_key             text        NOT NULL,  -- 7d, 30d, 90d, 1y, all, or day:YYYY-MM-DD
    window_start           timestamptz NOT NULL,  -- '-infinity' for all
    window_end             timestamptz NOT NULL,
    prs_opened             integer     NOT NULL DEFAULT 0,
    prs_open               integer     NOT NULL DEFAULT 0,
    prs_merged_state       integer     NOT NULL DEFAULT 0,
    prs_closed             integer     NOT NULL DEFAULT 0,
    prs_draft              integer     NOT NULL DEFAULT 0,
    prev_prs_opened        integer     NOT NULL DEFAULT 0,
    prs_merged             integer     NOT NULL DEFAULT 0,
    commits_merged         bigint      NOT NULL DEFAULT 0,
    merge_hours            float8[]    NOT NULL DEFAULT '{}',
    reviews_submitted      integer     NOT NULL DEFAULT 0,
    reviews_on_opened      integer     NOT NULL DEFAULT 0,
    first_review_hours     float8[]    NOT NULL DEFAULT '{}',
    issues_opened          integer     NOT NULL DEFAULT 0,
    issues_open            integer     NOT NULL DEFAULT 0,
    issues_closed          integer     NOT NULL DEFAULT 0,
    prev_issues_opened     integer     NOT NULL DEFAULT 0,
    stars_events           integer     NOT NULL DEFAULT 0,
    prev_stars_events      integer     NOT NULL DEFAULT 0,
    contributor_ids        uuid[]      NOT NULL DEFAULT '{}',  -- active human contributors, sorted
    contributor_prs        integer[]   NOT NULL DEFAULT '{}',  -- aligned with contributor_ids
    contributor_reviews    integer[]   NOT NULL DEFAULT '{}',
    contributor_comments   integer[]   NOT NULL DEFAULT '{}',
    contributor_issues     integer[]   NOT NULL DEFAULT '{}',
    contributor_first_at   timestamptz[],                      -- 'all' only: first activity in the repo
    prev_contributor_ids   uuid[]      NOT NULL DEFAULT '{}',
    last_activity_at       timestamptz,
    timeline_dates         date[]      NOT NULL DEFAULT '{}',
    timeline_prs           integer[]   NOT NULL DEFAULT '{}',
    timeline_merged        integer[]   NOT NULL DEFAULT '{}',
    timeline_issues        integer[]   NOT NULL DEFAULT '{}',
    timeline_reviews       integer[]   NOT NULL DEFAULT '{}',
    computed_at            timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (repository_id, as_of, window_key)
);
CREATE INDEX IF NOT EXISTS repository_metric_partials_as_of_idx ON repository_metric_partials (as_of);

-- Percent change against the previous period, as contributor.info's dashboards show it: a rise from
-- nothing is +100, nothing to nothing is 0.
CREATE OR REPLACE FUNCTION contribsync_trend(cur bigint, prev bigint) RETURNS numeric
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN coalesce(prev, 0) = 0 THEN CASE WHEN coalesce(cur, 0) > 0 THEN 100 ELSE 0 END
                ELSE round(100.0 * (coalesce(cur, 0) - prev) / prev, 2) END
$$;

-- The aggregation's lookups by activity time.
CREATE INDEX IF NOT EXISTS reviews_repository_submitted_idx ON reviews (repository_id, submitted_at);
CREATE INDEX IF NOT EXISTS comments_repository_created_idx ON comments (repository_id, created_at);
CREATE INDEX IF NOT EXISTS issues_repository_created_idx ON issues (repository_id, created_at);

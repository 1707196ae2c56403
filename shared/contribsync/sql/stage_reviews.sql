-- Staging table for one transaction's reviews (COPY target); emptied on commit.
CREATE TEMP TABLE IF NOT EXISTS stage_reviews (
    github_id        bigint,
    pr_github_id     bigint,
    author_github_id bigint,
    state            text,
    body             text,
    submitted_at     timestamptz,
    commit_id        text,
    updated_at       timestamptz
) ON COMMIT DELETE ROWS

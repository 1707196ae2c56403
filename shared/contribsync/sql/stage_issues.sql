-- Staging table for one transaction's issues (COPY target); emptied on commit.
CREATE TEMP TABLE IF NOT EXISTS stage_issues (
    github_id        bigint,
    number           integer,
    title            text,
    body             text,
    state            text,
    state_reason     text,
    author_github_id bigint,
    created_at       timestamptz,
    updated_at       timestamptz,
    closed_at        timestamptz,
    labels           jsonb,
    assignees        jsonb,
    milestone        jsonb,
    comments_count   integer,
    locked           boolean,
    html_url         text
) ON COMMIT DELETE ROWS

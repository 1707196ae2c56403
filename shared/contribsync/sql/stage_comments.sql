-- Staging table for one transaction's comments (COPY target); emptied on commit.
CREATE TEMP TABLE IF NOT EXISTS stage_comments (
    github_id             bigint,
    pr_github_id          bigint,
    issue_github_id       bigint,
    author_github_id      bigint,
    body                  text,
    comment_type          text,
    in_reply_to_github_id bigint,
    position              integer,
    original_position     integer,
    diff_hunk             text,
    path                  text,
    commit_id             text,
    original_commit_id    text,
    review_github_id      bigint,
    created_at            timestamptz,
    updated_at            timestamptz
) ON COMMIT DELETE ROWS

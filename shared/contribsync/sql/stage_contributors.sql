-- Staging table for one transaction's contributors (COPY target); emptied on commit.
CREATE TEMP TABLE IF NOT EXISTS stage_contributors (
    github_id    bigint,
    username     text,
    display_name text,
    avatar_url   text,
    email        text,
    company      text,
    location     text,
    is_bot       boolean,
    bio          text,
    blog         text,
    github_created_at timestamptz,
    node_id      text,
    seen_at      timestamptz
) ON COMMIT DELETE ROWS

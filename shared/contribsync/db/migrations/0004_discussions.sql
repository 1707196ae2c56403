-- discussions and discussion_comments (contributor.info's supabase/migrations).
-- Differences, on purpose:
-- * github_id is GraphQL's databaseId (bigint, unique); contributor.info wrote the discussion
--   number there. `number` has its own column.
-- * summary, summary_content_hash and summary_generated_at exist: the job writes a summary that no
--   migration of the original had, and the hash lets a summary be regenerated only on change.

CREATE TABLE IF NOT EXISTS discussions (
    id                     varchar PRIMARY KEY,       -- GraphQL node id
    github_id              bigint      UNIQUE,
    repository_id          uuid        NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    number                 integer     NOT NULL,
    title                  text        NOT NULL,
    body                   text,
    url                    text        NOT NULL,
    category_id            text,
    category_name          text,
    category_description   text,
    category_emoji         text,
    author_id              bigint,                    -- GitHub databaseId of the author, as in contributor.info
    author_login           text,
    is_answered            boolean     NOT NULL DEFAULT false,
    answer_id              text,
    answer_chosen_at       timestamptz,
    answer_chosen_by       text,
    upvote_count           integer     NOT NULL DEFAULT 0,
    comment_count          integer     NOT NULL DEFAULT 0,
    locked                 boolean     NOT NULL DEFAULT false,
    created_at             timestamptz NOT NULL,
    updated_at             timestamptz NOT NULL,
    summary                text,
    summary_content_hash   text,
    summary_generated_at   timestamptz,
    embedding              vector(384),
    embedding_generated_at timestamptz,
    content_hash           text,
    last_synced_at         timestamptz,
    UNIQUE (repository_id, number)
);
CREATE INDEX IF NOT EXISTS discussions_repository_updated_idx ON discussions (repository_id, updated_at DESC);

CREATE TABLE IF NOT EXISTS discussion_comments (
    id            varchar PRIMARY KEY,
    discussion_id varchar     NOT NULL REFERENCES discussions (id) ON DELETE CASCADE,
    github_id     bigint      UNIQUE,
    parent_id     varchar,
    author_id     bigint,
    author_login  text,
    body          text,
    is_answer     boolean     NOT NULL DEFAULT false,
    upvote_count  integer     NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);

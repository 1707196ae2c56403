-- pull_requests, issues, reviews and comments (contributor.info's supabase/migrations).
-- Differences, on purpose:
-- * pull_requests.state accepts `merged` (the jobs write it; the original CHECK allowed open|closed).
-- * no length CHECKs on bodies and diff hunks: GitHub allows 65,536-character bodies and the
--   originals' 10,000 / 1,000 limits forced silent truncation.
-- * issues.author_id may be null (contributor.info stores issues without an author too).

CREATE TABLE IF NOT EXISTS pull_requests (
    id                     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    github_id              bigint      NOT NULL UNIQUE,
    repository_id          uuid        NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    repository_full_name   text        NOT NULL,
    number                 integer     NOT NULL,
    title                  text        NOT NULL CHECK (char_length(title) <= 1024),
    body                   text,
    state                  text        NOT NULL CHECK (state IN ('open', 'closed', 'merged')),
    draft                  boolean     NOT NULL DEFAULT false,
    mergeable              boolean,
    mergeable_state        text,
    merged                 boolean     NOT NULL DEFAULT false,
    merged_by_id           uuid        REFERENCES contributors (id),
    author_id              uuid        NOT NULL REFERENCES contributors (id),
    base_branch            text        NOT NULL,
    head_branch            text        NOT NULL,
    created_at             timestamptz NOT NULL,
    updated_at             timestamptz NOT NULL,
    merged_at              timestamptz,
    closed_at              timestamptz,
    additions              integer     NOT NULL DEFAULT 0,
    deletions              integer     NOT NULL DEFAULT 0,
    changed_files          integer     NOT NULL DEFAULT 0,
    commits                integer     NOT NULL DEFAULT 0,
    html_url               text,
    last_synced_at         timestamptz,
    embedding              vector(384),
    embedding_generated_at timestamptz,
    content_hash           text,
    inserted_at            timestamptz NOT NULL DEFAULT now(),
    UNIQUE (repository_id, number),
    CHECK (created_at <= updated_at),
    CHECK (NOT merged OR merged_at IS NOT NULL),
    CHECK (state = 'open' OR closed_at IS NOT NULL)
);
CREATE INDEX IF NOT EXISTS pull_requests_repository_updated_idx ON pull_requests (repository_id, updated_at DESC);
CREATE INDEX IF NOT EXISTS pull_requests_repository_created_idx ON pull_requests (repository_id, created_at DESC);
CREATE INDEX IF NOT EXISTS pull_requests_author_idx ON pull_requests (author_id);

CREATE TABLE IF NOT EXISTS issues (
    id                     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    github_id              bigint      NOT NULL UNIQUE,
    repository_id          uuid        NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    number                 integer     NOT NULL,
    title                  text        NOT NULL,
    body                   text,
    state                  text        NOT NULL CHECK (state IN ('open', 'closed')),
    state_reason           text,
    author_id              uuid        REFERENCES contributors (id),
    closed_by_id           uuid        REFERENCES contributors (id),
    created_at             timestamptz NOT NULL,
    updated_at             timestamptz NOT NULL,
    closed_at              timestamptz,
    labels                 jsonb       NOT NULL DEFAULT '[]'::jsonb,
    assignees              jsonb       NOT NULL DEFAULT '[]'::jsonb,
    milestone              jsonb,
    comments_count         integer     NOT NULL DEFAULT 0,
    locked                 boolean     NOT NULL DEFAULT false,
    linked_pr_id           uuid        REFERENCES pull_requests (id) ON DELETE SET NULL,
    html_url               text,
    last_synced_at         timestamptz,
    embedding              vector(384),
    embedding_generated_at timestamptz,
    content_hash           text,
    UNIQUE (repository_id, number)
);
CREATE INDEX IF NOT EXISTS issues_repository_updated_idx ON issues (repository_id, updated_at DESC);

CREATE TABLE IF NOT EXISTS reviews (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    github_id       bigint      NOT NULL UNIQUE,
    pull_request_id uuid        NOT NULL REFERENCES pull_requests (id) ON DELETE CASCADE,
    repository_id   uuid        NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    author_id       uuid        NOT NULL REFERENCES contributors (id),
    reviewer_id     uuid        REFERENCES contributors (id),   -- legacy name of author_id
    state           text        NOT NULL
                        CHECK (state IN ('PENDING', 'APPROVED', 'CHANGES_REQUESTED', 'COMMENTED', 'DISMISSED')),
    body            text,
    submitted_at    timestamptz,
    commit_id       text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS reviews_pull_request_idx ON reviews (pull_request_id);

CREATE TABLE IF NOT EXISTS comments (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    github_id          bigint      NOT NULL UNIQUE,
    repository_id      uuid        NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    pull_request_id    uuid        REFERENCES pull_requests (id) ON DELETE CASCADE,
    issue_id           uuid        REFERENCES issues (id) ON DELETE CASCADE,
    commenter_id       uuid        NOT NULL REFERENCES contributors (id),
    body               text        NOT NULL CHECK (char_length(body) >= 1),
    comment_type       text        NOT NULL CHECK (comment_type IN ('issue_comment', 'review_comment')),
    in_reply_to_id     uuid        REFERENCES comments (id) ON DELETE SET NULL,
    position           integer     CHECK (position > 0),
    original_position  integer,
    diff_hunk          text,
    path               text,
    commit_id          text,
    original_commit_id text,
    review_id          uuid        REFERENCES reviews (id) ON DELETE SET NULL,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    CHECK ((pull_request_id IS NULL) <> (issue_id IS NULL))
);
CREATE INDEX IF NOT EXISTS comments_pull_request_idx ON comments (pull_request_id);
CREATE INDEX IF NOT EXISTS comments_issue_idx ON comments (issue_id);

-- The views pr_comments and issue_comments are contributor.info's, with their joined columns: 0022.

-- repositories and contributors, as contributor.info has them (its supabase/migrations).
-- Differences, on purpose:
-- * contributors.username accepts bot logins (`dependabot[bot]`) and GitHub Enterprise's `_`:
--   contributor.info's CHECK `^[a-zA-Z0-9-]+$` rejected them (§7.4).
-- * rows are keyed on GitHub ids (github_id UNIQUE NOT NULL): renames keep the same row.

CREATE TABLE IF NOT EXISTS repositories (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    github_id             bigint      NOT NULL UNIQUE,
    full_name             text        NOT NULL UNIQUE,
    owner                 text        NOT NULL,
    name                  text        NOT NULL,
    description           text,
    homepage              text,
    language              text,
    topics                text[]      NOT NULL DEFAULT '{}',
    license               text,
    default_branch        text,
    stargazers_count      integer     NOT NULL DEFAULT 0,
    watchers_count        integer     NOT NULL DEFAULT 0,
    forks_count           integer     NOT NULL DEFAULT 0,
    open_issues_count     integer     NOT NULL DEFAULT 0,
    size                  integer,
    pull_request_count    integer     NOT NULL DEFAULT 0,
    is_fork               boolean     NOT NULL DEFAULT false,
    is_archived           boolean     NOT NULL DEFAULT false,
    is_disabled           boolean     NOT NULL DEFAULT false,
    is_private            boolean     NOT NULL DEFAULT false,
    is_active             boolean     NOT NULL DEFAULT true,
    has_issues            boolean     NOT NULL DEFAULT true,
    has_projects          boolean     NOT NULL DEFAULT false,
    has_wiki              boolean     NOT NULL DEFAULT false,
    has_pages             boolean     NOT NULL DEFAULT false,
    has_downloads         boolean     NOT NULL DEFAULT false,
    has_discussions       boolean     NOT NULL DEFAULT false,
    github_created_at     timestamptz,
    github_updated_at     timestamptz,
    github_pushed_at      timestamptz,
    first_tracked_at      timestamptz NOT NULL DEFAULT now(),
    last_updated_at       timestamptz,            -- the sync cooldown clock; only syncs move it (§7.7)
    last_synced_at        timestamptz,
    last_webhook_event_at timestamptz,
    ai_summary            text,
    summary_generated_at  timestamptz,
    recent_activity_hash  text,
    embedding             vector(384),
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    UNIQUE (owner, name)
);

CREATE TABLE IF NOT EXISTS contributors (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    github_id         bigint      NOT NULL UNIQUE,
    username          text        NOT NULL UNIQUE
                          CHECK (username ~ '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}(\[bot\])?$'),
    display_name      text,
    avatar_url        text,
    profile_url       text,
    email             text,
    company           text,
    location          text,
    bio               text,
    blog              text,
    public_repos      integer,
    public_gists      integer,
    followers         integer,
    following         integer,
    github_created_at timestamptz,
    is_bot            boolean     NOT NULL DEFAULT false,
    is_active         boolean     NOT NULL DEFAULT true,
    first_seen_at     timestamptz NOT NULL DEFAULT now(),
    last_updated_at   timestamptz NOT NULL DEFAULT now(),
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);

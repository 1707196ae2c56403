-- The columns contribsync's jobs write that contributor.info's tables lack. On an empty database the
-- earlier migrations created them with their tables; on a contributor.info database those tables were
-- already there, so they are added here, each with the definition it has in those migrations. Only
-- additions: a NOT NULL column comes with its default, so existing rows stay valid (a timestamp column
-- takes the migration's time on rows that were already there).
ALTER TABLE repositories ADD COLUMN IF NOT EXISTS created_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE repositories ADD COLUMN IF NOT EXISTS updated_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE contributors ADD COLUMN IF NOT EXISTS created_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE contributors ADD COLUMN IF NOT EXISTS updated_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE pull_requests ADD COLUMN IF NOT EXISTS inserted_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE reviews ADD COLUMN IF NOT EXISTS created_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE reviews ADD COLUMN IF NOT EXISTS updated_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE comments ADD COLUMN IF NOT EXISTS review_id uuid REFERENCES reviews (id) ON DELETE SET NULL;
ALTER TABLE issues ADD COLUMN IF NOT EXISTS html_url text;
ALTER TABLE issues ADD COLUMN IF NOT EXISTS last_synced_at timestamptz;
ALTER TABLE issues ADD COLUMN IF NOT EXISTS locked boolean NOT NULL DEFAULT false;
ALTER TABLE issues ADD COLUMN IF NOT EXISTS state_reason text;
ALTER TABLE discussions ADD COLUMN IF NOT EXISTS last_synced_at timestamptz;
ALTER TABLE discussions ADD COLUMN IF NOT EXISTS summary text;
ALTER TABLE discussions ADD COLUMN IF NOT EXISTS summary_content_hash text;
ALTER TABLE discussions ADD COLUMN IF NOT EXISTS summary_generated_at timestamptz;
ALTER TABLE discussion_comments ADD COLUMN IF NOT EXISTS parent_id varchar;
ALTER TABLE tracked_repositories ADD COLUMN IF NOT EXISTS added_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE tracked_repositories ADD COLUMN IF NOT EXISTS priority_score integer;
ALTER TABLE workspaces ADD COLUMN IF NOT EXISTS total_repositories integer NOT NULL DEFAULT 0;
ALTER TABLE workspaces ADD COLUMN IF NOT EXISTS total_contributors integer NOT NULL DEFAULT 0;
ALTER TABLE workspaces ADD COLUMN IF NOT EXISTS total_pull_requests integer NOT NULL DEFAULT 0;
ALTER TABLE workspaces ADD COLUMN IF NOT EXISTS total_issues integer NOT NULL DEFAULT 0;
ALTER TABLE embedding_jobs ADD COLUMN IF NOT EXISTS workspace_id uuid REFERENCES workspaces (id) ON DELETE CASCADE;
ALTER TABLE embedding_jobs ADD COLUMN IF NOT EXISTS model text;
ALTER TABLE embedding_jobs ADD COLUMN IF NOT EXISTS tokens_used bigint NOT NULL DEFAULT 0;
ALTER TABLE embedding_jobs ADD COLUMN IF NOT EXISTS cost_usd numeric NOT NULL DEFAULT 0;

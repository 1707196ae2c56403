-- GitHub events cache, embedding jobs, similarity cache, vector indexes and the embeddings priority
-- view (contributor.info's migrations). contributor.info partitions github_events_cache by month; it is
-- a plain table here until volumes call for partitioning.

CREATE TABLE IF NOT EXISTS github_events_cache (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    event_id         text        NOT NULL UNIQUE,
    event_type       text        NOT NULL,
    actor_login      text,
    repository_owner text,
    repository_name  text,
    payload          jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_at       timestamptz NOT NULL,
    processed        boolean     NOT NULL DEFAULT false,
    processed_at     timestamptz,
    is_privileged    boolean     NOT NULL DEFAULT false
);
CREATE INDEX IF NOT EXISTS github_events_cache_repo_idx
    ON github_events_cache (repository_owner, repository_name, created_at DESC);

CREATE TABLE IF NOT EXISTS embedding_jobs (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    repository_id   uuid        REFERENCES repositories (id) ON DELETE CASCADE,
    workspace_id    uuid        REFERENCES workspaces (id) ON DELETE CASCADE,
    status          text        NOT NULL DEFAULT 'pending'
                        CHECK (status IN ('pending', 'processing', 'completed', 'failed')),
    model           text,
    items_total     integer     NOT NULL DEFAULT 0,
    items_processed integer     NOT NULL DEFAULT 0,
    tokens_used     bigint      NOT NULL DEFAULT 0,
    cost_usd        numeric     NOT NULL DEFAULT 0,
    error_message   text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    started_at      timestamptz,
    completed_at    timestamptz
);

CREATE TABLE IF NOT EXISTS similarity_cache (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    repository_id uuid        NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    item_type     text        NOT NULL CHECK (item_type IN ('issue', 'pull_request', 'discussion')),
    item_id       text        NOT NULL,
    embedding     vector(384),
    content_hash  text,
    ttl_hours     integer     NOT NULL DEFAULT 168,
    created_at    timestamptz NOT NULL DEFAULT now(),
    accessed_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (repository_id, item_type, item_id)
);

CREATE INDEX IF NOT EXISTS issues_embedding_hnsw ON issues USING hnsw (embedding vector_cosine_ops);
CREATE INDEX IF NOT EXISTS pull_requests_embedding_hnsw ON pull_requests USING hnsw (embedding vector_cosine_ops);
CREATE INDEX IF NOT EXISTS discussions_embedding_hnsw ON discussions USING hnsw (embedding vector_cosine_ops);

-- Items of active workspaces' repositories that need an embedding: none yet, or older than the
-- item. Issues score 3, PRs and discussions 2; newest first; 200 at a time (as contributor.info).
CREATE OR REPLACE VIEW items_needing_embeddings_priority AS
WITH workspace_repos AS (
    SELECT DISTINCT wr.repository_id
      FROM workspace_repositories wr
      JOIN workspaces w ON w.id = wr.workspace_id
     WHERE w.is_active
)
SELECT item_type, id, repository_id, title, body, created_at, updated_at, embedding_generated_at,
       content_hash, priority_score
  FROM (
    SELECT 'issue'::text AS item_type, i.id::text AS id, i.repository_id, i.title, i.body, i.created_at,
           i.updated_at, i.embedding_generated_at, i.content_hash, 3 AS priority_score
      FROM issues i
     WHERE i.repository_id IN (SELECT repository_id FROM workspace_repos)
       AND (i.embedding IS NULL OR i.embedding_generated_at < i.updated_at)
    UNION ALL
    SELECT 'pull_request', p.id::text, p.repository_id, p.title, p.body, p.created_at, p.updated_at,
           p.embedding_generated_at, p.content_hash, 2
      FROM pull_requests p
     WHERE p.repository_id IN (SELECT repository_id FROM workspace_repos)
       AND (p.embedding IS NULL OR p.embedding_generated_at < p.updated_at)
    UNION ALL
    SELECT 'discussion', d.id, d.repository_id, d.title, d.body, d.created_at, d.updated_at,
           d.embedding_generated_at, d.content_hash, 2
      FROM discussions d
     WHERE d.repository_id IN (SELECT repository_id FROM workspace_repos)
       AND (d.embedding IS NULL OR d.embedding_generated_at < d.updated_at)
  ) items
 ORDER BY priority_score DESC, updated_at DESC
 LIMIT 200;

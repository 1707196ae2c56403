-- Items that need an embedding from %(model)s, in priority order: the items of active workspaces'
-- repositories first, then issues, pull requests, discussions, newest update first. An item is fresh
-- when it has a vector from this model made at or after its last update from the same text
-- (contribsync_content_hash); forcing also selects fresh ones not re-embedded since %(force_before)s. Scope: one workspace, one
-- repository, or (both null) everything. `unchanged` rows only need their time moved, not the API.
WITH scope AS (
    SELECT r.id AS repository_id,
           EXISTS (SELECT 1 FROM workspace_repositories wr JOIN workspaces w ON w.id = wr.workspace_id
                    WHERE wr.repository_id = r.id AND w.is_active) AS in_workspace
      FROM repositories r
     WHERE (%(repository_id)s::uuid IS NULL OR r.id = %(repository_id)s::uuid)
       AND (%(workspace_id)s::uuid IS NULL
            OR r.id IN (SELECT repository_id FROM workspace_repositories WHERE workspace_id = %(workspace_id)s::uuid))
),
items AS (
    SELECT 'issue' AS item_type, 1 AS type_rank, i.id::text AS id, i.repository_id, i.title, i.body,
           i.updated_at, i.embedding_generated_at, i.content_hash, i.embedding_model, i.embedding IS NOT NULL AS embedded
      FROM issues i JOIN scope USING (repository_id)
    UNION ALL
    SELECT 'pull_request', 2, p.id::text, p.repository_id, p.title, p.body, p.updated_at, p.embedding_generated_at,
           p.content_hash, p.embedding_model, p.embedding IS NOT NULL
      FROM pull_requests p JOIN scope USING (repository_id)
    UNION ALL
    SELECT 'discussion', 3, d.id, d.repository_id, d.title, d.body, d.updated_at, d.embedding_generated_at,
           d.content_hash, d.embedding_model, d.embedding IS NOT NULL
      FROM discussions d JOIN scope USING (repository_id)
     -- not where discussions.embedding is contributor.info's vector(1536): 384-dimension vectors do not fit
     -- it, and its own similarity functions compare it with 384-dimension queries (README)
     WHERE (SELECT a.atttypmod FROM pg_attribute a
             WHERE a.attrelid = 'discussions'::regclass AND a.attname = 'embedding') = 384
),
hashed AS (
    SELECT it.*, contribsync_content_hash(it.title, it.body) AS hash_now FROM items it
     WHERE %(item_types)s::text[] IS NULL OR it.item_type = ANY(%(item_types)s::text[])
)
SELECT h.item_type, h.id, h.repository_id, h.title, h.body, h.hash_now AS content_hash,
       (h.embedded AND h.embedding_model = %(model)s AND h.content_hash = h.hash_now) AS unchanged
  FROM hashed h JOIN scope s USING (repository_id)
 WHERE (%(force_before)s::timestamptz IS NOT NULL  -- forced: everything not embedded since the run began
        AND (NOT h.embedded OR h.embedding_generated_at IS NULL
             OR h.embedding_generated_at < %(force_before)s::timestamptz))
    OR NOT coalesce(h.embedded AND h.embedding_model IS NOT DISTINCT FROM %(model)s  -- a null is not fresh
                    AND h.embedding_generated_at >= h.updated_at AND h.content_hash = h.hash_now, false)
 ORDER BY s.in_workspace DESC, h.type_rank, h.updated_at DESC, h.id
 LIMIT %(limit)s

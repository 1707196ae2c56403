-- How many items of a workspace (or repository, or everything) have a fresh vector from %(model)s.
WITH scope AS (
    SELECT r.id AS repository_id FROM repositories r
     WHERE (%(repository_id)s::uuid IS NULL OR r.id = %(repository_id)s::uuid)
       AND (%(workspace_id)s::uuid IS NULL
            OR r.id IN (SELECT repository_id FROM workspace_repositories WHERE workspace_id = %(workspace_id)s::uuid))
),
items AS (
    SELECT 'issue' AS item_type, embedding IS NOT NULL AND embedding_model = %(model)s
               AND embedding_generated_at >= updated_at AND content_hash = contribsync_content_hash(title, body) AS fresh
      FROM issues JOIN scope USING (repository_id)
    UNION ALL
    SELECT 'pull_request', embedding IS NOT NULL AND embedding_model = %(model)s
               AND embedding_generated_at >= updated_at AND content_hash = contribsync_content_hash(title, body)
      FROM pull_requests JOIN scope USING (repository_id)
    UNION ALL
    SELECT 'discussion', embedding IS NOT NULL AND embedding_model = %(model)s
               AND embedding_generated_at >= updated_at AND content_hash = contribsync_content_hash(title, body)
      FROM discussions JOIN scope USING (repository_id)
)
SELECT item_type, count(*) AS items, count(*) FILTER (WHERE fresh) AS fresh FROM items GROUP BY item_type

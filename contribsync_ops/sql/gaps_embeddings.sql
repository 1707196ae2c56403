-- contribsync gaps: issues, pull requests and discussions of %(repository_ids)s without a fresh vector of
-- %(model)s, by the rule of embeddings_coverage.sql: a vector of the model, made at or after the item's last
-- update, from the same text (contribsync_content_hash). Counts per type, how many have no vector at all,
-- and the first %(cap)s numbers, newest update first.
WITH items AS (
    SELECT 'issue' AS item_type, repository_id, number, updated_at, embedding IS NOT NULL AS embedded,
           embedding IS NOT NULL AND embedding_model = %(model)s::text AND embedding_generated_at >= updated_at
               AND content_hash = contribsync_content_hash(title, body) AS fresh
      FROM issues WHERE repository_id = ANY(%(repository_ids)s::uuid[])
    UNION ALL
    SELECT 'pull_request', repository_id, number, updated_at, embedding IS NOT NULL,
           embedding IS NOT NULL AND embedding_model = %(model)s::text AND embedding_generated_at >= updated_at
               AND content_hash = contribsync_content_hash(title, body)
      FROM pull_requests WHERE repository_id = ANY(%(repository_ids)s::uuid[])
    UNION ALL
    SELECT 'discussion', repository_id, number, updated_at, embedding IS NOT NULL,
           embedding IS NOT NULL AND embedding_model = %(model)s::text AND embedding_generated_at >= updated_at
               AND content_hash = contribsync_content_hash(title, body)
      FROM discussions WHERE repository_id = ANY(%(repository_ids)s::uuid[])
)
SELECT repository_id, count(*)::integer AS count,
       count(*) FILTER (WHERE NOT embedded)::integer AS missing,
       count(*) FILTER (WHERE item_type = 'issue')::integer AS issues,
       count(*) FILTER (WHERE item_type = 'pull_request')::integer AS pull_requests,
       count(*) FILTER (WHERE item_type = 'discussion')::integer AS discussions,
       (array_agg(number ORDER BY updated_at DESC, number DESC))[1:%(cap)s::integer] AS numbers
  FROM items
 WHERE NOT coalesce(fresh, false)
 GROUP BY repository_id

-- Store a batch of vectors (jsonb rows {item_type, id, embedding: "[...]", content_hash}) with the model
-- that made them. The time is never before the item's own updated_at, so a clock behind GitHub's
-- cannot leave an item stale for ever. One row back per stored item. Each stored vector also goes to
-- contributor.info's similarity_cache (its compute-embeddings writes one entry per item, kept 168 hours).
WITH batch AS (
    SELECT * FROM jsonb_to_recordset(%(rows)s::jsonb)
        AS r (item_type text, id text, embedding text, content_hash text)
),
i AS (
    UPDATE issues t SET embedding = b.embedding::vector, content_hash = b.content_hash, embedding_model = %(model)s,
                        embedding_generated_at = greatest(%(now)s::timestamptz, t.updated_at)
      FROM batch b WHERE b.item_type = 'issue' AND t.id = b.id::uuid
    RETURNING t.id::text, t.repository_id, 'issue' AS item_type
),
p AS (
    UPDATE pull_requests t SET embedding = b.embedding::vector, content_hash = b.content_hash,
                               embedding_model = %(model)s,
                               embedding_generated_at = greatest(%(now)s::timestamptz, t.updated_at)
      FROM batch b WHERE b.item_type = 'pull_request' AND t.id = b.id::uuid
    RETURNING t.id::text, t.repository_id, 'pull_request' AS item_type
),
d AS (
    UPDATE discussions t SET embedding = b.embedding::vector, content_hash = b.content_hash,
                             embedding_model = %(model)s,
                             embedding_generated_at = greatest(%(now)s::timestamptz, t.updated_at)
      FROM batch b WHERE b.item_type = 'discussion' AND t.id = b.id
    RETURNING t.id::text, t.repository_id, 'discussion' AS item_type
),
stored AS (
    SELECT * FROM i UNION ALL SELECT * FROM p UNION ALL SELECT * FROM d
),
cached AS (
    INSERT INTO similarity_cache (repository_id, item_type, item_id, embedding, content_hash, ttl_hours)
    SELECT s.repository_id, s.item_type, s.id, b.embedding::vector, b.content_hash, 168
      FROM stored s JOIN batch b ON b.item_type = s.item_type AND b.id = s.id
     WHERE s.repository_id IS NOT NULL
    ON CONFLICT (repository_id, item_type, item_id) DO UPDATE
       SET embedding = EXCLUDED.embedding, content_hash = EXCLUDED.content_hash, ttl_hours = EXCLUDED.ttl_hours,
           created_at = now()
)
SELECT id FROM stored

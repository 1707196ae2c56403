-- Store a batch of vectors (jsonb rows {item_type, id, embedding: "[...]", content_hash}) with the model
-- that made them. The time is never before the item's own updated_at, so a clock behind GitHub's
-- cannot leave an item stale for ever. One row back per stored item.
WITH batch AS (
    SELECT * FROM jsonb_to_recordset(%(rows)s::jsonb)
        AS r (item_type text, id text, embedding text, content_hash text)
),
i AS (
    UPDATE issues t SET embedding = b.embedding::vector, content_hash = b.content_hash, embedding_model = %(model)s,
                        embedding_generated_at = greatest(%(now)s::timestamptz, t.updated_at)
      FROM batch b WHERE b.item_type = 'issue' AND t.id = b.id::uuid
    RETURNING t.id::text
),
p AS (
    UPDATE pull_requests t SET embedding = b.embedding::vector, content_hash = b.content_hash,
                               embedding_model = %(model)s,
                               embedding_generated_at = greatest(%(now)s::timestamptz, t.updated_at)
      FROM batch b WHERE b.item_type = 'pull_request' AND t.id = b.id::uuid
    RETURNING t.id::text
),
d AS (
    UPDATE discussions t SET embedding = b.embedding::vector, content_hash = b.content_hash,
                             embedding_model = %(model)s,
                             embedding_generated_at = greatest(%(now)s::timestamptz, t.updated_at)
      FROM batch b WHERE b.item_type = 'discussion' AND t.id = b.id
    RETURNING t.id
)
SELECT id FROM i UNION ALL SELECT id FROM p UNION ALL SELECT id FROM d

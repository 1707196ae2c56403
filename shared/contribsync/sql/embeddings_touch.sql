-- Items whose text did not change since their vector was made (an update that touched only labels,
-- state...): the vector stands, only its time moves. No API call, no cost.
WITH batch AS (SELECT * FROM jsonb_to_recordset(%(rows)s::jsonb) AS r (item_type text, id text)),
i AS (
    UPDATE issues t SET embedding_generated_at = greatest(%(now)s::timestamptz, t.updated_at)
      FROM batch b WHERE b.item_type = 'issue' AND t.id = b.id::uuid RETURNING t.id::text
),
p AS (
    UPDATE pull_requests t SET embedding_generated_at = greatest(%(now)s::timestamptz, t.updated_at)
      FROM batch b WHERE b.item_type = 'pull_request' AND t.id = b.id::uuid RETURNING t.id::text
),
d AS (
    UPDATE discussions t SET embedding_generated_at = greatest(%(now)s::timestamptz, t.updated_at)
      FROM batch b WHERE b.item_type = 'discussion' AND t.id = b.id RETURNING t.id
)
SELECT id FROM i UNION ALL SELECT id FROM p UNION ALL SELECT id FROM d

-- The items nearest to %(vector)s by cosine distance among vectors of the same model, in one repository
-- (or every one when %(repository_id)s is null), the item itself left out. score = 1 - distance.
WITH q AS (SELECT %(vector)s::vector AS v),
candidates AS (
    (SELECT 'issue' AS item_type, i.id::text AS id, i.repository_id, i.number, i.title, i.state,
            i.embedding <=> q.v AS distance
       FROM issues i, q
      WHERE i.embedding IS NOT NULL AND i.embedding_model = %(model)s
        AND (%(repository_id)s::uuid IS NULL OR i.repository_id = %(repository_id)s::uuid)
        AND i.id::text <> %(exclude)s
      ORDER BY i.embedding <=> q.v LIMIT %(limit)s)
    UNION ALL
    (SELECT 'pull_request', p.id::text, p.repository_id, p.number, p.title, p.state, p.embedding <=> q.v
       FROM pull_requests p, q
      WHERE p.embedding IS NOT NULL AND p.embedding_model = %(model)s
        AND (%(repository_id)s::uuid IS NULL OR p.repository_id = %(repository_id)s::uuid)
        AND p.id::text <> %(exclude)s
      ORDER BY p.embedding <=> q.v LIMIT %(limit)s)
    UNION ALL
    (SELECT 'discussion', d.id, d.repository_id, d.number, d.title, CASE WHEN d.is_answered THEN 'answered' ELSE 'open' END,
            d.embedding <=> q.v
       FROM discussions d, q
      WHERE d.embedding IS NOT NULL AND d.embedding_model = %(model)s
        AND (%(repository_id)s::uuid IS NULL OR d.repository_id = %(repository_id)s::uuid)
        AND d.id <> %(exclude)s
      ORDER BY d.embedding <=> q.v LIMIT %(limit)s)
)
SELECT c.item_type, c.id, c.number, c.title, c.state, r.full_name, round((1 - c.distance)::numeric, 4) AS score
  FROM candidates c JOIN repositories r ON r.id = c.repository_id
 ORDER BY c.distance, c.item_type, c.number
 LIMIT %(limit)s

-- An item's stored vector as text, for a similarity query.
SELECT embedding::text AS vector, embedding_model
  FROM (SELECT embedding, embedding_model FROM issues WHERE id::text = %(id)s AND %(item_type)s = 'issue'
        UNION ALL
        SELECT embedding, embedding_model FROM pull_requests WHERE id::text = %(id)s AND %(item_type)s = 'pull_request'
        UNION ALL
        SELECT embedding, embedding_model FROM discussions WHERE id = %(id)s AND %(item_type)s = 'discussion') v
 WHERE embedding IS NOT NULL

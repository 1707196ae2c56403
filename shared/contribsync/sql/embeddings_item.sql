-- An item of a repository by number (issues, pull requests and discussions share GitHub's numbering),
-- with whether it has a vector and from which model.
SELECT item_type, id, repository_id, number, title, body, embedding IS NOT NULL AS embedded, embedding_model
  FROM (SELECT 'issue' AS item_type, id::text AS id, repository_id, number, title, body, embedding, embedding_model
          FROM issues WHERE repository_id = %(repository_id)s AND number = %(number)s
        UNION ALL
        SELECT 'pull_request', id::text, repository_id, number, title, body, embedding, embedding_model
          FROM pull_requests WHERE repository_id = %(repository_id)s AND number = %(number)s
        UNION ALL
        SELECT 'discussion', id, repository_id, number, title, body, embedding, embedding_model
          FROM discussions WHERE repository_id = %(repository_id)s AND number = %(number)s) items
 LIMIT 1

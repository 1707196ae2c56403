-- update/pr.activity: a repository's pull requests open or updated since %(since)s (newest update first,
-- at most 100), with what is stored about them and when their details were last captured.
SELECT p.number, p.state, p.updated_at,
       EXISTS (SELECT 1 FROM reviews r WHERE r.pull_request_id = p.id)  AS has_reviews,
       EXISTS (SELECT 1 FROM comments c WHERE c.pull_request_id = p.id) AS has_comments,
       (SELECT max(l.completed_at) FROM sync_logs l
         WHERE l.repository_id = p.repository_id AND l.sync_type = 'pr_details' AND l.status = 'completed'
           AND l.metadata ->> 'prNumber' = p.number::text)              AS details_at
  FROM pull_requests p
 WHERE p.repository_id = %(repository_id)s::uuid
   AND (p.state = 'open' OR p.updated_at >= %(since)s::timestamptz)
 ORDER BY p.updated_at DESC
 LIMIT 100

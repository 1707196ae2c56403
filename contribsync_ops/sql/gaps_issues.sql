-- contribsync gaps: issues of %(repository_ids)s with fewer comments stored than GitHub's own count
-- (comments_count) and no completed capture/issue.comments since their last update, and issues with no
-- author; newest update first, the first %(cap)s numbers of each, and the oldest update of an authorless one
-- (how far back a re-sync must read).
WITH stored AS (
    SELECT c.issue_id, count(*) AS n
      FROM comments c
     WHERE c.repository_id = ANY(%(repository_ids)s::uuid[]) AND c.issue_id IS NOT NULL
     GROUP BY c.issue_id
),
fetched AS (
    SELECT l.repository_id, l.metadata ->> 'issueNumber' AS number, max(l.completed_at) AS at
      FROM sync_logs l
     WHERE l.repository_id = ANY(%(repository_ids)s::uuid[]) AND l.sync_type = 'issue_comments'
       AND l.status = 'completed'
     GROUP BY 1, 2
),
flagged AS (
    SELECT i.repository_id, i.number, i.updated_at,
           (i.comments_count > coalesce(s.n, 0) AND (f.at IS NULL OR f.at < i.updated_at)) AS no_comments,
           i.author_id IS NULL AS no_author
      FROM issues i
      LEFT JOIN stored s ON s.issue_id = i.id
      LEFT JOIN fetched f ON f.repository_id = i.repository_id AND f.number = i.number::text
     WHERE i.repository_id = ANY(%(repository_ids)s::uuid[])
)
SELECT repository_id,
       count(*) FILTER (WHERE no_comments)::integer AS comments_count,
       (array_agg(number ORDER BY updated_at DESC, number DESC) FILTER (WHERE no_comments))[1:%(cap)s::integer]
           AS comments_numbers,
       count(*) FILTER (WHERE no_author)::integer AS authors_count,
       (array_agg(number ORDER BY updated_at DESC, number DESC) FILTER (WHERE no_author))[1:%(cap)s::integer]
           AS authors_numbers,
       min(updated_at) FILTER (WHERE no_author) AS authors_since
  FROM flagged
 WHERE no_comments OR no_author
 GROUP BY repository_id

-- contribsync gaps: pull requests of %(repository_ids)s missing their details or their reviews and comments,
-- newest update first, the first %(cap)s numbers of each. A completed capture/pr.details run since the PR's
-- last update settles both questions (GitHub was asked), so it never counts again until the PR changes.
-- * details: no additions, deletions or changed files, unless it is a draft with no commits (nothing to count);
-- * activity: contributor.info's update/pr.activity heuristic, as GitHub's review and comment counts are not
--   stored: closed or merged with no stored review and no comment; except when the enhanced sync's
--   watermark covers its last update, as that sync read its reviews and comments nested.
WITH detailed AS (
    SELECT l.repository_id, l.metadata ->> 'prNumber' AS number, max(l.completed_at) AS at
      FROM sync_logs l
     WHERE l.repository_id = ANY(%(repository_ids)s::uuid[]) AND l.sync_type = 'pr_details'
       AND l.status = 'completed'
     GROUP BY 1, 2
),
prs AS (
    SELECT p.repository_id, p.number, p.updated_at,
           (p.additions = 0 AND p.deletions = 0 AND p.changed_files = 0
            AND NOT (p.draft AND p.commits = 0)) AS no_details,
           (p.state <> 'open'
            AND (r.prs_synced_through IS NULL OR p.updated_at > r.prs_synced_through)
            AND NOT EXISTS (SELECT 1 FROM reviews v WHERE v.pull_request_id = p.id)
            AND NOT EXISTS (SELECT 1 FROM comments c WHERE c.pull_request_id = p.id)) AS no_activity
      FROM pull_requests p
      JOIN repositories r ON r.id = p.repository_id
      LEFT JOIN detailed d ON d.repository_id = p.repository_id AND d.number = p.number::text
     WHERE p.repository_id = ANY(%(repository_ids)s::uuid[])
       AND (d.at IS NULL OR d.at < p.updated_at)
)
SELECT repository_id,
       count(*) FILTER (WHERE no_details)::integer AS details_count,
       (array_agg(number ORDER BY updated_at DESC, number DESC) FILTER (WHERE no_details))[1:%(cap)s::integer]
           AS details_numbers,
       count(*) FILTER (WHERE no_activity)::integer AS activity_count,
       (array_agg(number ORDER BY updated_at DESC, number DESC) FILTER (WHERE no_activity))[1:%(cap)s::integer]
           AS activity_numbers
  FROM prs
 WHERE no_details OR no_activity
 GROUP BY repository_id

-- reviewer_data.reviewers of the pull requests whose reviews this write stored, as contributor.info's
-- sync-pr-reviewers builds it: one entry per submitted review, oldest first ({username, avatar_url,
-- approved, state, submitted_at}; PENDING reviews are not submitted), from the stored reviews. A row
-- whose list is the same is not rewritten.
WITH wanted AS (
    SELECT p.id,
           COALESCE((SELECT jsonb_agg(jsonb_build_object('username', c.username, 'avatar_url', c.avatar_url,
                                                         'approved', r.state = 'APPROVED', 'state', r.state,
                                                         'submitted_at', r.submitted_at)
                                      ORDER BY r.submitted_at, r.github_id)
                       FROM reviews r JOIN contributors c ON c.id = r.author_id
                      WHERE r.pull_request_id = p.id AND r.submitted_at IS NOT NULL),
                    '[]'::jsonb) AS reviewers
      FROM pull_requests p
     WHERE p.github_id = ANY(%(pr_github_ids)s::bigint[])
)
UPDATE pull_requests p
   SET reviewer_data = jsonb_set(COALESCE(p.reviewer_data, '{"requested_reviewers": []}'::jsonb), '{reviewers}',
                                 w.reviewers)
  FROM wanted w
 WHERE p.id = w.id
   AND p.reviewer_data -> 'reviewers' IS DISTINCT FROM w.reviewers

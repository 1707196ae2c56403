-- contributor.info's pull_requests.reviewer_data for the pull requests of one write, as its
-- sync-pr-reviewers builds it: {requested_reviewers: [{username, avatar_url}], reviewers: [{username,
-- avatar_url, approved, state, submitted_at}]}, one reviewer entry per submitted review, oldest first,
-- from the stored reviews (PENDING ones are not submitted). Rows already equal are not rewritten.
WITH wanted AS (
    SELECT p.id,
           jsonb_build_object(
               'requested_reviewers', COALESCE(NULLIF(p.reviewer_data -> 'requested_reviewers', 'null'::jsonb),
                                               '[]'::jsonb),
               'reviewers', COALESCE((SELECT jsonb_agg(jsonb_build_object(
                                                 'username', c.username, 'avatar_url', c.avatar_url,
                                                 'approved', r.state = 'APPROVED', 'state', r.state,
                                                 'submitted_at', r.submitted_at)
                                             ORDER BY r.submitted_at, r.github_id)
                                        FROM reviews r JOIN contributors c ON c.id = r.author_id
                                       WHERE r.pull_request_id = p.id AND r.submitted_at IS NOT NULL),
                                     '[]'::jsonb)) AS data
      FROM pull_requests p
     WHERE p.github_id = ANY(%(pr_github_ids)s::bigint[])
)
UPDATE pull_requests p SET reviewer_data = w.data
  FROM wanted w
 WHERE p.id = w.id AND p.reviewer_data IS DISTINCT FROM w.data

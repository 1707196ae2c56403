-- Staged reviews; pull request and author resolved by GitHub id (a miss fails the NOT NULLs). A dismissal
-- keeps the review's submitted_at, so DISMISSED is final: a late copy of the submission cannot undo it.
INSERT INTO reviews AS r (github_id, pull_request_id, repository_id, author_id, reviewer_id, state, body,
                          submitted_at, commit_id, updated_at)
SELECT s.github_id, p.id, %(repository_id)s::uuid, a.id, a.id, s.state, s.body, s.submitted_at, s.commit_id,
       COALESCE(s.updated_at, s.submitted_at, now())
  FROM (SELECT DISTINCT ON (github_id) * FROM stage_reviews ORDER BY github_id, updated_at DESC NULLS LAST) s
  LEFT JOIN pull_requests p ON p.github_id = s.pr_github_id
  LEFT JOIN contributors a ON a.github_id = s.author_github_id
ON CONFLICT (github_id) DO UPDATE SET
    state        = CASE WHEN r.state = 'DISMISSED' THEN r.state ELSE EXCLUDED.state END,
    body         = EXCLUDED.body,
    submitted_at = EXCLUDED.submitted_at,
    commit_id    = EXCLUDED.commit_id,
    author_id    = EXCLUDED.author_id,
    reviewer_id  = EXCLUDED.reviewer_id,
    updated_at   = EXCLUDED.updated_at
 WHERE r.updated_at <= EXCLUDED.updated_at
RETURNING (xmax = 0) AS inserted

-- reviewer_data.requested_reviewers of the stored pull requests that this write's REST or webhook objects
-- or GraphQL details name (staged rows with a list; GraphQL's list pages carry none), unless the stored
-- row is newer. A row whose list is the same is not rewritten, so a write of unchanged pull requests
-- updates nothing.
UPDATE pull_requests p
   SET reviewer_data = jsonb_set(COALESCE(p.reviewer_data, '{"reviewers": []}'::jsonb), '{requested_reviewers}',
                                 s.requested_reviewers)
  FROM (SELECT DISTINCT ON (github_id) github_id, requested_reviewers, updated_at
          FROM stage_pull_requests
         WHERE requested_reviewers IS NOT NULL
         ORDER BY github_id, updated_at DESC) s
 WHERE p.github_id = s.github_id
   AND p.updated_at <= s.updated_at
   AND p.reviewer_data -> 'requested_reviewers' IS DISTINCT FROM s.requested_reviewers

-- Staged comments on pull requests (issue_comment or review_comment) and issues; parents and authors
-- resolved by GitHub id. in_reply_to_id is resolved when the parent is stored (comments_resolve_replies).
-- Newer rows win (updated_at); deleted comments stay deleted.
INSERT INTO comments AS c (github_id, repository_id, pull_request_id, issue_id, commenter_id, body, comment_type,
                           in_reply_to_github_id, in_reply_to_id, position, original_position, diff_hunk, path,
                           commit_id, original_commit_id, review_id, created_at, updated_at)
SELECT s.github_id, %(repository_id)s::uuid, p.id, i.id, a.id, s.body, s.comment_type, s.in_reply_to_github_id,
       parent.id, s.position, s.original_position, s.diff_hunk, s.path, s.commit_id, s.original_commit_id, r.id,
       s.created_at, s.updated_at
  FROM (SELECT DISTINCT ON (github_id) * FROM stage_comments ORDER BY github_id, updated_at DESC) s
  LEFT JOIN pull_requests p ON p.github_id = s.pr_github_id
  LEFT JOIN issues i ON i.github_id = s.issue_github_id
  LEFT JOIN contributors a ON a.github_id = s.author_github_id
  LEFT JOIN reviews r ON r.github_id = s.review_github_id
  LEFT JOIN comments parent ON parent.github_id = s.in_reply_to_github_id
 WHERE NOT EXISTS (SELECT 1 FROM deleted_github_objects d
                    WHERE d.kind = 'comment' AND d.github_id = s.github_id)
   AND (p.id IS NOT NULL OR i.id IS NOT NULL)  -- its PR or issue is stored (not deleted)
ON CONFLICT (github_id) DO UPDATE SET
    body               = EXCLUDED.body,
    commenter_id       = EXCLUDED.commenter_id,
    position           = EXCLUDED.position,
    original_position  = EXCLUDED.original_position,
    diff_hunk          = EXCLUDED.diff_hunk,
    path               = EXCLUDED.path,
    commit_id          = EXCLUDED.commit_id,
    original_commit_id = EXCLUDED.original_commit_id,
    review_id          = COALESCE(EXCLUDED.review_id, c.review_id),
    in_reply_to_github_id = COALESCE(EXCLUDED.in_reply_to_github_id, c.in_reply_to_github_id),
    in_reply_to_id     = COALESCE(EXCLUDED.in_reply_to_id, c.in_reply_to_id),
    updated_at         = EXCLUDED.updated_at
 WHERE c.updated_at <= EXCLUDED.updated_at
RETURNING (xmax = 0) AS inserted

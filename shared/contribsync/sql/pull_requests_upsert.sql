-- Staged pull requests into one repository. Authors are resolved by GitHub id (a missing one fails
-- the NOT NULL, loudly); a row never replaces a newer one (updated_at). author_login and reviewer_data
-- are contributor.info's denormalised reads (its "My Work"): the author's login, and the requested
-- reviewers of a new row (a stored row's are moved by pull_requests_requested_reviewers, its reviewers by
-- pull_requests_reviewer_data, after this statement).
INSERT INTO pull_requests AS p (github_id, repository_id, repository_full_name, number, title, body, state, draft,
                                mergeable, mergeable_state, merged, merged_by_id, author_id, base_branch,
                                head_branch, created_at, updated_at, merged_at, closed_at, additions, deletions,
                                changed_files, commits, html_url, last_synced_at, author_login, reviewer_data)
SELECT s.github_id, %(repository_id)s::uuid, %(repository_full_name)s::text, s.number, s.title, s.body, s.state, s.draft,
       s.mergeable, s.mergeable_state, s.merged, m.id, a.id, s.base_branch, s.head_branch, s.created_at,
       s.updated_at, s.merged_at, s.closed_at, s.additions, s.deletions, s.changed_files, s.commits, s.html_url,
       now(), a.username,
       jsonb_build_object('requested_reviewers', COALESCE(s.requested_reviewers, '[]'::jsonb), 'reviewers', '[]'::jsonb)
  FROM (SELECT DISTINCT ON (github_id) * FROM stage_pull_requests ORDER BY github_id, updated_at DESC) s
  LEFT JOIN contributors a ON a.github_id = s.author_github_id
  LEFT JOIN contributors m ON m.github_id = s.merged_by_github_id
ON CONFLICT (github_id) DO UPDATE SET
    title           = EXCLUDED.title,
    body            = EXCLUDED.body,
    state           = EXCLUDED.state,
    draft           = EXCLUDED.draft,
    mergeable       = COALESCE(EXCLUDED.mergeable, p.mergeable),
    mergeable_state = COALESCE(EXCLUDED.mergeable_state, p.mergeable_state),
    merged          = EXCLUDED.merged,
    merged_by_id    = COALESCE(EXCLUDED.merged_by_id, p.merged_by_id),
    author_id       = EXCLUDED.author_id,
    base_branch     = EXCLUDED.base_branch,
    head_branch     = EXCLUDED.head_branch,
    updated_at      = EXCLUDED.updated_at,
    merged_at       = EXCLUDED.merged_at,
    closed_at       = EXCLUDED.closed_at,
    additions       = EXCLUDED.additions,
    deletions       = EXCLUDED.deletions,
    changed_files   = EXCLUDED.changed_files,
    commits         = EXCLUDED.commits,
    html_url        = EXCLUDED.html_url,
    last_synced_at  = EXCLUDED.last_synced_at,
    author_login    = EXCLUDED.author_login
 WHERE p.updated_at <= EXCLUDED.updated_at
RETURNING (xmax = 0) AS inserted

-- Staged issues (never pull requests) into one repository; newer rows win (updated_at), deleted ones stay deleted.
INSERT INTO issues AS i (github_id, repository_id, number, title, body, state, state_reason, author_id, created_at,
                         updated_at, closed_at, labels, assignees, milestone, comments_count, locked, html_url,
                         last_synced_at)
SELECT s.github_id, %(repository_id)s::uuid, s.number, s.title, s.body, s.state, s.state_reason, a.id, s.created_at,
       s.updated_at, s.closed_at, s.labels, s.assignees, s.milestone, s.comments_count, s.locked, s.html_url, now()
  FROM (SELECT DISTINCT ON (github_id) * FROM stage_issues ORDER BY github_id, updated_at DESC) s
  LEFT JOIN contributors a ON a.github_id = s.author_github_id
 WHERE NOT EXISTS (SELECT 1 FROM deleted_github_objects d
                    WHERE d.kind = 'issue' AND d.github_id = s.github_id)
ON CONFLICT (github_id) DO UPDATE SET
    number         = EXCLUDED.number,
    title          = EXCLUDED.title,
    body           = EXCLUDED.body,
    state          = EXCLUDED.state,
    state_reason   = EXCLUDED.state_reason,
    author_id      = EXCLUDED.author_id,
    updated_at     = EXCLUDED.updated_at,
    closed_at      = EXCLUDED.closed_at,
    labels         = EXCLUDED.labels,
    assignees      = EXCLUDED.assignees,
    milestone      = EXCLUDED.milestone,
    comments_count = EXCLUDED.comments_count,
    locked         = EXCLUDED.locked,
    html_url       = EXCLUDED.html_url,
    last_synced_at = EXCLUDED.last_synced_at
 WHERE i.updated_at <= EXCLUDED.updated_at
RETURNING (xmax = 0) AS inserted

-- What a review or comment delivery says about its (stored) pull request: GitHub moves the PR's
-- updated_at with every review and comment, and the payload's partial PR object (or, for a
-- conversation comment, its issue view) carries the PR's state at that instant. Only newer wins; the
-- fields a partial object lacks (counts, mergeability, merged_by) are kept. A NULL state means the
-- payload does not say (issue view): state and close/merge times are kept too.
UPDATE pull_requests p
   SET title       = COALESCE(%(title)s, p.title),
       body        = CASE WHEN %(has_body)s THEN %(body)s ELSE p.body END,
       state       = COALESCE(%(state)s, p.state),
       draft       = COALESCE(%(draft)s, p.draft),
       merged      = CASE WHEN %(state)s::text IS NULL THEN p.merged ELSE %(merged_at)s::timestamptz IS NOT NULL END,
       merged_at   = CASE WHEN %(state)s::text IS NULL THEN p.merged_at ELSE %(merged_at)s::timestamptz END,
       closed_at   = CASE WHEN %(state)s::text IS NULL THEN p.closed_at ELSE %(closed_at)s::timestamptz END,
       base_branch = COALESCE(%(base_branch)s, p.base_branch),
       head_branch = COALESCE(%(head_branch)s, p.head_branch),
       updated_at  = %(updated_at)s,
       last_synced_at = now()
 WHERE p.github_id = %(github_id)s AND p.updated_at <= %(updated_at)s::timestamptz
RETURNING id

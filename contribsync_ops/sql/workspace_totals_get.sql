-- The totals stored on a workspace.
SELECT total_repositories, total_contributors, total_pull_requests, total_issues, last_activity_at
  FROM workspaces WHERE id = %(workspace_id)s

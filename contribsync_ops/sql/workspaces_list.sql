-- Every workspace with its stored totals and how many repositories it links.
SELECT w.id, w.name, w.slug, w.tier, w.is_active, w.total_repositories, w.total_contributors,
       w.total_pull_requests, w.total_issues, w.last_activity_at,
       (SELECT count(*) FROM workspace_repositories wr WHERE wr.workspace_id = w.id) AS linked
  FROM workspaces w ORDER BY w.name

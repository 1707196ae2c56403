-- The totals the backfill guide reads on workspaces, from the workspace's 'all' metrics row.
UPDATE workspaces w
   SET total_repositories = (SELECT count(*) FROM workspace_repositories wr WHERE wr.workspace_id = w.id),
       total_contributors = c.total_contributors,
       total_pull_requests = c.total_prs,
       total_issues = c.total_issues,
       last_activity_at = (SELECT max(p.last_activity_at)
                             FROM repository_metric_partials p
                             JOIN workspace_repositories wr ON wr.repository_id = p.repository_id
                            WHERE wr.workspace_id = w.id AND p.as_of = %(as_of)s AND p.window_key = 'all'),
       updated_at = now()
  FROM workspace_metrics_cache c
 WHERE w.id = %(workspace_id)s AND c.workspace_id = w.id AND c.time_range = 'all'
RETURNING w.total_repositories, w.total_contributors, w.total_pull_requests, w.total_issues, w.last_activity_at

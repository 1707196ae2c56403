-- The active workspaces a repository belongs to.
SELECT w.id, w.name FROM workspaces w JOIN workspace_repositories wr ON wr.workspace_id = w.id
 WHERE wr.repository_id = %(repository_id)s AND w.is_active ORDER BY w.name

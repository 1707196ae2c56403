-- A workspace's repositories by owner and name.
SELECT r.owner, r.name FROM workspace_repositories wr JOIN repositories r ON r.id = wr.repository_id
 WHERE wr.workspace_id::text = %(workspace_id)s ORDER BY r.full_name

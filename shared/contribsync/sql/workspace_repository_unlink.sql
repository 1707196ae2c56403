-- Remove a repository from a workspace; one row back when it was there.
DELETE FROM workspace_repositories WHERE workspace_id = %(workspace_id)s AND repository_id = %(repository_id)s
RETURNING repository_id

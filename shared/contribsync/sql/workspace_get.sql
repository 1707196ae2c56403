-- One workspace by id, with its repositories' ids.
SELECT w.id, w.name, w.slug, w.tier, w.is_active,
       coalesce((SELECT array_agg(wr.repository_id ORDER BY wr.repository_id)
                   FROM workspace_repositories wr WHERE wr.workspace_id = w.id), '{}') AS repository_ids
  FROM workspaces w WHERE w.id = %(workspace_id)s

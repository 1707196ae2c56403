-- Create a workspace, or find the one with that slug (idempotent); says which.
INSERT INTO workspaces (name, slug, tier) VALUES (%(name)s, %(slug)s, %(tier)s)
ON CONFLICT (slug) DO UPDATE SET updated_at = workspaces.updated_at
RETURNING id, name, slug, tier, (xmax = 0) AS created

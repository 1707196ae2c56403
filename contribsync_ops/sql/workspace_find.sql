-- A workspace by name, else by slug.
SELECT id, name, slug, tier, is_active FROM workspaces
 WHERE name = %(name)s OR slug = %(slug)s
 ORDER BY (name = %(name)s) DESC LIMIT 1

-- Another repository now has this name on GitHub (a rename, transfer, or delete and re-create): the
-- row that held it keeps its data under `<name>~<github id>` until its own payload or sync names it.
UPDATE repositories
   SET full_name = full_name || '~' || github_id, name = name || '~' || github_id, updated_at = now()
 WHERE github_id <> %(github_id)s
   AND (lower(full_name) = lower(%(full_name)s) OR (lower(owner) = lower(%(owner)s) AND lower(name) = lower(%(name)s)))

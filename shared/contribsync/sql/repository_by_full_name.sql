-- A stored repository by owner and name, case-insensitively (as GitHub compares them).
SELECT id, full_name FROM repositories WHERE lower(owner) = lower(%(owner)s) AND lower(name) = lower(%(name)s)

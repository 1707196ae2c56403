-- A stored issue by GitHub id.
SELECT id, github_id, number FROM issues WHERE github_id = %(github_id)s

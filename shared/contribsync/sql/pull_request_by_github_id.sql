-- A stored pull request by GitHub id.
SELECT id, github_id, number FROM pull_requests WHERE github_id = %(github_id)s

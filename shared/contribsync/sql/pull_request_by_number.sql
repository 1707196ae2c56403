-- A stored pull request by repository and number.
SELECT id, github_id, number FROM pull_requests WHERE repository_id = %(repository_id)s::uuid AND number = %(number)s

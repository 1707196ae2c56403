-- capture/repository.comments.all: the numbers of a repository's pull requests and issues updated since
-- %(since)s, at most 100 of each, newest first.
(SELECT 'pull_request' AS kind, number FROM pull_requests
  WHERE repository_id = %(repository_id)s::uuid AND updated_at >= %(since)s::timestamptz
  ORDER BY updated_at DESC LIMIT 100)
UNION ALL
(SELECT 'issue' AS kind, number FROM issues
  WHERE repository_id = %(repository_id)s::uuid AND updated_at >= %(since)s::timestamptz
  ORDER BY updated_at DESC LIMIT 100)

-- GitHub's pull request count (the size rule) and the stored activity figures kept beside it.
SELECT r.id,
       r.pull_request_count                 AS pull_requests,
       coalesce(r.stargazers_count, 0)::int AS stars,
       coalesce(r.forks_count, 0)::int      AS forks,
       (SELECT count(*) FROM pull_requests p
         WHERE p.repository_id = r.id
           AND p.created_at >= %(now)s::timestamptz - interval '30 days')::int AS prs_30d,
       (SELECT count(DISTINCT p.author_id) FROM pull_requests p
         WHERE p.repository_id = r.id
           AND p.created_at >= %(now)s::timestamptz - interval '90 days')::int AS contributors
  FROM repositories r
 WHERE r.id = %(repository_id)s

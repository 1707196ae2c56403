-- The stored counts the size rules vote on (commits per 4 weeks is not stored, so it does not vote).
SELECT r.id,
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

-- Stored pull requests per repository, to split a workspace's partials into groups of equal work.
SELECT r.id AS repository_id, count(p.id) AS pull_requests
  FROM unnest(%(repository_ids)s::uuid[]) r (id) LEFT JOIN pull_requests p ON p.repository_id = r.id
 GROUP BY r.id

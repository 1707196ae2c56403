-- Which of %(repository_ids)s already have partials at %(as_of)s (all seven windows).
SELECT repository_id FROM repository_metric_partials
 WHERE as_of = %(as_of)s AND repository_id = ANY(%(repository_ids)s::uuid[])
 GROUP BY repository_id HAVING count(*) = 7

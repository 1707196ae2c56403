-- Garbage: partials of these repositories computed for an as_of more than a day before the newest.
DELETE FROM repository_metric_partials
 WHERE repository_id = ANY(%(repository_ids)s::uuid[]) AND as_of < %(as_of)s::timestamptz - interval '1 day'
RETURNING repository_id

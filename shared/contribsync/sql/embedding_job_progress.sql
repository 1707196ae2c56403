-- embedding/progress.update (contributor.info's webhook embedding queue): the progress of the
-- embedding_jobs row it names. A job that already ended keeps its end.
UPDATE embedding_jobs
   SET items_processed = coalesce(%(processed)s, items_processed),
       items_total     = coalesce(%(total)s, items_total),
       status          = coalesce(%(status)s, status),
       started_at      = coalesce(started_at, now()),
       completed_at    = CASE WHEN %(status)s IN ('completed', 'failed') THEN now() ELSE completed_at END
 WHERE id = %(job_id)s
   AND status NOT IN ('completed', 'failed')
RETURNING id, status, items_processed, items_total

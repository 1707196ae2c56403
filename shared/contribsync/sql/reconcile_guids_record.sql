-- Record, for many guids of one webhook at once, either a redelivery asked for (from the attempt in
-- `attempt_ids`) or the fallback sync queued instead. Redeliveries add up across runs; the first
-- fallback time is kept.
INSERT INTO webhook_reconcile_guids AS t (hook, guid, repository_github_id, redeliveries, last_requested_at,
                                          requested_from, fallback_at, updated_at)
SELECT %(hook)s, g.guid, g.repository_github_id,
       CASE WHEN %(redelivered)s::boolean THEN 1 ELSE 0 END,
       CASE WHEN %(redelivered)s::boolean THEN %(now)s::timestamptz END,
       CASE WHEN %(redelivered)s::boolean THEN g.attempt_id END,
       CASE WHEN NOT %(redelivered)s::boolean THEN %(now)s::timestamptz END,
       %(now)s::timestamptz
  FROM unnest(%(guids)s::text[], %(repository_ids)s::bigint[], %(attempt_ids)s::bigint[])
       AS g (guid, repository_github_id, attempt_id)
ON CONFLICT (hook, guid) DO UPDATE
   SET redeliveries         = t.redeliveries + excluded.redeliveries,
       last_requested_at    = coalesce(excluded.last_requested_at, t.last_requested_at),
       requested_from       = coalesce(excluded.requested_from, t.requested_from),
       fallback_at          = coalesce(t.fallback_at, excluded.fallback_at),
       repository_github_id = coalesce(excluded.repository_github_id, t.repository_github_id),
       updated_at           = excluded.updated_at

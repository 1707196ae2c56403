-- A sync finished: move the cooldown clock, and the incremental watermark when one is given.
UPDATE repositories
   SET last_updated_at    = %(now)s,
       last_synced_at     = %(now)s,
       prs_synced_through = COALESCE(%(prs_synced_through)s::timestamptz, prs_synced_through),
       pull_request_count = COALESCE(%(pull_request_count)s::integer, pull_request_count)
 WHERE id = %(repository_id)s::uuid

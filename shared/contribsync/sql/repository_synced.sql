-- A sync finished: move the cooldown clock, and the incremental watermark when one is given; and
-- contributor.info's sync_status and total_pull_requests, as its syncs leave them.
UPDATE repositories
   SET last_updated_at     = %(now)s,
       last_synced_at      = %(now)s,
       prs_synced_through  = COALESCE(%(prs_synced_through)s::timestamptz, prs_synced_through),
       pull_request_count  = COALESCE(%(pull_request_count)s::integer, pull_request_count),
       total_pull_requests = COALESCE(%(pull_request_count)s::integer, total_pull_requests),
       sync_status         = 'completed'
 WHERE id = %(repository_id)s::uuid

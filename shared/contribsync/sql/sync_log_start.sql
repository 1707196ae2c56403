-- contributor.info's SyncLogger: one row per run, opened as 'started'.
INSERT INTO sync_logs (sync_type, repository_id, status, started_at, metadata)
VALUES (%(sync_type)s, %(repository_id)s::uuid, 'started', %(now)s, %(metadata)s)
RETURNING id

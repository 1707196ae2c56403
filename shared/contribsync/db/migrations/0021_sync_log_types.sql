-- sync_logs.sync_type: also the two types contributor.info's own SyncLogger writes and its CHECK
-- refused (repository_events, repository_comments_all); contribsync's jobs for those events write them
-- too. Widening a CHECK keeps every row valid, on our schema and on a contributor.info database alike.
ALTER TABLE sync_logs DROP CONSTRAINT IF EXISTS sync_logs_sync_type_check;
ALTER TABLE sync_logs ADD CONSTRAINT sync_logs_sync_type_check CHECK (sync_type IN (
    'full_sync', 'incremental_sync', 'repository_sync', 'contributor_sync',
    'pr_details', 'pr_reviews', 'pr_comments', 'repository_discussions',
    'repository_issues', 'issue_comments', 'discussions_cron', 'embeddings',
    'workspace_metrics', 'webhook', 'repository_events', 'repository_comments_all'));

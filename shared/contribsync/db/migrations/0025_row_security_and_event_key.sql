-- Row-level security and a key for github_events_cache, on an empty database and on contributor.info's.
--
-- 1. github_events_cache is partitioned by month on contributor.info's database, so it cannot have a key
--    on event_id alone (a partitioned table's unique index must hold the partition column). An event's
--    created_at never changes, so (event_id, created_at) identifies it as well, and the events job
--    upserts on it. Duplicate rows (its code inserted without a key) stop the migration with their
--    event ids: nothing is deleted for you, and the transaction leaves the database as it was.
DO $$
DECLARE
    dupes text;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_indexes WHERE schemaname = current_schema()
                    AND indexname = 'github_events_cache_event_key') THEN
        SELECT string_agg(format('%s (%s rows)', event_id, n), ', ') INTO dupes
          FROM (SELECT event_id, count(*) AS n FROM github_events_cache GROUP BY event_id, created_at
                HAVING count(*) > 1 ORDER BY event_id LIMIT 20) d;
        IF dupes IS NOT NULL THEN
            RAISE EXCEPTION 'github_events_cache holds the same event more than once: %', dupes
                USING HINT = 'keep one row per (event_id, created_at), then run contribsync db migrate again';
        END IF;
        CREATE UNIQUE INDEX github_events_cache_event_key ON github_events_cache (event_id, created_at);
    END IF;
END $$;

-- 2. Row-level security. On Supabase, PostgREST serves every table of `public` to the `anon` key, and
--    new tables are granted to anon and authenticated by default: contribsync's own tables (deliveries,
--    runs, leases, ETags) must not be readable there. RLS is enabled on each with no policy, so only
--    the owner (contribsync's own connection) and roles with BYPASSRLS (service_role) see their rows.
--
--    An empty database gets what contributor.info's frontend needs of the shared tables: the roles
--    anon, authenticated and service_role (NOLOGIN, service_role with BYPASSRLS, as on Supabase) where
--    missing, RLS on, service_role may do anything, anon and authenticated read public data only.
--    Rows of private repositories are hidden, as contributor.info's read policies do. A table that
--    already has policies (contributor.info's database) keeps exactly its own.
DO $$
DECLARE
    t text;
    role_name text;
    readable text;
    public_repo constant text :=
        'repository_id IS NULL OR EXISTS (SELECT 1 FROM repositories r'
        ' WHERE r.id = repository_id AND r.is_private IS DISTINCT FROM true)';
BEGIN
    FOREACH role_name IN ARRAY ARRAY['anon', 'authenticated', 'service_role'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = role_name) THEN
            EXECUTE format('CREATE ROLE %I NOLOGIN%s', role_name,
                           CASE WHEN role_name = 'service_role' THEN ' BYPASSRLS' ELSE '' END);
        END IF;
    END LOOP;

    FOR t, readable IN VALUES
        ('repositories', 'is_private IS DISTINCT FROM true'),
        ('contributors', 'true'),
        ('pull_requests', public_repo),
        ('reviews', public_repo),
        ('comments', public_repo),
        ('issues', public_repo),
        ('discussions', public_repo),
        ('discussion_comments', 'true'),
        ('github_events_cache', 'true'),
        ('tracked_repositories', 'true'),
        ('workspaces', 'visibility = ''public'' AND is_active'),
        ('workspace_repositories', 'EXISTS (SELECT 1 FROM workspaces w WHERE w.id = workspace_id'
                                   ' AND w.visibility = ''public'' AND w.is_active)'),
        ('similarity_cache', 'true'),
        ('progressive_capture_jobs', NULL),
        ('progressive_backfill_state', NULL),
        ('backfill_chunks', NULL),
        ('embedding_jobs', NULL),
        ('sync_logs', NULL)
    LOOP
        CONTINUE WHEN EXISTS (SELECT 1 FROM pg_policies WHERE schemaname = current_schema() AND tablename = t);
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('GRANT ALL ON %I TO service_role', t);
        EXECUTE format('CREATE POLICY contribsync_service_role_all ON %I TO service_role'
                       ' USING (true) WITH CHECK (true)', t);
        IF readable IS NOT NULL THEN
            EXECUTE format('GRANT SELECT ON %I TO anon, authenticated', t);
            EXECUTE format('CREATE POLICY contribsync_public_read ON %I FOR SELECT TO anon, authenticated'
                           ' USING (%s)', t, readable);
        END IF;
    END LOOP;

    -- contribsync's own tables, with no policy: not readable through PostgREST.
    FOREACH t IN ARRAY ARRAY['schema_migrations', 'function_runs', 'run_progress', 'cancellations',
                             'concurrency_leases', 'throttle_buckets', 'webhook_deliveries',
                             'webhook_reconcile_guids', 'webhook_reconcile_hooks', 'github_rate_limits',
                             'github_etags', 'deleted_github_objects', 'repository_metric_partials',
                             'workspace_aggregation_queue', 'workspace_metrics_cache',
                             'workspace_metrics_history'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    END LOOP;
END $$;

-- CHECKs of contributor.info's schema that GitHub's own data breaks, widened to what GitHub allows
-- (each failing row would fail a whole batch of its job):
-- - bodies of pull requests, reviews and comments: theirs stop at 10,000 characters, while GitHub's
--   editor allows 65,536 and bodies written through the API by bots (CI logs, release notes) pass
--   that; bounded at 1 MiB here, as the simulator's 70,000-character bodies check;
-- - a review comment's diff_hunk: GitHub sends the whole hunk above the line, which passes 1,000
--   characters on any comment far into a new file; bounded at 1 MiB too;
-- - a review comment must have a path, not a position: GitHub sends position null on an outdated
--   comment (the line is gone from the current diff);
-- - repositories.homepage is free text on GitHub ("", "example.com"), not always an http(s) URL;
-- - repositories.name and full_name: a row whose name GitHub gave to another repository keeps its data
--   under `<name>~<github id>` until its own sync names it (a name GitHub never gives out);
-- - the date CHECKs that compare GitHub's times with the database's now(): GitHub's clock is ahead of
--   the database's by a few seconds often enough, and a CHECK on now() also fails a row on restore;
--   their ordering rules are kept (started before completed), except a repository's created before
--   updated: GitHub's own payloads break it (8 of the webhook corpus, e.g. repository.created, send an
--   updated_at a second before created_at).
-- - reviews.submitted_at may be null: GitHub's PENDING reviews (the viewer's own, unsubmitted) have none;
-- - embedding_jobs.repository_id may be null: a workspace's embeddings run is one job of the workspace
--   (workspace_id), not one per repository.
-- Widening keeps every existing row valid, and each is replaced only while it still has its old text,
-- (a text only theirs has), so a second run changes nothing. Nothing else of theirs is touched.
DO $$
DECLARE
    c record;
BEGIN
    FOR c IN SELECT * FROM (VALUES
        ('pull_requests', 'pull_requests_body_length', '10000',
         'body IS NULL OR length(body) <= 1048576'),
        ('reviews', 'reviews_body_length', '10000',
         'body IS NULL OR length(body) <= 1048576'),
        ('comments', 'comments_body_length', '10000',
         'length(body) >= 1 AND length(body) <= 1048576'),
        ('comments', 'comments_diff_hunk_length', '<= 1000)',
         'diff_hunk IS NULL OR length(diff_hunk) <= 1048576'),
        ('comments', 'comments_review_comment_validation', '"position" IS NOT NULL',
         'comment_type = ''issue_comment'' OR (comment_type = ''review_comment'' AND path IS NOT NULL)'),
        ('repositories', 'repositories_homepage_format', '^https?://',
         'homepage IS NULL OR length(homepage) <= 2048'),
        ('repositories', 'repositories_name_format', '._-]+$',
         'name ~ ''^[a-zA-Z0-9._-]+(~[0-9]+)?$'' AND length(name) >= 1 AND length(name) <= 121'),
        ('repositories', 'repositories_full_name_format', '._-]+$',
         'full_name ~ ''^[a-zA-Z0-9-]+/[a-zA-Z0-9._-]+(~[0-9]+)?$'''),
        ('repositories', 'repositories_date_consistency', 'now()',
         'github_created_at IS NULL OR github_created_at >= ''2007-01-01''::timestamptz'),
        ('contributors', 'contributors_date_consistency', 'now()',
         'github_created_at IS NULL OR github_created_at >= ''2007-01-01''::timestamptz'),
        ('reviews', 'reviews_date_consistency', 'now()', 'submitted_at >= ''2007-01-01''::timestamptz'),
        ('sync_logs', 'sync_logs_date_consistency', 'now()', 'completed_at IS NULL OR completed_at >= started_at'),
        ('tracked_repositories', 'tracked_repos_last_sync_valid', 'now()',
         'last_sync_at IS NULL OR last_sync_at >= ''2007-01-01''::timestamptz')
    ) AS v(tbl, name, old, def)
    LOOP
        IF EXISTS (SELECT 1 FROM pg_constraint
                    WHERE conrelid = c.tbl::regclass AND conname = c.name
                      AND strpos(pg_get_constraintdef(oid), c.old) > 0) THEN
            EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', c.tbl, c.name);
            EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I CHECK (%s)', c.tbl, c.name, c.def);
        END IF;
    END LOOP;
END $$;

ALTER TABLE reviews ALTER COLUMN submitted_at DROP NOT NULL;
ALTER TABLE embedding_jobs ALTER COLUMN repository_id DROP NOT NULL;

-- contributor.info's views of comments and of the items that need an embedding, as its frontend and
-- jobs read them (its supabase/migrations; columns, names and order as there).
-- - pr_comments and issue_comments: the comment's columns, then six joined from the pull request (or
--   issue) and the commenter. A database holding contributor.info's own views keeps them as they are;
--   contribsync's earlier views (every column of comments, nothing joined) are replaced: a view holds
--   no rows, and nothing depends on those.
-- - items_needing_embeddings: created where it is missing (its frontend's embeddings status reads it).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM information_schema.columns
                    WHERE table_schema = current_schema() AND table_name = 'pr_comments'
                      AND column_name = 'commenter_username') THEN
        DROP VIEW IF EXISTS pr_comments;
        CREATE VIEW pr_comments AS
        SELECT c.id, c.github_id, c.pull_request_id, c.commenter_id, c.body, c.created_at, c.updated_at,
               c.comment_type, c.in_reply_to_id, c."position", c.original_position, c.diff_hunk, c.path,
               c.commit_id, pr.number AS pr_number, pr.repository_id, pr.title AS pr_title,
               pr.state AS pr_state, cont.username AS commenter_username,
               cont.display_name AS commenter_display_name, cont.avatar_url AS commenter_avatar_url
          FROM comments c
          JOIN pull_requests pr ON c.pull_request_id = pr.id
          JOIN contributors cont ON c.commenter_id = cont.id
         WHERE c.pull_request_id IS NOT NULL;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM information_schema.columns
                    WHERE table_schema = current_schema() AND table_name = 'issue_comments'
                      AND column_name = 'commenter_username') THEN
        DROP VIEW IF EXISTS issue_comments;
        CREATE VIEW issue_comments AS
        SELECT c.id, c.github_id, c.issue_id, c.commenter_id, c.body, c.created_at, c.updated_at,
               c.in_reply_to_id, i.number AS issue_number, i.repository_id, i.title AS issue_title,
               i.state AS issue_state, cont.username AS commenter_username,
               cont.display_name AS commenter_display_name, cont.avatar_url AS commenter_avatar_url
          FROM comments c
          JOIN issues i ON c.issue_id = i.id
          JOIN contributors cont ON c.commenter_id = cont.id
         WHERE c.issue_id IS NOT NULL;
    END IF;
    IF to_regclass('items_needing_embeddings') IS NULL THEN
        CREATE VIEW items_needing_embeddings WITH (security_invoker = true) AS
        SELECT item_type, id, repository_id, title, body, created_at, embedding_generated_at, content_hash,
               priority
          FROM (SELECT 'issue'::text AS item_type, issues.id::text AS id, issues.repository_id, issues.title,
                       issues.body, issues.created_at, issues.embedding_generated_at, issues.content_hash,
                       2 AS priority
                  FROM issues
                 WHERE (issues.embedding IS NULL OR issues.embedding_generated_at < issues.updated_at)
                   AND issues.created_at > now() - interval '90 days'
                   AND issues.repository_id IN (SELECT repository_id FROM workspace_repositories)
                UNION ALL
                SELECT 'pull_request'::text, pull_requests.id::text, pull_requests.repository_id,
                       pull_requests.title, pull_requests.body, pull_requests.created_at,
                       pull_requests.embedding_generated_at, pull_requests.content_hash, 3
                  FROM pull_requests
                 WHERE (pull_requests.embedding IS NULL
                        OR pull_requests.embedding_generated_at < pull_requests.updated_at)
                   AND pull_requests.created_at > now() - interval '90 days'
                   AND pull_requests.repository_id IN (SELECT repository_id FROM workspace_repositories)
                UNION ALL
                SELECT 'discussion'::text, discussions.id, discussions.repository_id, discussions.title,
                       discussions.body, discussions.created_at, discussions.embedding_generated_at,
                       discussions.content_hash, 1
                  FROM discussions
                 WHERE (discussions.embedding IS NULL OR discussions.embedding_generated_at < discussions.updated_at)
                   AND discussions.created_at > now() - interval '90 days'
                   AND discussions.repository_id IN (SELECT repository_id FROM workspace_repositories)) combined
         ORDER BY priority, created_at DESC
         LIMIT 200;
    END IF;
END $$;

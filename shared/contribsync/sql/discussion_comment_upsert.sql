-- One discussion comment from a webhook payload; its parent is resolved from GitHub's parent id.
-- Newer rows win (updated_at); deleted comments stay deleted.
INSERT INTO discussion_comments AS c (id, discussion_id, discussion_number, github_id, parent_id, author_id,
                                      author_login, body, is_answer, upvote_count, created_at, updated_at)
SELECT %(id)s::varchar, %(discussion_id)s::varchar,
       (SELECT d.number FROM discussions d WHERE d.id = %(discussion_id)s::varchar), %(github_id)s::bigint,
       (SELECT p.id FROM discussion_comments p WHERE p.github_id = %(parent_github_id)s::bigint),
       %(author_id)s, %(author_login)s, %(body)s, %(is_answer)s, %(upvote_count)s, %(created_at)s, %(updated_at)s
 WHERE NOT EXISTS (SELECT 1 FROM deleted_github_objects t
                    WHERE t.kind = 'discussion_comment' AND t.github_id = %(github_id)s::bigint)
   AND EXISTS (SELECT 1 FROM discussions d WHERE d.id = %(discussion_id)s::varchar)
ON CONFLICT (id) DO UPDATE SET
    parent_id    = COALESCE(EXCLUDED.parent_id, c.parent_id),
    author_id    = EXCLUDED.author_id,
    author_login = EXCLUDED.author_login,
    body         = EXCLUDED.body,
    is_answer    = EXCLUDED.is_answer,
    upvote_count = EXCLUDED.upvote_count,
    updated_at   = EXCLUDED.updated_at
 WHERE c.updated_at <= EXCLUDED.updated_at

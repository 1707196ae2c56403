-- Discussions of one repository, in one statement: a sync's page (GraphQL) or a webhook's discussion
-- (capture.discussions maps both to these rows); keyed by GraphQL node id. Newer rows win (updated_at);
-- deleted discussions stay deleted. A row without a new summary keeps the stored one while its content
-- hash is the same; a changed discussion whose summary failed (or that came by webhook, which makes
-- none) is stored without one, until the next sync makes it. A row that says it is answered but not by
-- which comment (a webhook's edit) keeps the stored answer; upvotes it does not carry are kept.
WITH s AS (
    SELECT *
      FROM jsonb_to_recordset(%(rows)s::jsonb) AS s(
               id varchar, github_id bigint, number integer, title text, body text, url text, category_id text,
               category_name text, category_description text, category_emoji text, author_id bigint,
               author_login text, is_answered boolean, answer_id text, answer_chosen_at timestamptz,
               answer_chosen_by text, upvote_count integer, comment_count integer, locked boolean,
               created_at timestamptz, updated_at timestamptz, summary text, content_hash text)
)
INSERT INTO discussions AS d (id, github_id, repository_id, number, title, body, url, category_id, category_name,
                              category_description, category_emoji, author_id, author_login, is_answered,
                              answer_id, answer_chosen_at, answer_chosen_by, upvote_count, comment_count, locked,
                              created_at, updated_at, summary, summary_content_hash, summary_generated_at,
                              last_synced_at)
SELECT s.id, s.github_id, %(repository_id)s::uuid, s.number, s.title, s.body, s.url, s.category_id, s.category_name,
       s.category_description, s.category_emoji, s.author_id, s.author_login, s.is_answered, s.answer_id,
       s.answer_chosen_at, s.answer_chosen_by, COALESCE(s.upvote_count, 0), s.comment_count, s.locked, s.created_at,
       s.updated_at, s.summary, s.content_hash, CASE WHEN s.summary IS NOT NULL THEN now() END, now()
  FROM s
 WHERE NOT EXISTS (SELECT 1 FROM deleted_github_objects t WHERE t.kind = 'discussion' AND t.github_id = s.github_id)
ON CONFLICT (id) DO UPDATE SET
    github_id            = EXCLUDED.github_id,
    repository_id        = EXCLUDED.repository_id,
    number               = EXCLUDED.number,
    title                = EXCLUDED.title,
    body                 = EXCLUDED.body,
    url                  = EXCLUDED.url,
    category_id          = EXCLUDED.category_id,
    category_name        = EXCLUDED.category_name,
    category_description = EXCLUDED.category_description,
    category_emoji       = EXCLUDED.category_emoji,
    author_id            = EXCLUDED.author_id,
    author_login         = EXCLUDED.author_login,
    is_answered          = EXCLUDED.is_answered,
    answer_id            = COALESCE(EXCLUDED.answer_id, CASE WHEN EXCLUDED.is_answered THEN d.answer_id END),
    answer_chosen_at     = EXCLUDED.answer_chosen_at,
    answer_chosen_by     = EXCLUDED.answer_chosen_by,
    upvote_count         = COALESCE((SELECT s.upvote_count FROM s WHERE s.id = EXCLUDED.id), d.upvote_count),
    comment_count        = EXCLUDED.comment_count,
    locked               = EXCLUDED.locked,
    updated_at           = EXCLUDED.updated_at,
    summary              = CASE WHEN EXCLUDED.summary IS NOT NULL THEN EXCLUDED.summary
                                WHEN d.summary_content_hash = EXCLUDED.summary_content_hash THEN d.summary END,
    summary_content_hash = CASE WHEN EXCLUDED.summary IS NOT NULL
                                  OR d.summary_content_hash = EXCLUDED.summary_content_hash
                                THEN EXCLUDED.summary_content_hash END,
    summary_generated_at = CASE WHEN EXCLUDED.summary IS NOT NULL THEN EXCLUDED.summary_generated_at
                                WHEN d.summary_content_hash = EXCLUDED.summary_content_hash
                                THEN d.summary_generated_at END,
    last_synced_at       = EXCLUDED.last_synced_at
 WHERE d.updated_at <= EXCLUDED.updated_at
RETURNING (xmax = 0) AS inserted

-- One discussion from a webhook payload (id is GraphQL's node id). Newer rows win (updated_at),
-- deleted discussions stay deleted; the summary, embedding and counts webhooks lack are kept.
INSERT INTO discussions AS d (id, github_id, repository_id, number, title, body, url, category_id, category_name,
                              category_description, category_emoji, author_id, author_login, is_answered,
                              answer_id, answer_chosen_at, answer_chosen_by, comment_count, locked, created_at,
                              updated_at, last_synced_at)
SELECT %(id)s::varchar, %(github_id)s::bigint, %(repository_id)s::uuid, %(number)s, %(title)s, %(body)s, %(url)s, %(category_id)s,
       %(category_name)s, %(category_description)s, %(category_emoji)s, %(author_id)s, %(author_login)s,
       %(is_answered)s, %(answer_id)s, %(answer_chosen_at)s, %(answer_chosen_by)s, %(comment_count)s, %(locked)s,
       %(created_at)s, %(updated_at)s, now()
 WHERE NOT EXISTS (SELECT 1 FROM deleted_github_objects t WHERE t.kind = 'discussion' AND t.github_id = %(github_id)s::bigint)
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
    comment_count        = EXCLUDED.comment_count,
    locked               = EXCLUDED.locked,
    updated_at           = EXCLUDED.updated_at,
    last_synced_at       = EXCLUDED.last_synced_at
 WHERE d.updated_at <= EXCLUDED.updated_at

-- Leave out of the stage every contributor whose stored row already says what the upsert would write (the
-- staged row newest for its GitHub id, a missing profile field keeping the stored one). Only new and changed
-- contributors go on to the login locks and the upsert: an incremental sync sees the same people again and
-- again (a bot in every repository), and an upsert locks each row it touches until the transaction ends,
-- even one it leaves as it is, so concurrent syncs that shared a contributor used to wait for each other's
-- whole page. The upsert has no such comparison of its own: a row this keeps changed on the server since is
-- written again, which is harmless.
DELETE FROM stage_contributors s
 USING (SELECT DISTINCT ON (github_id) *
          FROM stage_contributors
         ORDER BY github_id, seen_at DESC NULLS LAST) n
  JOIN contributors c ON c.github_id = n.github_id
 WHERE s.github_id = n.github_id
   AND (c.username, c.display_name, c.avatar_url, c.email, c.company, c.location, c.is_bot, c.bio, c.blog,
        c.github_created_at, c.node_id)
       IS NOT DISTINCT FROM (n.username, COALESCE(n.display_name, c.display_name),
                             COALESCE(n.avatar_url, c.avatar_url), COALESCE(n.email, c.email),
                             COALESCE(n.company, c.company), COALESCE(n.location, c.location),
                             n.is_bot OR c.is_bot, COALESCE(n.bio, c.bio), COALESCE(n.blog, c.blog),
                             COALESCE(n.github_created_at, c.github_created_at), COALESCE(n.node_id, c.node_id))

-- Claim the people among %(github_ids)s whose follower counts were never read or were read before
-- %(stale_before)s, oldest first, and return their node ids for contributor_profiles.graphql. The claim
-- (profile_synced_at = %(claimed_until)s, a time that falls due again minutes later) keeps a concurrent
-- sync from reading the same people; contributors_profiles_store then sets the time of the read, and a
-- read that failed falls due again when the claim runs out. SKIP LOCKED: rows another sync is writing
-- are left to it; NO KEY, as in contributors_profiles_store. Bots, mannequins and the ghost have no
-- counts on GitHub: only users carry a node_id.
WITH due AS (
    SELECT id
      FROM contributors
     WHERE github_id = ANY(%(github_ids)s)
       AND node_id IS NOT NULL
       AND NOT is_bot
       AND (profile_synced_at IS NULL OR profile_synced_at < %(stale_before)s)
     ORDER BY profile_synced_at NULLS FIRST, github_id
     LIMIT %(limit)s
       FOR NO KEY UPDATE SKIP LOCKED
)
UPDATE contributors AS c
   SET profile_synced_at = %(claimed_until)s
  FROM due
 WHERE c.id = due.id
RETURNING c.node_id

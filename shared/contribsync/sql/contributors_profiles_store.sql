-- The counts read by contributor_profiles.graphql (%(profiles)s: a JSON array of {node_id, followers,
-- following, public_repos}), as contributor.info's repository sync stores them. A person GitHub no longer
-- finds (null counts) keeps the stored ones and is not asked again before the next refresh is due.
-- The rows are locked in GitHub-id order first, the order contributors_upsert locks them in, and FOR NO KEY
-- UPDATE, what an update of these columns needs: FOR UPDATE would wait for every page being stored with
-- a pull request or comment by one of them (the foreign key's KEY SHARE lock), and such a page then
-- waited for this statement's next row, a deadlock.
WITH p AS (
    SELECT *
      FROM jsonb_to_recordset(%(profiles)s::jsonb) AS p(node_id text, followers integer, following integer,
                                                        public_repos integer)
), locked AS (
    SELECT c.id, p.followers, p.following, p.public_repos
      FROM contributors c
      JOIN p ON p.node_id = c.node_id
     ORDER BY c.github_id
       FOR NO KEY UPDATE OF c
)
UPDATE contributors AS c
   SET followers = COALESCE(locked.followers, c.followers),
       following = COALESCE(locked.following, c.following),
       public_repos = COALESCE(locked.public_repos, c.public_repos),
       profile_synced_at = %(now)s
  FROM locked
 WHERE c.id = locked.id

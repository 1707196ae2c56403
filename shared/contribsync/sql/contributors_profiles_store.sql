-- The counts read by contributor_profiles.graphql (%(profiles)s: a JSON array of {node_id, followers,
-- following, public_repos}), as contributor.info's repository sync stores them. A person GitHub no longer
-- finds (null counts) keeps the stored ones and is not asked again before the next refresh is due.
UPDATE contributors AS c
   SET followers = COALESCE(p.followers, c.followers),
       following = COALESCE(p.following, c.following),
       public_repos = COALESCE(p.public_repos, c.public_repos),
       profile_synced_at = %(now)s
  FROM jsonb_to_recordset(%(profiles)s::jsonb) AS p(node_id text, followers integer, following integer,
                                                    public_repos integer)
 WHERE c.node_id = p.node_id

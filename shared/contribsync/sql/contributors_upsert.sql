-- Every author, reviewer and commenter, keyed by GitHub id. A sighting without a profile field keeps
-- the stored one; nothing is rewritten when nothing changed. bio, blog and github_created_at are
-- contributor.info's profile columns (GraphQL's bio, websiteUrl and createdAt; REST's bio, blog and
-- created_at, which only full user objects carry). A blog that is not an http(s) URL (REST's is free
-- text) is left out, as contributor.info's blog CHECK requires. node_id is GitHub's global id, which the
-- profile counts are read by (contributor_profiles.graphql).
INSERT INTO contributors AS c (github_id, username, display_name, avatar_url, email, company, location,
                               is_bot, profile_url, bio, blog, github_created_at, node_id)
SELECT DISTINCT ON (github_id)
       github_id, username, display_name, avatar_url, NULLIF(email, ''), company, location, is_bot,
       'https://github.com/' || username, NULLIF(bio, ''), CASE WHEN blog ~ '^https?://' THEN blog END,
       github_created_at, node_id
  FROM stage_contributors
 ORDER BY github_id, seen_at DESC NULLS LAST
ON CONFLICT (github_id) DO UPDATE SET
    username        = EXCLUDED.username,
    display_name    = COALESCE(EXCLUDED.display_name, c.display_name),
    avatar_url      = COALESCE(EXCLUDED.avatar_url, c.avatar_url),
    email           = COALESCE(EXCLUDED.email, c.email),
    company         = COALESCE(EXCLUDED.company, c.company),
    location        = COALESCE(EXCLUDED.location, c.location),
    is_bot          = EXCLUDED.is_bot OR c.is_bot,
    profile_url     = EXCLUDED.profile_url,
    bio             = COALESCE(EXCLUDED.bio, c.bio),
    blog            = COALESCE(EXCLUDED.blog, c.blog),
    github_created_at = COALESCE(EXCLUDED.github_created_at, c.github_created_at),
    node_id         = COALESCE(EXCLUDED.node_id, c.node_id),
    last_updated_at = now(),
    updated_at      = now()
 WHERE (c.username, c.display_name, c.avatar_url, c.email, c.company, c.location, c.is_bot, c.bio, c.blog,
        c.github_created_at, c.node_id)
       IS DISTINCT FROM (EXCLUDED.username, COALESCE(EXCLUDED.display_name, c.display_name),
                         COALESCE(EXCLUDED.avatar_url, c.avatar_url), COALESCE(EXCLUDED.email, c.email),
                         COALESCE(EXCLUDED.company, c.company), COALESCE(EXCLUDED.location, c.location),
                         EXCLUDED.is_bot OR c.is_bot, COALESCE(EXCLUDED.bio, c.bio), COALESCE(EXCLUDED.blog, c.blog),
                         COALESCE(EXCLUDED.github_created_at, c.github_created_at),
                         COALESCE(EXCLUDED.node_id, c.node_id))
RETURNING (xmax = 0) AS inserted

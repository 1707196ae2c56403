-- Every author, reviewer and commenter, keyed by GitHub id: the contributors left in the stage, new or
-- changed (contributors_unchanged took out the rest), the newest sighting of each. A sighting without a
-- profile field keeps the stored one. bio, blog and github_created_at are contributor.info's profile
-- columns (GraphQL's bio, websiteUrl and createdAt; REST's bio, blog and created_at, which only full user
-- objects carry); rows.py leaves out a blog that is not an http(s) URL, as contributor.info's blog CHECK
-- requires. node_id is GitHub's global id, which the profile counts are read by
-- (contributor_profiles.graphql).
--
-- An insert that skips the ones stored, then an update of those, not INSERT ... ON CONFLICT DO UPDATE, and
-- the update leaves the login to contributors_rename: a statement whose SET names username (a unique
-- column) locks each row FOR UPDATE before contributors' BEFORE UPDATE trigger runs, whether the login
-- changes or not, and FOR UPDATE waits for every transaction that wrote a pull request, review or comment
-- by that person (the foreign key's KEY SHARE lock) to end. A sync's stream storing a page, and another
-- stream updating one of that page's authors while holding a row the page needed, deadlocked so. The
-- update, in the same statement, does not see the rows the insert adds.
WITH newest AS (
    SELECT DISTINCT ON (github_id) *
      FROM stage_contributors
     ORDER BY github_id, seen_at DESC NULLS LAST
), inserted AS (
    INSERT INTO contributors (github_id, username, display_name, avatar_url, email, company, location, is_bot,
                              profile_url, bio, blog, github_created_at, node_id)
    SELECT github_id, username, display_name, avatar_url, email, company, location, is_bot,
           'https://github.com/' || username, bio, blog, github_created_at, node_id
      FROM newest
     ORDER BY github_id
    ON CONFLICT (github_id) DO NOTHING
    RETURNING github_id
), locked AS (  -- in GitHub-id order, as contributors_profiles_store locks them: no deadlock between the two
    SELECT c.id, n.*
      FROM contributors c
      JOIN newest n ON n.github_id = c.github_id
     ORDER BY c.github_id
       FOR NO KEY UPDATE OF c
), updated AS (
    UPDATE contributors c
       SET display_name      = COALESCE(n.display_name, c.display_name),
           avatar_url        = COALESCE(n.avatar_url, c.avatar_url),
           email             = COALESCE(n.email, c.email),
           company           = COALESCE(n.company, c.company),
           location          = COALESCE(n.location, c.location),
           is_bot            = n.is_bot OR c.is_bot,
           bio               = COALESCE(n.bio, c.bio),
           blog              = COALESCE(n.blog, c.blog),
           github_created_at = COALESCE(n.github_created_at, c.github_created_at),
           node_id           = COALESCE(n.node_id, c.node_id),
           last_updated_at   = now(),
           updated_at        = now()
      FROM locked n
     WHERE c.id = n.id
    RETURNING c.github_id
)
SELECT (SELECT count(*) FROM inserted) AS inserted,
       (SELECT count(*) FROM inserted) + (SELECT count(*) FROM updated) AS written

-- A stored contributor whose login the stage brings changed (renamed on GitHub): the new login, and the
-- profile URL made of it. Apart from contributors_upsert, whose update would otherwise lock every row it
-- meets for a key change (see there); a rename locks only its own row so. Runs after the login locks and
-- contributors_free_usernames, so the new login is free.
UPDATE contributors c
   SET username    = n.username,
       profile_url = 'https://github.com/' || n.username,
       updated_at  = now()
  FROM (SELECT DISTINCT ON (github_id) github_id, username
          FROM stage_contributors
         ORDER BY github_id, seen_at DESC NULLS LAST) n
 WHERE c.github_id = n.github_id
   AND c.username <> n.username

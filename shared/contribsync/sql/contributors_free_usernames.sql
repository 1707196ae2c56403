-- A login now belongs to another account (the old holder was renamed on GitHub): park the old
-- holder under a placeholder until its own next sighting brings its new login.
UPDATE contributors c
   SET username = 'renamed-' || c.github_id, updated_at = now()
  FROM (SELECT DISTINCT github_id, username FROM stage_contributors) s
 WHERE c.username = s.username AND c.github_id <> s.github_id

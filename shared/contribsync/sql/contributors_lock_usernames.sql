-- Serialise writers of the same logins until the transaction ends (in login order: no deadlocks). Two
-- concurrent writes can each carry one login under two accounts (a rename GitHub made between their
-- reads, or two payloads of different ages): without this, both find the login free and the second
-- insert breaks the unique username; with it, the second sees the first's row and parks it
-- (contributors_free_usernames). The two-key form keeps these locks apart from the GitHub-id locks.
SELECT pg_advisory_xact_lock(hashtext('contributor-login'), hashtext(login))
  FROM (SELECT DISTINCT lower(username) AS login FROM stage_contributors) s
 ORDER BY login

-- Every tracked repository's owner/name, to list its webhooks.
SELECT r.full_name
  FROM tracked_repositories t
  JOIN repositories r ON r.id = t.repository_id
 WHERE t.tracking_enabled
 ORDER BY r.full_name

-- Size buckets of an organisation's repositories (the demo's final table and `contribsync` output).
SELECT t.repository_name, t.size
  FROM tracked_repositories t
 WHERE t.organization_name = %(org)s

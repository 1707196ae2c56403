-- contribsync gaps: the repositories to check (every tracked, live one, or the one asked for, tracked or
-- not) with their repository-level gaps. never_synced: no full pull request sync yet (the enhanced sync's
-- watermark prs_synced_through is what says every PR was read with its reviews and comments); stale: last
-- synced before %(stale_before)s; issues_never_synced: no issues watermark and no completed issues run;
-- discussions_missing: enabled, none stored, and no discussions run ever completed (one that found none
-- closes it). issues_since is where a full issues sync starts: the repository's creation on GitHub.
SELECT r.id, r.full_name, r.last_synced_at, r.prs_synced_through, r.github_created_at AS issues_since,
       (r.last_synced_at IS NULL OR r.prs_synced_through IS NULL) AS never_synced,
       (r.last_synced_at IS NOT NULL AND r.prs_synced_through IS NOT NULL
        AND r.last_synced_at < %(stale_before)s::timestamptz) AS stale,
       (r.has_issues AND r.issues_synced_through IS NULL
        AND NOT EXISTS (SELECT 1 FROM sync_logs l
                         WHERE l.repository_id = r.id AND l.sync_type = 'repository_issues'
                           AND l.status = 'completed')) AS issues_never_synced,
       (r.has_discussions
        AND NOT EXISTS (SELECT 1 FROM discussions d WHERE d.repository_id = r.id)
        AND NOT EXISTS (SELECT 1 FROM sync_logs l
                         WHERE l.repository_id = r.id AND l.sync_type = 'repository_discussions'
                           AND l.status = 'completed')) AS discussions_missing
  FROM repositories r
 WHERE CASE WHEN %(repository_id)s::uuid IS NULL
            THEN r.is_active AND NOT r.is_archived AND NOT r.is_disabled
                 AND EXISTS (SELECT 1 FROM tracked_repositories t
                              WHERE t.repository_id = r.id AND t.tracking_enabled)
            ELSE r.id = %(repository_id)s::uuid END
 ORDER BY r.full_name

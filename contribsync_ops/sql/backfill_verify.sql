-- contribsync backfill's verification of one repository: what is stored, the most recent activity,
-- the issues with no author (deleted accounts), and the GitHub points its sync logs recorded since a time.
SELECT (SELECT count(*) FROM pull_requests WHERE repository_id = %(repository_id)s) AS pull_requests,
       (SELECT count(*) FROM issues WHERE repository_id = %(repository_id)s) AS issues,
       (SELECT count(*) FROM discussions WHERE repository_id = %(repository_id)s) AS discussions,
       (SELECT count(*) FROM reviews WHERE repository_id = %(repository_id)s) AS reviews,
       (SELECT count(*) FROM comments WHERE repository_id = %(repository_id)s) AS comments,
       (SELECT count(DISTINCT a) FROM (
            SELECT author_id AS a FROM pull_requests WHERE repository_id = %(repository_id)s
            UNION ALL SELECT author_id FROM issues WHERE repository_id = %(repository_id)s
            UNION ALL SELECT author_id FROM reviews WHERE repository_id = %(repository_id)s
            UNION ALL SELECT commenter_id FROM comments WHERE repository_id = %(repository_id)s) people
         WHERE a IS NOT NULL) AS contributors,
       (SELECT count(*) FROM issues WHERE repository_id = %(repository_id)s AND author_id IS NULL) AS null_authors,
       greatest((SELECT max(updated_at) FROM pull_requests WHERE repository_id = %(repository_id)s),
                (SELECT max(updated_at) FROM issues WHERE repository_id = %(repository_id)s)) AS latest_activity,
       (SELECT coalesce(sum((metadata ->> 'graphqlPoints')::int), 0) FROM sync_logs
         WHERE repository_id = %(repository_id)s AND started_at >= %(since)s) AS points_used

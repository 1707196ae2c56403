-- Per-repository partial aggregates of every metrics window at %(as_of)s (see migration 0018), for the
-- repositories in %(repository_ids)s, in one set-based pass. Windows: 7d, 30d, 90d, 1y (each with the
-- period before it, for trends), all, and the UTC days of as_of and the day before (the daily history).
-- Only activity before as_of counts; "active" contributors are humans (bots are stored, not counted).
-- Rewrites the rows of that as_of, so a retried run lands on the same values.
WITH t AS (
    SELECT %(as_of)s::timestamptz AS as_of,
           (%(as_of)s::timestamptz AT TIME ZONE 'UTC')::date AS today
),
w AS (  -- n: the big groupings key on this integer, which sorts and hashes far cheaper than the text key
    SELECT v.n, v.k AS window_key, t.as_of - make_interval(days => v.d) AS w_start, t.as_of AS w_end,
           t.as_of - make_interval(days => 2 * v.d) AS p_start, v.b AS bucket
      FROM t, (VALUES (1, '7d', 7, 'day'), (2, '30d', 30, 'day'), (3, '90d', 90, 'day'),
                      (4, '1y', 365, 'week')) v (n, k, d, b)
    UNION ALL
    SELECT 5, 'all', '-infinity'::timestamptz, t.as_of, NULL, 'month' FROM t
    UNION ALL
    SELECT days.n, 'day:' || days.d::text, days.d::timestamp AT TIME ZONE 'UTC',
           least((days.d + 1)::timestamp AT TIME ZONE 'UTC', t.as_of), NULL, NULL
      FROM t, LATERAL (VALUES (6, t.today), (7, t.today - 1)) days (n, d)
),
repos AS (
    SELECT id, owner, name FROM repositories WHERE id = ANY(%(repository_ids)s::uuid[])
),
prs AS (
    SELECT p.id, p.repository_id, p.author_id, p.state, p.draft, p.created_at, p.merged_at, p.commits
      FROM pull_requests p
     WHERE p.repository_id = ANY(%(repository_ids)s::uuid[]) AND p.created_at < %(as_of)s::timestamptz
),
submitted AS (  -- reviews that count: submitted (PENDING ones have no time) before as_of
    SELECT r.repository_id, r.pull_request_id, r.author_id, r.submitted_at
      FROM reviews r
     WHERE r.repository_id = ANY(%(repository_ids)s::uuid[])
       AND r.state <> 'PENDING' AND r.submitted_at < %(as_of)s::timestamptz
),
per_pr AS (  -- reviews per PR, and the first review by someone other than the author
    SELECT s.pull_request_id AS id, count(*) AS reviews,
           min(s.submitted_at) FILTER (WHERE s.author_id <> p.author_id) AS first_review_at
      FROM submitted s JOIN prs p ON p.id = s.pull_request_id
     GROUP BY s.pull_request_id
),
pr_stats AS (
    SELECT w.window_key, p.repository_id,
           count(*) FILTER (WHERE p.created_at >= w.w_start) AS prs_opened,
           count(*) FILTER (WHERE p.created_at >= w.w_start AND p.state = 'open') AS prs_open,
           count(*) FILTER (WHERE p.created_at >= w.w_start AND p.state = 'merged') AS prs_merged_state,
           count(*) FILTER (WHERE p.created_at >= w.w_start AND p.state = 'closed') AS prs_closed,
           count(*) FILTER (WHERE p.created_at >= w.w_start AND p.state = 'open' AND p.draft) AS prs_draft,
           count(*) FILTER (WHERE p.created_at >= w.p_start AND p.created_at < w.w_start) AS prev_prs_opened,
           count(*) FILTER (WHERE p.merged_at >= w.w_start AND p.merged_at < w.w_end) AS prs_merged,
           coalesce(sum(p.commits) FILTER (WHERE p.merged_at >= w.w_start AND p.merged_at < w.w_end), 0)
               AS commits_merged,
           coalesce(array_agg(extract(epoch FROM p.merged_at - p.created_at) / 3600.0)
                        FILTER (WHERE p.merged_at >= w.w_start AND p.merged_at < w.w_end), '{}') AS merge_hours,
           coalesce(sum(pp.reviews) FILTER (WHERE p.created_at >= w.w_start), 0) AS reviews_on_opened,
           coalesce(array_agg(extract(epoch FROM pp.first_review_at - p.created_at) / 3600.0)
                        FILTER (WHERE p.created_at >= w.w_start AND pp.first_review_at IS NOT NULL), '{}')
               AS first_review_hours
      FROM prs p
      JOIN w ON p.created_at < w.w_end
            AND (p.created_at >= coalesce(w.p_start, w.w_start)
                 OR (p.merged_at >= w.w_start AND p.merged_at < w.w_end))
      LEFT JOIN per_pr pp ON pp.id = p.id
     GROUP BY w.window_key, p.repository_id
),
issue_stats AS (
    SELECT w.window_key, i.repository_id,
           count(*) FILTER (WHERE i.created_at >= w.w_start) AS issues_opened,
           count(*) FILTER (WHERE i.created_at >= w.w_start AND i.state = 'open') AS issues_open,
           count(*) FILTER (WHERE i.created_at >= w.w_start AND i.state = 'closed') AS issues_closed,
           count(*) FILTER (WHERE i.created_at < w.w_start) AS prev_issues_opened
      FROM issues i JOIN w ON i.created_at < w.w_end AND i.created_at >= coalesce(w.p_start, w.w_start)
     WHERE i.repository_id = ANY(%(repository_ids)s::uuid[])
     GROUP BY w.window_key, i.repository_id
),
review_stats AS (
    SELECT w.window_key, s.repository_id, count(*) AS reviews_submitted
      FROM submitted s JOIN w ON s.submitted_at >= w.w_start AND s.submitted_at < w.w_end
     GROUP BY w.window_key, s.repository_id
),
star_stats AS (
    SELECT w.window_key, r.id AS repository_id,
           count(*) FILTER (WHERE e.created_at >= w.w_start) AS stars_events,
           count(*) FILTER (WHERE e.created_at < w.w_start) AS prev_stars_events
      FROM repos r
      JOIN github_events_cache e ON e.repository_owner = r.owner AND e.repository_name = r.name
                                AND e.event_type = 'WatchEvent'
      JOIN w ON e.created_at < w.w_end AND e.created_at >= coalesce(w.p_start, w.w_start)
     GROUP BY w.window_key, r.id
),
activity AS (  -- one row per contribution by a human: PR opened, review, comment, issue opened
    SELECT a.repository_id, a.contributor_id, a.at, a.pr, a.review, a.comment, a.issue
      FROM (
            SELECT repository_id, author_id AS contributor_id, created_at AS at,
                   1 AS pr, 0 AS review, 0 AS comment, 0 AS issue
              FROM prs
            UNION ALL
            SELECT repository_id, author_id, submitted_at, 0, 1, 0, 0 FROM submitted
            UNION ALL
            SELECT c.repository_id, c.commenter_id, c.created_at, 0, 0, 1, 0
              FROM comments c
             WHERE c.repository_id = ANY(%(repository_ids)s::uuid[]) AND c.created_at < %(as_of)s::timestamptz
            UNION ALL
            SELECT i.repository_id, i.author_id, i.created_at, 0, 0, 0, 1
              FROM issues i
             WHERE i.repository_id = ANY(%(repository_ids)s::uuid[]) AND i.created_at < %(as_of)s::timestamptz
               AND i.author_id IS NOT NULL
           ) a
      JOIN contributors c ON c.id = a.contributor_id AND NOT c.is_bot
),
per_contributor AS (
    SELECT w.n, a.repository_id, a.contributor_id,
           sum(a.pr) FILTER (WHERE a.at >= w.w_start) AS prs,
           sum(a.review) FILTER (WHERE a.at >= w.w_start) AS reviews,
           sum(a.comment) FILTER (WHERE a.at >= w.w_start) AS comments,
           sum(a.issue) FILTER (WHERE a.at >= w.w_start) AS issues,
           bool_or(a.at >= w.w_start) AS active,
           bool_or(a.at < w.w_start) AS prev_active,
           min(a.at) AS first_at,
           max(a.at) AS last_at
      FROM activity a JOIN w ON a.at < w.w_end AND a.at >= coalesce(w.p_start, w.w_start)
     GROUP BY w.n, a.repository_id, a.contributor_id
),
contributor_stats AS (  -- the arrays are aligned: one aggregation feeds them the same rows in one order
    SELECT n, repository_id,
           coalesce(array_agg(contributor_id) FILTER (WHERE active), '{}') AS ids,
           coalesce(array_agg(prs) FILTER (WHERE active), '{}') AS prs,
           coalesce(array_agg(reviews) FILTER (WHERE active), '{}') AS reviews,
           coalesce(array_agg(comments) FILTER (WHERE active), '{}') AS comments,
           coalesce(array_agg(issues) FILTER (WHERE active), '{}') AS issues,
           CASE WHEN n = 5 THEN coalesce(array_agg(first_at) FILTER (WHERE active), '{}') END AS first_at,
           coalesce(array_agg(contributor_id) FILTER (WHERE prev_active), '{}') AS prev_ids,
           CASE WHEN n = 5 THEN max(last_at) END AS last_activity_at
      FROM per_contributor
     GROUP BY n, repository_id
),
timeline_events AS (
    SELECT repository_id, created_at AS at, 1 AS pr, 0 AS merged, 0 AS issue, 0 AS review FROM prs
    UNION ALL
    SELECT repository_id, merged_at, 0, 1, 0, 0 FROM prs WHERE merged_at < %(as_of)s::timestamptz
    UNION ALL
    SELECT i.repository_id, i.created_at, 0, 0, 1, 0
      FROM issues i
     WHERE i.repository_id = ANY(%(repository_ids)s::uuid[]) AND i.created_at < %(as_of)s::timestamptz
    UNION ALL
    SELECT repository_id, submitted_at, 0, 0, 0, 1 FROM submitted
),
buckets AS (
    SELECT w.n, e.repository_id, date_trunc(w.bucket, e.at AT TIME ZONE 'UTC')::date AS day,
           sum(e.pr) AS prs, sum(e.merged) AS merged, sum(e.issue) AS issues, sum(e.review) AS reviews
      FROM timeline_events e JOIN w ON e.at >= w.w_start AND e.at < w.w_end AND w.bucket IS NOT NULL
     GROUP BY 1, 2, 3
),
timeline AS (
    SELECT n, repository_id, array_agg(day ORDER BY day) AS dates,
           array_agg(prs ORDER BY day) AS prs, array_agg(merged ORDER BY day) AS merged,
           array_agg(issues ORDER BY day) AS issues, array_agg(reviews ORDER BY day) AS reviews
      FROM buckets
     GROUP BY n, repository_id
)
INSERT INTO repository_metric_partials AS m (
    repository_id, as_of, window_key, window_start, window_end,
    prs_opened, prs_open, prs_merged_state, prs_closed, prs_draft, prev_prs_opened,
    prs_merged, commits_merged, merge_hours, reviews_submitted, reviews_on_opened, first_review_hours,
    issues_opened, issues_open, issues_closed, prev_issues_opened, stars_events, prev_stars_events,
    contributor_ids, contributor_prs, contributor_reviews, contributor_comments, contributor_issues,
    contributor_first_at, prev_contributor_ids, last_activity_at,
    timeline_dates, timeline_prs, timeline_merged, timeline_issues, timeline_reviews, computed_at
)
SELECT r.id, t.as_of, w.window_key, w.w_start, w.w_end,
       coalesce(ps.prs_opened, 0), coalesce(ps.prs_open, 0), coalesce(ps.prs_merged_state, 0),
       coalesce(ps.prs_closed, 0), coalesce(ps.prs_draft, 0), coalesce(ps.prev_prs_opened, 0),
       coalesce(ps.prs_merged, 0), coalesce(ps.commits_merged, 0), coalesce(ps.merge_hours, '{}'),
       coalesce(rs.reviews_submitted, 0), coalesce(ps.reviews_on_opened, 0),
       coalesce(ps.first_review_hours, '{}'),
       coalesce(i.issues_opened, 0), coalesce(i.issues_open, 0), coalesce(i.issues_closed, 0),
       coalesce(i.prev_issues_opened, 0), coalesce(ss.stars_events, 0), coalesce(ss.prev_stars_events, 0),
       coalesce(cs.ids, '{}'), coalesce(cs.prs, '{}'), coalesce(cs.reviews, '{}'), coalesce(cs.comments, '{}'),
       coalesce(cs.issues, '{}'),
       CASE WHEN w.window_key = 'all' THEN coalesce(cs.first_at, '{}') END,
       coalesce(cs.prev_ids, '{}'), cs.last_activity_at,
       coalesce(tl.dates, '{}'), coalesce(tl.prs, '{}'), coalesce(tl.merged, '{}'), coalesce(tl.issues, '{}'),
       coalesce(tl.reviews, '{}'), now()
  FROM repos r CROSS JOIN w CROSS JOIN t
  LEFT JOIN pr_stats ps ON ps.repository_id = r.id AND ps.window_key = w.window_key
  LEFT JOIN issue_stats i ON i.repository_id = r.id AND i.window_key = w.window_key
  LEFT JOIN review_stats rs ON rs.repository_id = r.id AND rs.window_key = w.window_key
  LEFT JOIN star_stats ss ON ss.repository_id = r.id AND ss.window_key = w.window_key
  LEFT JOIN contributor_stats cs ON cs.repository_id = r.id AND cs.n = w.n
  LEFT JOIN timeline tl ON tl.repository_id = r.id AND tl.n = w.n
ON CONFLICT (repository_id, as_of, window_key) DO UPDATE SET
    window_start = excluded.window_start, window_end = excluded.window_end,
    prs_opened = excluded.prs_opened, prs_open = excluded.prs_open, prs_merged_state = excluded.prs_merged_state,
    prs_closed = excluded.prs_closed, prs_draft = excluded.prs_draft, prev_prs_opened = excluded.prev_prs_opened,
    prs_merged = excluded.prs_merged, commits_merged = excluded.commits_merged, merge_hours = excluded.merge_hours,
    reviews_submitted = excluded.reviews_submitted, reviews_on_opened = excluded.reviews_on_opened,
    first_review_hours = excluded.first_review_hours, issues_opened = excluded.issues_opened,
    issues_open = excluded.issues_open, issues_closed = excluded.issues_closed,
    prev_issues_opened = excluded.prev_issues_opened, stars_events = excluded.stars_events,
    prev_stars_events = excluded.prev_stars_events, contributor_ids = excluded.contributor_ids,
    contributor_prs = excluded.contributor_prs, contributor_reviews = excluded.contributor_reviews,
    contributor_comments = excluded.contributor_comments, contributor_issues = excluded.contributor_issues,
    contributor_first_at = excluded.contributor_first_at, prev_contributor_ids = excluded.prev_contributor_ids,
    last_activity_at = excluded.last_activity_at, timeline_dates = excluded.timeline_dates,
    timeline_prs = excluded.timeline_prs, timeline_merged = excluded.timeline_merged,
    timeline_issues = excluded.timeline_issues, timeline_reviews = excluded.timeline_reviews,
    computed_at = excluded.computed_at
RETURNING repository_id, window_key

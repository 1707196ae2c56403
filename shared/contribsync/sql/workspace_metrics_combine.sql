-- Combine the workspace's repository partials at %(as_of)s into its five workspace_metrics_cache rows
-- (7d, 30d, 90d, 1y, all), upserted on (workspace_id, time_range) with contributor.info's TTLs. Counts
-- add up; distinct contributors, medians and the top list come from the partials' kept ids and
-- durations, so the result equals an aggregation over the raw rows.
WITH repos AS (
    SELECT r.id, r.full_name, r.language, r.stargazers_count, r.forks_count, r.watchers_count
      FROM workspace_repositories wr JOIN repositories r ON r.id = wr.repository_id
     WHERE wr.workspace_id = %(workspace_id)s
),
ranges (time_range, days, ttl) AS (
    VALUES ('7d', 7, interval '5 minutes'), ('30d', 30, interval '10 minutes'),
           ('90d', 90, interval '30 minutes'), ('1y', 365, interval '1 hour'), ('all', NULL, interval '2 hours')
),
part AS (
    SELECT p.* FROM repository_metric_partials p JOIN repos r ON r.id = p.repository_id
     WHERE p.as_of = %(as_of)s AND p.window_key IN ('7d', '30d', '90d', '1y', 'all')
),
sums AS (
    SELECT window_key, sum(prs_opened) AS prs_opened, sum(prs_open) AS prs_open,
           sum(prs_merged_state) AS prs_merged_state, sum(prs_closed) AS prs_closed, sum(prs_draft) AS prs_draft,
           sum(prev_prs_opened) AS prev_prs_opened, sum(prs_merged) AS prs_merged,
           sum(commits_merged) AS commits_merged, sum(reviews_submitted) AS reviews_submitted,
           sum(reviews_on_opened) AS reviews_on_opened, sum(issues_opened) AS issues_opened,
           sum(issues_open) AS issues_open, sum(issues_closed) AS issues_closed,
           sum(prev_issues_opened) AS prev_issues_opened, sum(stars_events) AS stars_events,
           sum(prev_stars_events) AS prev_stars_events
      FROM part GROUP BY window_key
),
merge_times AS (
    SELECT p.window_key, avg(h) AS avg_h, percentile_cont(0.5) WITHIN GROUP (ORDER BY h) AS median_h
      FROM part p, unnest(p.merge_hours) h GROUP BY p.window_key
),
review_times AS (
    SELECT p.window_key, avg(h) AS avg_h FROM part p, unnest(p.first_review_hours) h GROUP BY p.window_key
),
contrib AS (
    SELECT p.window_key, u.id, sum(u.prs) AS prs, sum(u.reviews) AS reviews, sum(u.comments) AS comments,
           sum(u.issues) AS issues
      FROM part p, unnest(p.contributor_ids, p.contributor_prs, p.contributor_reviews, p.contributor_comments,
                          p.contributor_issues) u (id, prs, reviews, comments, issues)
     GROUP BY p.window_key, u.id
),
first_seen AS (
    SELECT u.id, min(u.first_at) AS first_at
      FROM part p, unnest(p.contributor_ids, p.contributor_first_at) u (id, first_at)
     WHERE p.window_key = 'all' GROUP BY u.id
),
active AS (
    SELECT c.window_key, count(*) AS n,
           count(*) FILTER (WHERE f.first_at >= %(as_of)s::timestamptz - make_interval(days => rg.days)
                              OR rg.days IS NULL) AS new_n
      FROM contrib c JOIN ranges rg ON rg.time_range = c.window_key JOIN first_seen f ON f.id = c.id
     GROUP BY c.window_key
),
prev_active AS (
    SELECT p.window_key, count(DISTINCT id) AS n FROM part p, unnest(p.prev_contributor_ids) id
     GROUP BY p.window_key
),
top AS (
    SELECT window_key, jsonb_agg(jsonb_build_object(
               'id', id, 'username', username, 'avatar_url', avatar_url, 'pull_requests', prs,
               'reviews', reviews, 'comments', comments, 'issues', issues, 'total', total)
               ORDER BY total DESC, username) AS people
      FROM (SELECT c.*, c.prs + c.reviews + c.comments + c.issues AS total, k.username, k.avatar_url,
                   row_number() OVER (PARTITION BY c.window_key
                                      ORDER BY c.prs + c.reviews + c.comments + c.issues DESC, k.username) AS rank
              FROM contrib c JOIN contributors k ON k.id = c.id) ranked
     WHERE rank <= 10
     GROUP BY window_key
),
repo_stats AS (
    SELECT p.window_key, jsonb_agg(jsonb_build_object(
               'repository_id', r.id, 'full_name', r.full_name, 'pull_requests', p.prs_opened,
               'merged', p.prs_merged, 'open', p.prs_open, 'issues', p.issues_opened,
               'reviews', p.reviews_submitted, 'active_contributors', cardinality(p.contributor_ids),
               'stars', r.stargazers_count, 'forks', r.forks_count) ORDER BY r.full_name) AS stats
      FROM part p JOIN repos r ON r.id = p.repository_id GROUP BY p.window_key
),
timeline AS (
    SELECT window_key, jsonb_agg(jsonb_build_object(
               'date', day, 'pull_requests', prs, 'merged', merged, 'issues', issues, 'reviews', reviews)
               ORDER BY day) AS points
      FROM (SELECT p.window_key, u.day, sum(u.prs) AS prs, sum(u.merged) AS merged, sum(u.issues) AS issues,
                   sum(u.reviews) AS reviews
              FROM part p, unnest(p.timeline_dates, p.timeline_prs, p.timeline_merged, p.timeline_issues,
                                  p.timeline_reviews) u (day, prs, merged, issues, reviews)
             GROUP BY p.window_key, u.day) days
     GROUP BY window_key
),
snapshot AS (
    SELECT coalesce(sum(stargazers_count), 0) AS stars, coalesce(sum(forks_count), 0) AS forks,
           coalesce(sum(watchers_count), 0) AS watchers,
           coalesce((SELECT jsonb_object_agg(language, n)
                       FROM (SELECT language, count(*) AS n FROM repos WHERE language IS NOT NULL
                              GROUP BY language) l), '{}'::jsonb) AS languages
      FROM repos
),
everyone AS (SELECT coalesce((SELECT n FROM active WHERE window_key = 'all'), 0) AS n)
INSERT INTO workspace_metrics_cache AS c (
    workspace_id, time_range, period_start, period_end, total_prs, open_prs, merged_prs, closed_prs, draft_prs,
    total_issues, open_issues, closed_issues, total_contributors, active_contributors, new_contributors,
    total_reviews, total_commits, total_stars, total_forks, total_watchers, avg_pr_merge_time_hours,
    median_pr_merge_time_hours, avg_time_to_first_review_hours, reviews_per_pr, pr_velocity,
    issue_closure_rate, top_contributors, activity_timeline, repository_stats, language_distribution,
    stars_trend, prs_trend, contributors_trend, issues_trend, calculated_at, expires_at, is_stale,
    calculation_time_ms, updated_at
)
SELECT %(workspace_id)s, rg.time_range,
       %(as_of)s::timestamptz - make_interval(days => rg.days), %(as_of)s,
       coalesce(s.prs_opened, 0), coalesce(s.prs_open, 0), coalesce(s.prs_merged_state, 0),
       coalesce(s.prs_closed, 0), coalesce(s.prs_draft, 0),
       coalesce(s.issues_opened, 0), coalesce(s.issues_open, 0), coalesce(s.issues_closed, 0),
       everyone.n, coalesce(a.n, 0), coalesce(a.new_n, 0),
       coalesce(s.reviews_submitted, 0), coalesce(s.commits_merged, 0),
       snapshot.stars, snapshot.forks, snapshot.watchers,
       round(mt.avg_h::numeric, 2), round(mt.median_h::numeric, 2), round(rt.avg_h::numeric, 2),
       round(s.reviews_on_opened::numeric / nullif(s.prs_opened, 0), 2),
       round(coalesce(s.prs_merged, 0)::numeric / rg.days, 2),
       round(100.0 * s.issues_closed / nullif(s.issues_opened, 0), 2),
       coalesce(top.people, '[]'), coalesce(tl.points, '[]'), coalesce(rs.stats, '[]'), snapshot.languages,
       CASE WHEN rg.days IS NOT NULL THEN contribsync_trend(s.stars_events, s.prev_stars_events) END,
       CASE WHEN rg.days IS NOT NULL THEN contribsync_trend(s.prs_opened, s.prev_prs_opened) END,
       CASE WHEN rg.days IS NOT NULL THEN contribsync_trend(a.n, pa.n) END,
       CASE WHEN rg.days IS NOT NULL THEN contribsync_trend(s.issues_opened, s.prev_issues_opened) END,
       %(now)s, %(now)s::timestamptz + rg.ttl, false, %(calculation_ms)s, %(now)s
  FROM ranges rg CROSS JOIN snapshot CROSS JOIN everyone
  LEFT JOIN sums s ON s.window_key = rg.time_range
  LEFT JOIN merge_times mt ON mt.window_key = rg.time_range
  LEFT JOIN review_times rt ON rt.window_key = rg.time_range
  LEFT JOIN active a ON a.window_key = rg.time_range
  LEFT JOIN prev_active pa ON pa.window_key = rg.time_range
  LEFT JOIN top ON top.window_key = rg.time_range
  LEFT JOIN repo_stats rs ON rs.window_key = rg.time_range
  LEFT JOIN timeline tl ON tl.window_key = rg.time_range
ON CONFLICT (workspace_id, time_range) DO UPDATE SET
    period_start = excluded.period_start, period_end = excluded.period_end, total_prs = excluded.total_prs,
    open_prs = excluded.open_prs, merged_prs = excluded.merged_prs, closed_prs = excluded.closed_prs,
    draft_prs = excluded.draft_prs, total_issues = excluded.total_issues, open_issues = excluded.open_issues,
    closed_issues = excluded.closed_issues, total_contributors = excluded.total_contributors,
    active_contributors = excluded.active_contributors, new_contributors = excluded.new_contributors,
    total_reviews = excluded.total_reviews, total_commits = excluded.total_commits,
    total_stars = excluded.total_stars, total_forks = excluded.total_forks,
    total_watchers = excluded.total_watchers, avg_pr_merge_time_hours = excluded.avg_pr_merge_time_hours,
    median_pr_merge_time_hours = excluded.median_pr_merge_time_hours,
    avg_time_to_first_review_hours = excluded.avg_time_to_first_review_hours,
    reviews_per_pr = excluded.reviews_per_pr, pr_velocity = excluded.pr_velocity,
    issue_closure_rate = excluded.issue_closure_rate, top_contributors = excluded.top_contributors,
    activity_timeline = excluded.activity_timeline, repository_stats = excluded.repository_stats,
    language_distribution = excluded.language_distribution, stars_trend = excluded.stars_trend,
    prs_trend = excluded.prs_trend, contributors_trend = excluded.contributors_trend,
    issues_trend = excluded.issues_trend, calculated_at = excluded.calculated_at,
    expires_at = excluded.expires_at, is_stale = false, calculation_time_ms = excluded.calculation_time_ms,
    updated_at = excluded.updated_at
RETURNING time_range, total_prs, active_contributors, total_contributors

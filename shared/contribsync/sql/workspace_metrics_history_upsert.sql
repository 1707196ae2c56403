-- The workspace's daily rows for the UTC day of %(as_of)s and the day before, from the repository
-- partials' day windows: that day's activity, and totals as of the day's end. Idempotent per
-- (workspace, day): a rerun rewrites the counts, which are a function of the data. Star and fork
-- totals and the metrics snapshot are "now" values: the day before keeps the ones stored with it.
WITH repos AS (
    SELECT r.id, r.stargazers_count, r.forks_count
      FROM workspace_repositories wr JOIN repositories r ON r.id = wr.repository_id
     WHERE wr.workspace_id = %(workspace_id)s
),
part AS (
    SELECT p.* FROM repository_metric_partials p JOIN repos r ON r.id = p.repository_id
     WHERE p.as_of = %(as_of)s AND (p.window_key LIKE 'day:%%' OR p.window_key = 'all')
),
days AS (
    SELECT substr(window_key, 5)::date AS day, min(window_start) AS day_start, min(window_end) AS day_end,
           sum(prs_opened) AS prs, sum(prs_merged) AS merged, sum(issues_opened) AS issues,
           sum(reviews_submitted) AS reviews, sum(commits_merged) AS commits
      FROM part WHERE window_key LIKE 'day:%%' GROUP BY window_key
),
first_seen AS (
    SELECT u.id, min(u.first_at) AS first_at
      FROM part p, unnest(p.contributor_ids, p.contributor_first_at) u (id, first_at)
     WHERE p.window_key = 'all' GROUP BY u.id
),
day_active AS (
    SELECT d.day, count(DISTINCT u.id) AS n,
           count(DISTINCT u.id) FILTER (WHERE f.first_at >= d.day_start) AS new_n
      FROM days d
      JOIN part p ON p.window_key = 'day:' || d.day::text
      CROSS JOIN LATERAL unnest(p.contributor_ids) u (id)
      JOIN first_seen f ON f.id = u.id
     GROUP BY d.day
),
everything AS (
    SELECT coalesce(sum(prs_opened), 0) AS prs, coalesce(sum(issues_opened), 0) AS issues
      FROM part WHERE window_key = 'all'
),
snapshot AS (
    SELECT coalesce(sum(stargazers_count), 0) AS stars, coalesce(sum(forks_count), 0) AS forks FROM repos
),
cache AS (
    SELECT jsonb_build_object(
               'as_of', %(as_of)s::timestamptz,
               'active_contributors_7d', max(active_contributors) FILTER (WHERE time_range = '7d'),
               'active_contributors_30d', max(active_contributors) FILTER (WHERE time_range = '30d'),
               'active_contributors_90d', max(active_contributors) FILTER (WHERE time_range = '90d'),
               'open_prs', max(open_prs) FILTER (WHERE time_range = 'all'),
               'merged_prs', max(merged_prs) FILTER (WHERE time_range = 'all'),
               'closed_prs', max(closed_prs) FILTER (WHERE time_range = 'all'),
               'reviews_per_pr_30d', max(reviews_per_pr) FILTER (WHERE time_range = '30d'),
               'avg_time_to_first_review_hours_30d',
                   max(avg_time_to_first_review_hours) FILTER (WHERE time_range = '30d'),
               'median_pr_merge_time_hours_30d', max(median_pr_merge_time_hours) FILTER (WHERE time_range = '30d')
           ) AS metrics
      FROM workspace_metrics_cache WHERE workspace_id = %(workspace_id)s
)
INSERT INTO workspace_metrics_history AS h (
    workspace_id, metric_date, daily_prs, daily_merged_prs, daily_issues, daily_reviews, daily_commits,
    daily_active_contributors, daily_new_contributors, total_prs, total_issues, total_contributors,
    total_stars, total_forks, metrics
)
SELECT %(workspace_id)s, d.day, d.prs, d.merged, d.issues, d.reviews, d.commits,
       coalesce(a.n, 0), coalesce(a.new_n, 0),
       -- totals at the day's end: everything before as_of, less what the later day (if any) added
       everything.prs - coalesce((SELECT sum(l.prs) FROM days l WHERE l.day > d.day), 0),
       everything.issues - coalesce((SELECT sum(l.issues) FROM days l WHERE l.day > d.day), 0),
       (SELECT count(*) FROM first_seen f WHERE f.first_at < d.day_end),
       snapshot.stars, snapshot.forks, cache.metrics
  FROM days d CROSS JOIN everything CROSS JOIN snapshot CROSS JOIN cache
  LEFT JOIN day_active a ON a.day = d.day
ON CONFLICT (workspace_id, metric_date) DO UPDATE SET
    daily_prs = excluded.daily_prs, daily_merged_prs = excluded.daily_merged_prs,
    daily_issues = excluded.daily_issues, daily_reviews = excluded.daily_reviews,
    daily_commits = excluded.daily_commits, daily_active_contributors = excluded.daily_active_contributors,
    daily_new_contributors = excluded.daily_new_contributors, total_prs = excluded.total_prs,
    total_issues = excluded.total_issues, total_contributors = excluded.total_contributors,
    total_stars = CASE WHEN h.metric_date = %(today)s THEN excluded.total_stars ELSE h.total_stars END,
    total_forks = CASE WHEN h.metric_date = %(today)s THEN excluded.total_forks ELSE h.total_forks END,
    metrics = CASE WHEN h.metric_date = %(today)s THEN excluded.metrics ELSE h.metrics END
RETURNING metric_date, daily_prs, total_prs

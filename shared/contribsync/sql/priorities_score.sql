-- Score every tracked repository in one statement (the rules and thresholds are in
-- services/priorities.py) and store priority, score, workspace membership and reasons on the rows whose
-- values change; return how many were scored, how many fell in each priority and how many changed.
-- facts: only active workspaces count; "items" are the pull requests and issues created or updated in
-- the velocity window that existed at the run's time; last activity is the later of GitHub's last push
-- and the newest pull request update.
WITH facts AS (
    SELECT t.id,
           r.is_archived,
           r.is_disabled,
           NOT r.is_active AS inactive,
           r.stargazers_count,
           r.forks_count,
           (SELECT count(*) FROM workspace_repositories wr
              JOIN workspaces w ON w.id = wr.workspace_id AND w.is_active
             WHERE wr.repository_id = r.id)::integer AS workspace_count,
           (SELECT count(*) FROM pull_requests p
             WHERE p.repository_id = r.id AND p.updated_at >= %(velocity_since)s AND p.created_at <= %(now)s)
         + (SELECT count(*) FROM issues i
             WHERE i.repository_id = r.id AND i.updated_at >= %(velocity_since)s AND i.created_at <= %(now)s)
               AS items,
           GREATEST(r.github_pushed_at,
                    (SELECT max(p.updated_at) FROM pull_requests p WHERE p.repository_id = r.id)) AS last_activity
      FROM tracked_repositories t
      JOIN repositories r ON r.id = t.repository_id
     WHERE t.tracking_enabled
),
reasoned AS (
    SELECT id,
           workspace_count,
           is_archived OR is_disabled OR inactive AS retired,
           CASE
             WHEN is_archived OR is_disabled OR inactive THEN array_remove(ARRAY[
                 CASE WHEN is_archived THEN 'archived' END,
                 CASE WHEN is_disabled THEN 'disabled' END,
                 CASE WHEN inactive THEN 'inactive' END]::text[], NULL)
             WHEN workspace_count = 0 THEN ARRAY['no-workspace']::text[]
             ELSE array_remove(ARRAY[
                 CASE WHEN items >= %(busy_items)s THEN 'busy' WHEN items > 0 THEN 'active' END,
                 CASE WHEN last_activity >= %(recent_since)s THEN 'recently-updated'
                      WHEN last_activity >= %(month_since)s THEN 'updated-this-month' END,
                 CASE WHEN stargazers_count >= %(popular_stars)s THEN 'popular' END,
                 CASE WHEN forks_count >= %(forked_forks)s THEN 'forked' END,
                 CASE WHEN workspace_count >= %(multi_workspaces)s THEN 'multi-workspace' END]::text[], NULL)
           END AS reasons
      FROM facts
),
pointed AS (
    SELECT reasoned.*,
           (SELECT coalesce(sum((%(points)s::jsonb ->> reason)::integer), 0)
              FROM unnest(reasons) AS reason)::integer AS points
      FROM reasoned
),
ranked AS (
    SELECT id, workspace_count, reasons, points,
           CASE WHEN retired THEN 'low'
                WHEN workspace_count = 0 THEN 'medium'
                WHEN points >= %(high_from)s THEN 'high'
                WHEN points >= %(medium_from)s THEN 'medium'
                ELSE 'low' END AS priority
      FROM pointed
),
scored AS (
    SELECT id, workspace_count, reasons, priority,
           (%(base_scores)s::jsonb ->> priority)::integer + points AS priority_score
      FROM ranked
),
changed AS (
    UPDATE tracked_repositories t
       SET priority            = s.priority::repository_priority,  -- contributor.info's enum (0000)
           priority_score      = s.priority_score,
           is_workspace_repo   = s.workspace_count > 0,
           workspace_count     = s.workspace_count,
           priority_reasons    = s.reasons,
           priority_changed_at = %(now)s,
           updated_at          = %(now)s
      FROM scored s
     WHERE t.id = s.id
       AND (t.priority::text, t.priority_score, t.is_workspace_repo, t.workspace_count, t.priority_reasons)
           IS DISTINCT FROM (s.priority, s.priority_score, s.workspace_count > 0, s.workspace_count, s.reasons)
    RETURNING t.id
)
SELECT count(*)::integer                                      AS scored,
       (count(*) FILTER (WHERE priority = 'high'))::integer   AS high,
       (count(*) FILTER (WHERE priority = 'medium'))::integer AS medium,
       (count(*) FILTER (WHERE priority = 'low'))::integer    AS low,
       (SELECT count(*) FROM changed)::integer                AS changed
  FROM scored

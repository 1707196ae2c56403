-- A repository as GitHub describes it, keyed by GitHub id (renames and transfers keep the row): from
-- GraphQL (discovery; capture.repos.graphql_params) or from a REST or webhook object
-- (capture.repos.rest_params). One set of rules for both:
-- - only a newer or equal description replaces the stored one (GitHub's updated_at), so a late
--   delivery never undoes a sync; github_pushed_at never goes back;
-- - what a source does not carry is NULL and keeps the stored value: GraphQL has no size, has_pages
--   or has_downloads; REST and webhook objects have no pull request count, and their watchers_count
--   and open_issues_count mean stars and issues plus PRs (GitHub's legacy fields), so the sync's
--   watchers (subscribers) and open issues are kept;
-- - %(reactivate)s (a GraphQL read: GitHub has it) makes the repository active again;
--   %(from_webhook)s moves last_webhook_event_at;
-- - the sync clocks are never touched.
-- A repository described unchanged is left alone (no new row version, no lock held) unless a webhook's
-- last_webhook_event_at is a minute old, and the stored row is returned as it is.
WITH upserted AS (
INSERT INTO repositories AS r (github_id, full_name, owner, name, description, homepage, language, topics, license,
                               default_branch, stargazers_count, watchers_count, forks_count, open_issues_count,
                               pull_request_count, is_fork, is_archived, is_disabled, is_private, has_issues,
                               has_projects, has_wiki, has_discussions, github_created_at, github_updated_at,
                               github_pushed_at, last_webhook_event_at, size, has_pages, has_downloads)
VALUES (%(github_id)s, %(full_name)s, %(owner)s, %(name)s, %(description)s, %(homepage)s, %(language)s,
        %(topics)s, %(license)s, %(default_branch)s, %(stargazers_count)s, COALESCE(%(watchers_count)s, 0),
        %(forks_count)s, COALESCE(%(open_issues_count)s, 0), COALESCE(%(pull_request_count)s, 0), %(is_fork)s,
        %(is_archived)s, %(is_disabled)s, %(is_private)s, %(has_issues)s, %(has_projects)s, %(has_wiki)s,
        %(has_discussions)s, %(github_created_at)s, %(github_updated_at)s, %(github_pushed_at)s,
        CASE WHEN %(from_webhook)s THEN now() END, COALESCE(%(size)s, 0), COALESCE(%(has_pages)s, false),
        COALESCE(%(has_downloads)s, true))
ON CONFLICT (github_id) DO UPDATE SET
    full_name             = EXCLUDED.full_name,
    owner                 = EXCLUDED.owner,
    name                  = EXCLUDED.name,
    description           = EXCLUDED.description,
    homepage              = EXCLUDED.homepage,
    language              = EXCLUDED.language,
    topics                = EXCLUDED.topics,
    license               = EXCLUDED.license,
    default_branch        = EXCLUDED.default_branch,
    stargazers_count      = EXCLUDED.stargazers_count,
    watchers_count        = COALESCE(%(watchers_count)s, r.watchers_count),
    forks_count           = EXCLUDED.forks_count,
    open_issues_count     = COALESCE(%(open_issues_count)s, r.open_issues_count),
    pull_request_count    = COALESCE(%(pull_request_count)s, r.pull_request_count),
    is_fork               = EXCLUDED.is_fork,
    is_archived           = EXCLUDED.is_archived,
    is_disabled           = EXCLUDED.is_disabled,
    is_private            = EXCLUDED.is_private,
    has_issues            = EXCLUDED.has_issues,
    has_projects          = EXCLUDED.has_projects,
    has_wiki              = EXCLUDED.has_wiki,
    has_discussions       = EXCLUDED.has_discussions,
    github_created_at     = EXCLUDED.github_created_at,
    github_updated_at     = EXCLUDED.github_updated_at,
    github_pushed_at      = GREATEST(r.github_pushed_at, EXCLUDED.github_pushed_at),
    last_webhook_event_at = CASE WHEN %(from_webhook)s THEN now() ELSE r.last_webhook_event_at END,
    size                  = COALESCE(%(size)s, r.size),
    has_pages             = COALESCE(%(has_pages)s, r.has_pages),
    has_downloads         = COALESCE(%(has_downloads)s, r.has_downloads),
    is_active             = r.is_active OR %(reactivate)s,
    updated_at            = now()
 WHERE (r.github_updated_at IS NULL OR EXCLUDED.github_updated_at IS NULL
        OR r.github_updated_at <= EXCLUDED.github_updated_at)
   AND ((%(from_webhook)s AND (r.last_webhook_event_at IS NULL OR r.last_webhook_event_at < now() - interval '1 minute'))
        OR (%(reactivate)s AND NOT r.is_active)
        OR (r.full_name, r.owner, r.name, r.description, r.homepage, r.language, r.topics, r.license,
            r.default_branch, r.stargazers_count, r.watchers_count, r.forks_count, r.open_issues_count,
            r.pull_request_count, r.is_fork, r.is_archived, r.is_disabled, r.is_private, r.has_issues,
            r.has_projects, r.has_wiki, r.has_discussions, r.github_created_at, r.github_updated_at,
            r.github_pushed_at, r.size, r.has_pages, r.has_downloads)
           IS DISTINCT FROM
           (EXCLUDED.full_name, EXCLUDED.owner, EXCLUDED.name, EXCLUDED.description, EXCLUDED.homepage,
            EXCLUDED.language, EXCLUDED.topics, EXCLUDED.license, EXCLUDED.default_branch,
            EXCLUDED.stargazers_count, COALESCE(%(watchers_count)s, r.watchers_count), EXCLUDED.forks_count,
            COALESCE(%(open_issues_count)s, r.open_issues_count), COALESCE(%(pull_request_count)s, r.pull_request_count),
            EXCLUDED.is_fork, EXCLUDED.is_archived, EXCLUDED.is_disabled, EXCLUDED.is_private, EXCLUDED.has_issues,
            EXCLUDED.has_projects, EXCLUDED.has_wiki, EXCLUDED.has_discussions, EXCLUDED.github_created_at,
            EXCLUDED.github_updated_at, GREATEST(r.github_pushed_at, EXCLUDED.github_pushed_at),
            COALESCE(%(size)s, r.size), COALESCE(%(has_pages)s, r.has_pages),
            COALESCE(%(has_downloads)s, r.has_downloads)))
RETURNING id, github_id, full_name, owner, name, is_active, has_discussions, (xmax = 0) AS inserted
)
SELECT * FROM upserted
UNION ALL
SELECT id, github_id, full_name, owner, name, is_active, has_discussions, false FROM repositories
 WHERE github_id = %(github_id)s AND NOT EXISTS (SELECT FROM upserted)

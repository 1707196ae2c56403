-- A repository as a webhook payload describes it, keyed by GitHub id (renames and transfers keep the
-- row). Only a newer or equal description replaces the stored one (GitHub's updated_at); counts
-- GitHub does not put in payloads (pull_request_count) and the sync clocks are never touched.
INSERT INTO repositories AS r (github_id, full_name, owner, name, description, homepage, language, topics, license,
                               default_branch, stargazers_count, watchers_count, forks_count, open_issues_count,
                               is_fork, is_archived, is_disabled, is_private, has_issues, has_projects, has_wiki,
                               has_discussions, github_created_at, github_updated_at, github_pushed_at,
                               last_webhook_event_at)
VALUES (%(github_id)s, %(full_name)s, %(owner)s, %(name)s, %(description)s, %(homepage)s, %(language)s,
        %(topics)s, %(license)s, %(default_branch)s, %(stargazers_count)s, %(watchers_count)s, %(forks_count)s,
        %(open_issues_count)s, %(is_fork)s, %(is_archived)s, %(is_disabled)s, %(is_private)s, %(has_issues)s,
        %(has_projects)s, %(has_wiki)s, %(has_discussions)s, %(github_created_at)s, %(github_updated_at)s,
        %(github_pushed_at)s, now())
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
    watchers_count        = EXCLUDED.watchers_count,
    forks_count           = EXCLUDED.forks_count,
    open_issues_count     = EXCLUDED.open_issues_count,
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
    last_webhook_event_at = now(),
    updated_at            = now()
 WHERE r.github_updated_at IS NULL OR r.github_updated_at <= EXCLUDED.github_updated_at
RETURNING id, github_id, full_name, owner, name, is_active, (xmax = 0) AS inserted

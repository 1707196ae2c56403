"""Dataset records as GitHub's REST objects (also the objects inside webhook payloads).

Field sets follow GitHub's REST responses and the octokit webhook schema in
``tests/fixtures/github/webhooks/schema.json``; a test validates generated webhook payloads against it.
Every ``*_url`` points at the simulator (``api``) so a client that follows them stays local.

GitHub's quirks kept on purpose: REST logins of bots end in ``[bot]`` (GraphQL drops it); issue lists
include pull requests, marked by a ``pull_request`` key; states are lower case (``open``/``closed``,
a merged pull request is ``closed`` with ``merged_at`` set); reviews' ``state`` is upper case.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from contribsync_sim.graphql_api import iso

if TYPE_CHECKING:
    from contribsync_sim.dataset import (
        ChangedFile,
        Dataset,
        Issue,
        IssueComment,
        PullRequest,
        Repository,
        Review,
        ReviewComment,
        User,
    )

WEB = "https://github.com"
_NO_REACTIONS = {"total_count": 0, "+1": 0, "-1": 0, "laugh": 0, "hooray": 0, "confused": 0, "heart": 0,
                 "rocket": 0, "eyes": 0}
# REST issues carry these since 2025 (the dataset has no sub-issues nor dependencies).
_NO_SUB_ISSUES = {"sub_issues_summary": {"total": 0, "completed": 0, "percent_completed": 0},
                  "issue_dependencies_summary": {"blocked_by": 0, "total_blocked_by": 0, "blocking": 0,
                                                 "total_blocking": 0}}


class Shapes:
    """Serialisers bound to a dataset and the API base the ``*_url`` fields point at."""

    def __init__(self, ds: Dataset, api: str, *, webhook: bool = False) -> None:
        self.ds = ds
        self.api = api.rstrip("/")
        # Webhook payloads differ from REST in small ways: no ``user_view_type`` nor the issue ``type``,
        # ``closed_by`` and sub-issue/dependency summaries, and a review's state is lower case there.
        self.webhook = webhook

    # -- users and repositories ---------------------------------------------------------------------

    def user(self, user_id: int | None) -> dict[str, Any] | None:
        user = self.ds.users.get(user_id) if user_id is not None else None
        return self.user_of(user) if user is not None else None

    def user_of(self, user: User) -> dict[str, Any]:
        u = f"{self.api}/users/{user.login}"
        return {
            "login": user.login, "id": user.id, "node_id": user.node_id, "avatar_url": user.avatar_url,
            "gravatar_id": "", "url": u, "html_url": f"{WEB}/{user.login}", "followers_url": f"{u}/followers",
            "following_url": f"{u}/following{{/other_user}}", "gists_url": f"{u}/gists{{/gist_id}}",
            "starred_url": f"{u}/starred{{/owner}}{{/repo}}", "subscriptions_url": f"{u}/subscriptions",
            "organizations_url": f"{u}/orgs", "repos_url": f"{u}/repos", "events_url": f"{u}/events{{/privacy}}",
            "received_events_url": f"{u}/received_events", "type": user.type, "site_admin": False,
            **({} if self.webhook else {"user_view_type": "public"}),
        }

    def user_detail(self, user: User) -> dict[str, Any]:
        """``GET /users/{login}``: the simple user plus the profile."""
        return {**self.user_of(user), "name": user.name, "company": None, "blog": "", "location": None,
                "email": user.email, "hireable": None, "bio": None, "twitter_username": None,
                "public_repos": user.public_repos, "public_gists": 0, "followers": user.followers,
                "following": user.following,
                "created_at": iso(user.created_at), "updated_at": iso(user.created_at)}

    def organization(self, repo: Repository) -> dict[str, Any]:
        org = repo.owner
        o = f"{self.api}/orgs/{org.login}"
        return {"login": org.login, "id": org.id, "node_id": org.node_id, "url": o, "repos_url": f"{o}/repos",
                "events_url": f"{o}/events", "hooks_url": f"{o}/hooks", "issues_url": f"{o}/issues",
                "members_url": f"{o}/members{{/member}}", "public_members_url": f"{o}/public_members{{/member}}",
                "avatar_url": org.avatar_url, "description": None}

    def repository(self, repo: Repository, *, detail: bool = False) -> dict[str, Any]:
        """A repository as nested in other objects; ``detail`` adds what ``GET /repos/{o}/{r}`` has too."""
        r = f"{self.api}/repos/{repo.full_name}"
        html = f"{WEB}/{repo.full_name}"
        open_issues = sum(i.state == "OPEN" for i in self.ds.issues_by_repo.get(repo.id, [])) + sum(
            p.state == "OPEN" for p in self.ds.prs_by_repo.get(repo.id, []))
        templated = {
            "keys_url": "keys{/key_id}", "collaborators_url": "collaborators{/collaborator}",
            "issue_events_url": "issues/events{/number}", "assignees_url": "assignees{/user}",
            "branches_url": "branches{/branch}", "blobs_url": "git/blobs{/sha}", "git_tags_url": "git/tags{/sha}",
            "git_refs_url": "git/refs{/sha}", "trees_url": "git/trees{/sha}", "statuses_url": "statuses/{sha}",
            "commits_url": "commits{/sha}", "git_commits_url": "git/commits{/sha}",
            "comments_url": "comments{/number}", "issue_comment_url": "issues/comments{/number}",
            "contents_url": "contents/{+path}", "compare_url": "compare/{base}...{head}",
            "archive_url": "{archive_format}{/ref}", "issues_url": "issues{/number}", "pulls_url": "pulls{/number}",
            "milestones_url": "milestones{/number}", "notifications_url": "notifications{?since,all,participating}",
            "labels_url": "labels{/name}", "releases_url": "releases{/id}",
        }
        plain = ("forks", "teams", "hooks", "events", "tags", "languages", "stargazers", "contributors",
                 "subscribers", "subscription", "merges", "downloads", "deployments")
        return {
            "id": repo.id, "node_id": repo.node_id, "name": repo.name, "full_name": repo.full_name,
            "private": False, "owner": self.user_of(repo.owner), "html_url": html,
            "description": repo.description, "fork": False, "url": r,
            **{f"{name}_url": f"{r}/{name}" for name in plain},
            **{key: f"{r}/{tail}" for key, tail in templated.items()},
            "created_at": iso(repo.created_at), "updated_at": iso(repo.updated_at),
            "pushed_at": iso(repo.pushed_at), "git_url": f"git://github.com/{repo.full_name}.git",
            "ssh_url": f"git@github.com:{repo.full_name}.git", "clone_url": f"{html}.git", "svn_url": html,
            "homepage": None, "size": 1024, "stargazers_count": repo.stars, "watchers_count": repo.stars,
            "language": repo.language, "has_issues": True, "has_projects": False, "has_downloads": True,
            "has_wiki": False, "has_pages": False, "has_discussions": repo.has_discussions,
            "forks_count": repo.forks, "mirror_url": None, "archived": False, "disabled": False,
            "open_issues_count": open_issues,
            "license": {"key": "mit", "name": "MIT License", "spdx_id": "MIT",
                        "url": f"{self.api}/licenses/mit", "node_id": "MDc6TGljZW5zZTEz"},
            "allow_forking": True, "is_template": False, "web_commit_signoff_required": False,
            "topics": list(repo.topics), "visibility": "public", "forks": repo.forks, "open_issues": open_issues,
            "watchers": repo.stars, "default_branch": repo.default_branch, "custom_properties": {},
            **({"subscribers_count": repo.watchers, "network_count": repo.forks} if detail else {}),
        }

    def labels(self, repo: Repository, names: list[str]) -> list[dict[str, Any]]:
        return [{"id": 4_000_000 + sum(map(ord, n)), "node_id": f"LA_{n.encode().hex()[:16]}",
                 "url": f"{self.api}/repos/{repo.full_name}/labels/{n}", "name": n, "color": "ededed",
                 "default": n in ("bug", "enhancement", "documentation"), "description": None} for n in names]

    def _association(self, repo: Repository, user_id: int) -> str:
        if user_id == repo.owner.id:
            return "OWNER"
        return "MEMBER" if user_id in self.ds.humans[:5] else "CONTRIBUTOR"

    # -- pull requests ------------------------------------------------------------------------------

    def pull_request(self, pr: PullRequest) -> dict[str, Any]:
        ds = self.ds
        repo = ds.repos[pr.repo_id]
        r = f"{self.api}/repos/{repo.full_name}"
        html = f"{WEB}/{repo.full_name}/pull/{pr.number}"
        author = ds.users[pr.author_id]

        def ref(name: str, sha: str) -> dict[str, Any]:
            return {"label": f"{repo.owner.login}:{name}", "ref": name, "sha": sha,
                    "user": self.user_of(repo.owner), "repo": self.repository(repo)}

        link = {"self": f"{r}/pulls/{pr.number}", "html": html, "issue": f"{r}/issues/{pr.number}",
                "comments": f"{r}/issues/{pr.number}/comments", "review_comments": f"{r}/pulls/{pr.number}/comments",
                "review_comment": f"{r}/pulls/comments{{/number}}", "commits": f"{r}/pulls/{pr.number}/commits",
                "statuses": f"{r}/statuses/{pr.head_sha}"}
        return {
            "url": f"{r}/pulls/{pr.number}", "id": pr.id, "node_id": pr.node_id, "html_url": html,
            "diff_url": f"{html}.diff", "patch_url": f"{html}.patch", "issue_url": f"{r}/issues/{pr.number}",
            "number": pr.number, "state": "open" if pr.state == "OPEN" else "closed", "locked": False,
            "title": pr.title, "user": self.user_of(author), "body": pr.body or None,
            "created_at": iso(pr.created_at), "updated_at": iso(pr.updated_at), "closed_at": iso(pr.closed_at),
            "merged_at": iso(pr.merged_at), "merge_commit_sha": pr.head_sha if pr.merged_at else None,
            "assignee": None, "assignees": [],
            "requested_reviewers": [self.user_of(u) for u in self.ds.requested_reviewers(pr)], "requested_teams": [],
            "labels": self.labels(repo, pr.labels), "milestone": None,
            "commits_url": link["commits"], "review_comments_url": link["review_comments"],
            "review_comment_url": link["review_comment"], "comments_url": link["comments"],
            "statuses_url": link["statuses"],
            "head": ref(pr.head_ref, pr.head_sha), "base": ref(pr.base_ref, f"{pr.id:040x}"),
            "_links": {k: {"href": v} for k, v in link.items()},
            "author_association": self._association(repo, pr.author_id), "auto_merge": None,
            "active_lock_reason": None, "draft": pr.draft, "merged": pr.state == "MERGED",
            "mergeable": None if pr.state != "OPEN" else True, "rebaseable": None if pr.state != "OPEN" else True,
            "mergeable_state": "clean" if pr.state == "OPEN" else "unknown",
            "merged_by": self.user(pr.merged_by_id),
            "comments": len(ds.issue_comments_by_number.get((pr.repo_id, pr.number), [])),
            "review_comments": len(ds.review_comments_by_pr.get(pr.id, [])),
            "maintainer_can_modify": False, "commits": pr.commits, "additions": pr.additions,
            "deletions": pr.deletions, "changed_files": pr.changed_files,
        }

    def pull_request_item(self, pr: PullRequest) -> dict[str, Any]:
        """An entry of ``GET /pulls``: GitHub leaves out the counts and merge fields there."""
        full = self.pull_request(pr)
        for key in ("merged", "mergeable", "rebaseable", "mergeable_state", "merged_by", "comments",
                    "review_comments", "maintainer_can_modify", "commits", "additions", "deletions",
                    "changed_files"):
            full.pop(key)
        return full

    def review(self, review: Review) -> dict[str, Any]:
        pr = self.ds.prs[review.pr_id]
        repo = self.ds.repos[pr.repo_id]
        r = f"{self.api}/repos/{repo.full_name}/pulls/{pr.number}"
        html = f"{WEB}/{repo.full_name}/pull/{pr.number}#pullrequestreview-{review.id}"
        return {"id": review.id, "node_id": review.node_id, "user": self.user(review.author_id),
                "body": review.body, "state": review.state.lower() if self.webhook else review.state,
                "html_url": html, "pull_request_url": r,
                "author_association": self._association(repo, review.author_id),
                "_links": {"html": {"href": html}, "pull_request": {"href": r}},
                "submitted_at": iso(review.submitted_at), "commit_id": review.commit_id}

    def review_comment(self, c: ReviewComment) -> dict[str, Any]:
        pr = self.ds.prs[c.pr_id]
        repo = self.ds.repos[pr.repo_id]
        r = f"{self.api}/repos/{repo.full_name}"
        html = f"{WEB}/{repo.full_name}/pull/{pr.number}#discussion_r{c.id}"
        links = {"self": {"href": f"{r}/pulls/comments/{c.id}"}, "html": {"href": html},
                 "pull_request": {"href": f"{r}/pulls/{pr.number}"}}
        out = {
            "url": f"{r}/pulls/comments/{c.id}", "pull_request_review_id": c.review_id, "id": c.id,
            "node_id": c.node_id, "diff_hunk": c.diff_hunk, "path": c.path, "position": c.position,
            "original_position": c.original_position, "commit_id": c.commit_id,
            "original_commit_id": c.original_commit_id, "user": self.user(c.author_id), "body": c.body,
            "created_at": iso(c.created_at), "updated_at": iso(c.updated_at), "html_url": html,
            "pull_request_url": f"{r}/pulls/{pr.number}",
            "author_association": self._association(repo, c.author_id), "_links": links,
            "start_line": None, "original_start_line": None, "start_side": None, "line": c.position,
            "original_line": c.original_position, "side": "RIGHT", "subject_type": "line",
            "reactions": {"url": f"{r}/pulls/comments/{c.id}/reactions", **_NO_REACTIONS},
        }
        if c.in_reply_to_id is not None:
            out["in_reply_to_id"] = c.in_reply_to_id
        return out

    def commit(self, pr: PullRequest, index: int) -> dict[str, Any]:
        """The ``index``-th commit of a pull request (the simulator keeps counts, so commits are derived)."""
        repo = self.ds.repos[pr.repo_id]
        sha = pr.head_sha if index == pr.commits - 1 else f"{(pr.id * 131 + index) % 16**40:040x}"
        author = self.ds.users[pr.author_id]
        person = {"name": author.name or author.login, "email": author.email or f"{author.login}@example.com",
                  "date": iso(pr.created_at)}
        r = f"{self.api}/repos/{repo.full_name}"
        return {"sha": sha, "node_id": f"C_{sha[:20]}", "url": f"{r}/commits/{sha}",
                "html_url": f"{WEB}/{repo.full_name}/commit/{sha}", "comments_url": f"{r}/commits/{sha}/comments",
                "commit": {"url": f"{r}/git/commits/{sha}", "author": person, "committer": person,
                           "message": f"{pr.title} (part {index + 1})", "comment_count": 0,
                           "tree": {"sha": sha[::-1], "url": f"{r}/git/trees/{sha[::-1]}"},
                           "verification": {"verified": False, "reason": "unsigned", "signature": None,
                                            "payload": None, "verified_at": None}},
                "author": self.user_of(author), "committer": self.user_of(author), "parents": []}

    def file(self, pr: PullRequest, f: ChangedFile) -> dict[str, Any]:
        repo = self.ds.repos[pr.repo_id]
        return {"sha": hashlib.sha1(f"{pr.id}:{f.path}".encode()).hexdigest(), "filename": f.path,
                "status": {"ADDED": "added", "DELETED": "removed", "RENAMED": "renamed"}.get(
                    f.change_type, "modified"),
                "additions": f.additions, "deletions": f.deletions, "changes": f.additions + f.deletions,
                "blob_url": f"{WEB}/{repo.full_name}/blob/{pr.head_sha}/{f.path}",
                "raw_url": f"{WEB}/{repo.full_name}/raw/{pr.head_sha}/{f.path}",
                "contents_url": f"{self.api}/repos/{repo.full_name}/contents/{f.path}?ref={pr.head_sha}"}

    # -- events -------------------------------------------------------------------------------------

    def events(self, repo: Repository) -> list[dict[str, Any]]:
        """``GET /repos/{o}/{r}/events``: derived from the dataset, newest first, at most 300 within 90 days
        of the dataset's clock, as GitHub keeps them. Stars and forks are spread over those 90 days (the
        dataset keeps only their counts); pull requests and issues opened in the window appear too."""
        ds = self.ds
        horizon = ds.now - timedelta(days=90)
        base = 40_000_000_000 + (repo.id % 100_000) * 10_000
        raw: list[tuple[datetime, int, str, int, dict[str, Any]]] = []
        for k in range(min(repo.stars, 150)):
            raw.append((ds.now - timedelta(minutes=17 + k * 851), base + k, "WatchEvent",
                        ds.humans[(repo.id + k * 7) % len(ds.humans)], {"action": "started"}))
        for k in range(min(repo.forks, 50)):
            actor = ds.users[ds.humans[(repo.id + k * 11) % len(ds.humans)]]
            forkee = {"id": base + 5000 + k, "name": repo.name, "full_name": f"{actor.login}/{repo.name}",
                      "owner": self.user_of(actor), "fork": True}
            raw.append((ds.now - timedelta(minutes=29 + k * 2437), base + 5000 + k, "ForkEvent", actor.id,
                        {"forkee": forkee}))
        for pr in ds.prs_by_repo.get(repo.id, []):
            if pr.created_at >= horizon:
                raw.append((pr.created_at, base + 7000 + pr.number, "PullRequestEvent", pr.author_id,
                            {"action": "opened", "number": pr.number}))
        for issue in ds.issues_by_repo.get(repo.id, []):
            if issue.created_at >= horizon:
                raw.append((issue.created_at, base + 7000 + issue.number, "IssuesEvent", issue.author_id,
                            {"action": "opened"}))
        raw = sorted((e for e in raw if e[0] >= horizon), key=lambda e: (e[0], e[1]), reverse=True)[:300]
        out = []
        for at, event_id, kind, actor_id, payload in raw:
            actor = ds.users[actor_id]
            out.append({"id": str(event_id), "type": kind,
                        "actor": {"id": actor.id, "login": actor.login, "display_login": actor.login,
                                  "gravatar_id": "", "url": f"{self.api}/users/{actor.login}",
                                  "avatar_url": actor.avatar_url},
                        "repo": {"id": repo.id, "name": repo.full_name, "url": f"{self.api}/repos/{repo.full_name}"},
                        "payload": payload, "public": True, "created_at": iso(at),
                        "org": {"id": repo.owner.id, "login": repo.owner.login}})
        return out

    # -- issues and comments ------------------------------------------------------------------------

    def issue(self, item: Issue | PullRequest) -> dict[str, Any]:
        """An issue, or the issue view of a pull request (with its ``pull_request`` key)."""
        ds = self.ds
        repo = ds.repos[item.repo_id]
        r = f"{self.api}/repos/{repo.full_name}"
        u = f"{r}/issues/{item.number}"
        is_pr = item.id in ds.prs and ds.prs[item.id] is item
        kind = "pull" if is_pr else "issues"
        comments = len(ds.issue_comments_by_number.get((item.repo_id, item.number), []))
        assignee_ids: list[int] = [] if is_pr else list(item.assignee_ids)  # type: ignore[union-attr]
        assignees = [self.user(a) for a in assignee_ids]
        state = "open" if item.state == "OPEN" else "closed"
        out: dict[str, Any] = {
            "url": u, "repository_url": r, "labels_url": f"{u}/labels{{/name}}", "comments_url": f"{u}/comments",
            "events_url": f"{u}/events", "html_url": f"{WEB}/{repo.full_name}/{kind}/{item.number}",
            "id": item.id, "node_id": item.node_id, "number": item.number, "title": item.title,
            "user": self.user(item.author_id), "labels": self.labels(repo, item.labels), "state": state,
            "locked": getattr(item, "locked", False), "assignee": assignees[0] if assignees else None,
            "assignees": assignees, "milestone": None, "comments": comments,
            "created_at": iso(item.created_at), "updated_at": iso(item.updated_at),
            "closed_at": iso(item.closed_at), "author_association": self._association(repo, item.author_id),
            "active_lock_reason": None, "body": item.body or None,
            **({} if self.webhook else {"type": None, "closed_by": None,
                                        **{k: dict(v) for k, v in _NO_SUB_ISSUES.items()}}),
            "reactions": {"url": f"{u}/reactions", **_NO_REACTIONS},
            "timeline_url": f"{u}/timeline", "performed_via_github_app": None,
            "state_reason": None if is_pr else (item.state_reason or "").lower() or None,  # type: ignore[union-attr]
        }
        if is_pr:
            pr: PullRequest = item  # type: ignore[assignment]
            html = f"{WEB}/{repo.full_name}/pull/{pr.number}"
            out["draft"] = pr.draft
            out["pull_request"] = {"url": f"{r}/pulls/{pr.number}", "html_url": html, "diff_url": f"{html}.diff",
                                   "patch_url": f"{html}.patch", "merged_at": iso(pr.merged_at)}
        return out

    def issue_comment(self, c: IssueComment) -> dict[str, Any]:
        repo = self.ds.repos[c.repo_id]
        r = f"{self.api}/repos/{repo.full_name}"
        kind = "pull" if c.is_pr else "issues"
        return {"url": f"{r}/issues/comments/{c.id}",
                "html_url": f"{WEB}/{repo.full_name}/{kind}/{c.issue_or_pr_number}#issuecomment-{c.id}",
                "issue_url": f"{r}/issues/{c.issue_or_pr_number}", "id": c.id, "node_id": c.node_id,
                "user": self.user(c.author_id), "created_at": iso(c.created_at), "updated_at": iso(c.updated_at),
                "author_association": self._association(repo, c.author_id), "body": c.body,
                "reactions": {"url": f"{r}/issues/comments/{c.id}/reactions", **_NO_REACTIONS},
                "performed_via_github_app": None}


__all__ = ["Shapes"]

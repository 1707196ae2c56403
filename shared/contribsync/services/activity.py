"""Follow-up capture: ``update/pr.activity``, ``capture/repository.comments.all`` and
``capture/repository.events``."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from contribsync.capture import repos
from contribsync.capture.synclog import SyncLog

if TYPE_CHECKING:
    from contribsync.payloads import PrActivity, RepositoryComments, RepositoryEvents
    from contribsync.runtime import RunContext

# Details older than this are refreshed for an active pull request (contributor.info: 6 hours).
DETAILS_STALE = timedelta(hours=6)
EVENT_TYPES = frozenset({"WatchEvent", "ForkEvent"})


def update_pr_activity(data: PrActivity, ctx: RunContext) -> dict[str, Any]:
    """Among the pull requests open or updated in the last ``days`` (at most 100), queue
    ``capture/pr.details`` for those open, without stored reviews or comments, or detailed more than
    six hours ago; open ones go first, at high priority."""
    repo = repos.resolve(ctx, repository_id=data.repository_id)
    now = ctx.clock.now()
    rows = ctx.db.query("pull_requests_active", {"repository_id": str(repo["id"]),
                                                  "since": now - timedelta(days=data.days)})
    wanted = [r for r in rows if r["state"] == "open" or not (r["has_reviews"] or r["has_comments"])
              or r["details_at"] is None or now - r["details_at"] > DETAILS_STALE]
    wanted.sort(key=lambda r: r["state"] != "open")
    ctx.send_many("capture/pr.details", [
        {"repository": {"owner": repo["owner"], "name": repo["name"]}, "pr_number": r["number"],
         "repositoryId": str(repo["id"]), "priority": "high" if r["state"] == "open" else "medium"}
        for r in wanted])
    return {"repository": repo["full_name"], "active": len(rows), "queued": len(wanted),
            "open": sum(r["state"] == "open" for r in wanted)}


def repository_comments_all(data: RepositoryComments, ctx: RunContext) -> dict[str, Any]:
    """Queue ``capture/pr.comments`` for each pull request and ``capture/issue.comments`` for each issue
    updated in the last ``timeRange`` days (at most 100 of each)."""
    repo = repos.resolve(ctx, repository_id=data.repository_id)
    with SyncLog(ctx, "repository_comments_all", str(repo["id"]), {"timeRange": data.time_range}) as log:
        rows = ctx.db.query("recently_updated_numbers", {
            "repository_id": str(repo["id"]), "since": ctx.clock.now() - timedelta(days=data.time_range)})
        prs = [r["number"] for r in rows if r["kind"] == "pull_request"]
        issues = [r["number"] for r in rows if r["kind"] == "issue"]
        ctx.send_many("capture/pr.comments", [{"repository": {"owner": repo["owner"], "name": repo["name"]},
                                               "prNumber": n, "repositoryId": str(repo["id"])} for n in prs])
        ctx.send_many("capture/issue.comments", [{"repositoryId": str(repo["id"]), "issueNumber": n,
                                                  "priority": "low"} for n in issues])
        log.processed = len(rows)
    return {"repository": repo["full_name"], "pullRequests": len(prs), "issues": len(issues)}


def repository_events(data: RepositoryEvents, ctx: RunContext) -> dict[str, Any]:
    """Stars (``WatchEvent``) and forks (``ForkEvent``) from the repository's events, every page GitHub
    serves (it keeps 300 events of the last 90 days); conditional requests make a re-read free."""
    repo = repos.resolve(ctx, repository_id=data.repository_id)
    with SyncLog(ctx, "repository_events", str(repo["id"]), {}) as log:
        seen = 0
        kept: list[dict[str, Any]] = []
        for event in ctx.github.paginate(f"/repos/{repo['full_name']}/events"):
            seen += 1
            if event.get("type") in EVENT_TYPES:
                kept.append({"event_id": str(event["id"]), "event_type": event["type"],
                             "actor_login": (event.get("actor") or {}).get("login"),
                             "payload": event.get("payload") or {}, "created_at": event["created_at"]})
        stored = ctx.db.query("github_events_upsert", {"owner": repo["owner"], "name": repo["name"],
                                                       "events": json.dumps(kept)}) if kept else []
        log.processed = seen
        log.inserted = len(stored)
    return {"repository": repo["full_name"], "eventsSeen": seen, "starsAndForks": len(kept),
            "stored": len(stored), "stars": sum(e["event_type"] == "WatchEvent" for e in kept),
            "forks": sum(e["event_type"] == "ForkEvent" for e in kept)}


__all__ = ["repository_comments_all", "repository_events", "update_pr_activity"]

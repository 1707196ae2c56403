"""Repository deliveries: ``repository`` and ``public`` (renames, transfers, archival, visibility, deletion:
a deleted repository is deactivated, never deleted), ``push`` (its pushed time), ``star`` (the counts, and
a ``WatchEvent`` in ``github_events_cache``), ``member`` (the contributor), ``installation`` and
``installation_repositories`` (added repositories are discovered, removed ones deactivated).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from contribsync.capture.rows import Batch

if TYPE_CHECKING:
    from contribsync.runtime import RunContext
    from contribsync.services.webhooks.delivery import Delivery, Payload


def on_repository(d: Delivery) -> dict[str, Any]:
    repo = d.repo
    if d.action == "deleted":
        d.ctx.db.query("repositories_deactivate", {"github_ids": [repo["github_id"]]})
        return {"repository": repo["full_name"], "deactivated": 1}
    return {"repository": repo["full_name"], "github_id": repo["github_id"]}


def on_push(d: Delivery) -> dict[str, Any]:
    return {"repository": d.repo["full_name"], "ref": d.payload.get("ref")}


def on_star(d: Delivery) -> dict[str, Any]:
    repo = d.repo
    recorded = 0
    if d.action == "created" and d.payload.get("starred_at"):
        sender = d.payload.get("sender") or {}
        event = {"event_id": f"webhook:{d.id}", "event_type": "WatchEvent", "actor_login": sender.get("login"),
                 "payload": {"action": "started", "source": "webhook"}, "created_at": d.payload["starred_at"]}
        recorded = len(d.ctx.db.query("github_events_upsert", {"owner": repo["owner"], "name": repo["name"],
                                                               "events": json.dumps([event])}))
    return {"repository": repo["full_name"], "stars": d.payload["repository"].get("stargazers_count"),
            "events_recorded": recorded}


def on_member(d: Delivery) -> dict[str, Any]:
    batch = Batch()
    member = batch.user(d.payload.get("member"))
    d.write(batch)
    return {"repository": d.repo["full_name"], "member": member}


def _installation_repos(ctx: RunContext, added: list[Payload], removed: list[Payload]) -> dict[str, Any]:
    for repository in added:
        owner, _, name = str(repository.get("full_name", "")).partition("/")
        if owner and name:
            ctx.send("discover/new-repository", {"owner": owner, "repo": name, "source": "webhook"})
    ids = [int(r["id"]) for r in removed if r.get("id") is not None]
    deactivated = ctx.db.query("repositories_deactivate", {"github_ids": ids}) if ids else []
    return {"discovered": len(added), "deactivated": len(deactivated)}


def on_installation(d: Delivery) -> dict[str, Any]:
    repositories = list(d.payload.get("repositories") or [])
    if d.action == "created":
        return _installation_repos(d.ctx, repositories, [])
    if d.action == "deleted":
        return _installation_repos(d.ctx, [], repositories)
    return {"installation": (d.payload.get("installation") or {}).get("id"), "recorded": d.action}


def on_installation_repositories(d: Delivery) -> dict[str, Any]:
    return _installation_repos(d.ctx, list(d.payload.get("repositories_added") or []),
                               list(d.payload.get("repositories_removed") or []))


HANDLERS = {
    "repository": on_repository,
    "public": on_repository,
    "push": on_push,
    "star": on_star,
    "member": on_member,
    "installation": on_installation,
    "installation_repositories": on_installation_repositories,
}

"""``discover/new-repository``: create a repository's record from GitHub and start its capture."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from contribsync.capture import repos

if TYPE_CHECKING:
    from contribsync.payloads import NewRepository
    from contribsync.runtime import RunContext


def discover_new_repository(data: NewRepository, ctx: RunContext) -> dict[str, Any]:
    """A tracked repository is only reported. Otherwise (not stored, only stored from a webhook
    payload, or no longer tracked) its metadata is read from GitHub (a repository that does not exist
    is a non-retriable ``NotFound``), the record and its tracking row are created or re-enabled, and
    classification, a full first sync and, when enabled, a discussions sync are queued."""
    existing = repos.find(ctx.db, full_name=f"{data.owner}/{data.repo}")
    if existing is not None and existing["tracked"]:
        return {"success": True, "status": "existing", "repositoryId": str(existing["id"]),
                "repository": existing["full_name"]}
    row = repos.fetch_and_store(ctx, data.owner, data.repo)
    repository_id = str(row["id"])
    ctx.db.query("tracked_repository_add", {"repository_id": repository_id, "owner": row["owner"],
                                            "name": row["name"]})
    ctx.send("classify/single-repository", {"repositoryId": repository_id, "owner": row["owner"], "repo": row["name"]})
    first_sync: dict[str, Any] = {"repositoryId": repository_id, "priority": "high",
                                  "reason": "Initial repository discovery"}
    if data.time_range is not None:  # a backfill of the last N days: the first sync reads only those
        first_sync["time_range_days"] = data.time_range
    ctx.send("capture/repository.sync-enhanced", first_sync)
    queued = ["classify/single-repository", "capture/repository.sync-enhanced"]
    if row["has_discussions"]:
        ctx.send("capture/repository.discussions", {"repositoryId": repository_id, "maxItems": 100})
        queued.append("capture/repository.discussions")
    return {"success": True, "status": "discovered", "repositoryId": repository_id, "repository": row["full_name"],
            "source": data.source, "queued": queued}


__all__ = ["discover_new_repository"]

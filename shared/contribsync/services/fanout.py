"""Cron fan-outs: one event per repository or workspace that needs work."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from contribsync.payloads import Empty, Scheduled
    from contribsync.runtime import RunContext

DISCUSSIONS_MAX_ITEMS = 100


def discussions_cron(_: Empty, ctx: RunContext) -> dict[str, Any]:
    """``sync/discussions-cron``: a discussions sync per active repository with discussions enabled."""
    rows = ctx.db.query("repositories_with_discussions")
    ctx.send_many("capture/repository.discussions", [
        {"repositoryId": str(r["id"]), "maxItems": DISCUSSIONS_MAX_ITEMS, "source": "cron"} for r in rows
    ])
    return {"syncedRepos": len(rows)}


def workspace_aggregation(data: Scheduled, ctx: RunContext) -> dict[str, Any]:
    """``scheduled/workspace-aggregation``: one aggregation per active workspace, each as of the
    schedule's fire time (so the daily rows land on the day the schedule stands for)."""
    at = data.at(ctx.clock)
    rows = ctx.db.query("workspaces_active")
    ctx.send_many("aggregate/workspace-metrics", [
        {"workspaceId": str(r["id"]), "timeRange": "30d", "triggeredBy": "schedule", "asOf": at.isoformat()}
        for r in rows
    ])
    return {"workspaces": len(rows), "asOf": at.isoformat()}

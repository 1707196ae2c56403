"""Workspace metrics jobs: ``aggregate/workspace-metrics`` and ``workspace/repository-change``.

Both run ``contribsync.workspace_metrics`` (set-based SQL over per-repository partials). The
aggregation computes as of ``asOf`` when the event carries it (the scheduled fan-out passes its fire
time, so a retry recomputes the same figures), else as of the run's clock.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from contribsync import workspace_metrics
from contribsync.errors import StoreError
from contribsync.observability import logger, metrics

if TYPE_CHECKING:
    from contribsync.payloads import WorkspaceMetrics, WorkspaceRepositoryChange
    from contribsync.runtime import RunContext


def aggregate_workspace_metrics(data: WorkspaceMetrics, ctx: RunContext) -> dict[str, Any]:
    """Every time range of the workspace's metrics, its daily rows and its totals, in one transaction."""
    workspace = ctx.db.query_one("workspace_get", {"workspace_id": str(data.workspace_id)})
    if workspace is not None and not workspace["is_active"]:
        return {"workspaceId": str(data.workspace_id), "skipped": "workspace is not active"}
    triggered_by = data.triggered_by or "event"
    try:
        result = workspace_metrics.aggregate(ctx.db, data.workspace_id, as_of=data.as_of or ctx.clock.now(),
                                             triggered_by=triggered_by, time_range=data.time_range)
    except StoreError as exc:  # the transaction rolled back: record the failure beside it, then retry
        workspace_metrics.record_failure(ctx.db, data.workspace_id, data.time_range, triggered_by, ctx.mask(str(exc)))
        raise
    logger.info("workspace metrics aggregated", extra={
        "workspace_id": result["workspaceId"], "repositories": result["repositories"], "ms": result["ms"]})
    metrics.add_metric(name="WorkspaceAggregationMs", unit="Milliseconds", value=result["ms"])
    return result


def repository_change(data: WorkspaceRepositoryChange, ctx: RunContext) -> dict[str, Any]:
    """A repository joins or leaves a workspace: link or unlink it and update the metrics incrementally.
    A repository that joins without ever having been synced gets its discovery (untracked) or its
    first sync (tracked)."""
    result = workspace_metrics.change_repository(ctx.db, data.workspace_id, data.repository_id, data.action,
                                                 as_of=ctx.clock.now())
    repo = result.get("repository")
    if repo is not None and not repo["synced"]:
        if repo["tracked"]:
            ctx.send("capture/repository.sync-enhanced",
                     {"repositoryId": result["repositoryId"], "reason": "workspace"})
            result["followUp"] = "capture/repository.sync-enhanced"
        else:
            ctx.send("discover/new-repository", {"owner": repo["owner"], "repo": repo["name"],
                                                 "source": "workspace"})
            result["followUp"] = "discover/new-repository"
    logger.info("workspace repository changed", extra={
        "workspace_id": result["workspaceId"], "repository_id": result["repositoryId"],
        "action": data.action, "partials_computed": result["partialsComputed"]})
    return result

"""Housekeeping: cancellations and retention."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from contribsync import catalog
from contribsync.control import FlowControl

if TYPE_CHECKING:
    from contribsync.payloads import CancelFunction, CleanupWorkspaceMetrics
    from contribsync.runtime import RunContext


def cancel_function(data: CancelFunction, ctx: RunContext) -> dict[str, Any]:
    """Record a cancellation. Queued runs that match are skipped when they arrive; running ones stop
    at their next checkpoint. Only events sent before this one are affected."""
    if data.event:
        target = catalog.resolve(data.event)
        function, names = target.function, target.all_names
    else:
        function, names = catalog.by_function(str(data.function)).function, None
    FlowControl(ctx.db, ctx.clock).cancel(
        function=function, event_name=data.event if names else None, match=data.match,
        reason=data.reason, event_id=ctx.event_id,
    )
    return {"function": function, "event": data.event, "match": data.match}


def cleanup_workspace_metrics(data: CleanupWorkspaceMetrics, ctx: RunContext) -> dict[str, Any]:
    """Delete daily workspace metrics older than the retention period and say how many went."""
    cutoff = (ctx.clock.now() - timedelta(days=data.retention_days)).date()
    rows = ctx.db.query("workspace_metrics_history_cleanup", {"before": cutoff})
    return {"deleted": len(rows), "retentionDays": data.retention_days, "before": cutoff.isoformat()}

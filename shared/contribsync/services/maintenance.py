"""Housekeeping: cancellations, retention, and events no function handles."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import TYPE_CHECKING, Any

from contribsync import catalog
from contribsync.flow_control import FlowControl
from contribsync.observability import logger, metrics
from contribsync.payloads import MIN_METRICS_RETENTION_DAYS

if TYPE_CHECKING:
    from contribsync.payloads import AnyEvent, CancelFunction, CleanupWorkspaceMetrics
    from contribsync.runtime import RunContext


def cancel_function(data: CancelFunction, ctx: RunContext) -> dict[str, Any]:
    """Record a cancellation, when its data meets the target function's cancel condition (seed 001:
    ``reason`` is ``user_requested``, unless the catalog declares another). Queued runs that match are
    skipped when they arrive; running ones stop at their next checkpoint. Only events sent before this
    one are affected. A cancel/function whose condition is not met cancels nothing, and says so."""
    target = catalog.cancel_target(data)
    result: dict[str, Any] = {"function": target.function, "event": data.event, "match": data.match}
    if not target.cancel_condition_met(ctx.data):
        wanted = " and ".join(f"data.{key} == {value!r}" for key, value in target.cancel_when)
        logger.info("cancel/function condition not met", extra={"function": target.function})
        return {**result, "cancelled": False, "reason": f"{target.function} is cancelled only when {wanted}"}
    FlowControl(ctx.db, ctx.clock).cancel(
        function=target.function, event_name=data.event, match=data.match, reason=data.reason,
        event_id=ctx.event_id,
    )
    return {**result, "cancelled": True}


def cleanup_workspace_metrics(data: CleanupWorkspaceMetrics, ctx: RunContext) -> dict[str, Any]:
    """Delete daily workspace metrics older than the retention period and say how many went.

    The boundary is by date, from the schedule's fire time: with 90 days, a run on 2026-06-01 keeps
    the row of 2026-03-03 (exactly 90 days old) and deletes 2026-03-02 and older. Finished
    aggregation queue rows older than a week go too, as in contributor.info. The retention is never
    below ``MIN_METRICS_RETENTION_DAYS`` (30): the event's ``retentionDays`` cannot be (its model refuses
    it), and a configured CONTRIBSYNC_METRICS_RETENTION_DAYS below it is raised to it."""
    retention = data.retention_days or ctx.settings.metrics_retention_days
    if retention < MIN_METRICS_RETENTION_DAYS:
        logger.warning("metrics retention below the floor; the floor is kept",
                       extra={"retention_days": retention, "floor": MIN_METRICS_RETENTION_DAYS})
        retention = MIN_METRICS_RETENTION_DAYS
    at = data.at(ctx.clock)
    cutoff = at.astimezone(UTC).date() - timedelta(days=retention)
    rows = ctx.db.query("workspace_metrics_history_cleanup", {"before": cutoff})
    queue = ctx.db.query("workspace_aggregation_queue_cleanup", {"before": at - timedelta(days=7)})
    logger.info("workspace metrics cleaned up", extra={"deleted": len(rows), "before": cutoff.isoformat()})
    metrics.add_metric(name="WorkspaceMetricsDeleted", unit="Count", value=len(rows))
    return {"deleted": len(rows), "queueRowsDeleted": len(queue), "retentionDays": retention,
            "before": cutoff.isoformat()}


def no_function(data: AnyEvent, ctx: RunContext) -> dict[str, Any]:
    """An event whose name no function handles, accepted by the event API as Inngest accepts it: its run
    records it (name, data, when) and nothing else happens. The README lists the names contributor.info
    sends that land here (the commit analysis contribsync does not do)."""
    logger.info("event with no function recorded", extra={"event_name": ctx.event_name})
    metrics.add_metric(name="EventsWithNoFunction", unit="Count", value=1)
    return {"noFunction": True, "event": ctx.event_name, "reason": f"no function handles event {ctx.event_name!r}"}

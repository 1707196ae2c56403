"""Workspace metrics: set-based aggregation in Postgres, full or incremental.

A workspace's metrics are combined from per-repository *partials* (``repository_metric_partials``,
migration 0018), one row per repository, ``as_of`` time and window (7d, 30d, 90d, 1y, all, and the
UTC day of ``as_of`` and the day before). A partial keeps what adds up (counts) and, whole, what does
not (merge and first-review durations; active contributor ids with their counts; each contributor's
first activity), so combining partials gives exactly what one query over the raw rows would.

- ``aggregate``: partials for every repository of the workspace at ``as_of``, then the combination:
  five ``workspace_metrics_cache`` rows, the daily ``workspace_metrics_history`` rows of that day and
  the day before (idempotent per workspace and day), and the totals on ``workspaces``.
- ``change_repository``: a repository joins or leaves. Only partials missing at the workspace's
  current ``as_of`` are computed (the new repository's), then the same combination runs, so the result
  equals a full recompute at that ``as_of`` without rescanning the other repositories.

Definitions (windows, cohorts, what counts as activity) are in README "Workspace metrics". Writers of
one workspace are serialised by an advisory lock, in one transaction each.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from contribsync.errors import NonRetriable

if TYPE_CHECKING:
    from uuid import UUID

    from contribsync.db import Database

# The five time ranges and their TTLs (7d 5 min, 30d 10 min, 90d 30 min, 1y 1 h, all 2 h) live in
# workspace_metrics_combine.sql, which writes them.
TIER_PRIORITY = {"enterprise": 10, "pro": 50}  # contributor.info: lower runs first; free is 100
REPOSITORY_CHANGE_PRIORITY = 1
PARTIAL_WORKERS = 2  # connections computing a full aggregation's partials side by side


def aggregate(db: Database, workspace_id: UUID | str, *, as_of: datetime, triggered_by: str = "manual",
              time_range: str = "30d") -> dict[str, Any]:
    """Recompute every metric of the workspace as of ``as_of``; returns what was written.

    The partials are computed first, outside the workspace's transaction and split over
    ``PARTIAL_WORKERS`` connections (they are rows keyed by repository and ``as_of``, so computing
    them twice, or beside another workspace's run, writes the same values). The combination then runs
    under the workspace's lock, computing any partial still missing (a repository linked meanwhile).
    """
    started = time.perf_counter()
    as_of = as_of.astimezone(UTC)
    workspace = db.query_one("workspace_get", {"workspace_id": str(workspace_id)})
    if workspace is None:
        raise NonRetriable(f"workspace {workspace_id} does not exist")
    computed = _compute_partials_parallel(db, [str(r) for r in workspace["repository_ids"]], as_of)
    with db.transaction():
        workspace = _workspace(db, workspace_id)
        repository_ids = [str(r) for r in workspace["repository_ids"]]
        priority = TIER_PRIORITY.get(workspace["tier"], 100)
        db.query("workspace_aggregation_queue_start", {
            "workspace_id": workspace["id"], "time_range": time_range, "priority": priority,
            "triggered_by": triggered_by})
        computed += _compute_partials(db, _missing(db, repository_ids, as_of), as_of)
        result = _combine(db, workspace["id"], as_of, started)
        _finish_queue_row(db, workspace["id"], time_range)
        collected = db.query("metrics_partials_collect", {"repository_ids": repository_ids, "as_of": as_of})
    return {"workspaceId": str(workspace["id"]), "asOf": as_of.isoformat(), "repositories": len(repository_ids),
            "partialsComputed": computed, "partialsCollected": len(collected), "triggeredBy": triggered_by,
            **result, "ms": round((time.perf_counter() - started) * 1000)}


def change_repository(db: Database, workspace_id: UUID | str, repository_id: UUID | str,
                      action: Literal["added", "removed"], *, as_of: datetime | None = None) -> dict[str, Any]:
    """Link or unlink a repository and update the workspace's metrics incrementally.

    The metrics stay "as of" the time the workspace was last aggregated (``as_of`` when it never
    was): only partials missing at that time are computed. Returns the repository's state so the
    caller can start a first sync of a repository never synced.
    """
    started = time.perf_counter()
    with db.transaction():
        workspace = _workspace(db, workspace_id)
        params = {"workspace_id": workspace["id"], "repository_id": str(repository_id)}
        if action == "added":
            repo = db.query_one("workspace_repository_link", params)
            if repo is None:
                raise NonRetriable(f"repository {repository_id} is not stored: discover it first")
            changed = bool(repo["added"])
        else:
            repo = None
            changed = bool(db.query("workspace_repository_unlink", params))
        current = db.query_one("workspace_metrics_as_of", {"workspace_id": workspace["id"]})
        at = (current or {}).get("as_of") or as_of or datetime.now(UTC)
        repository_ids = [str(r) for r in _workspace(db, workspace["id"])["repository_ids"]]
        computed = _compute_partials(db, _missing(db, repository_ids, at), at)
        db.query("workspace_aggregation_queue_start", {
            "workspace_id": workspace["id"], "time_range": "all", "priority": REPOSITORY_CHANGE_PRIORITY,
            "triggered_by": f"repository-{action}"})
        result = _combine(db, workspace["id"], at, started)
        _finish_queue_row(db, workspace["id"], "all")
    out = {"workspaceId": str(workspace["id"]), "repositoryId": str(repository_id), "action": action,
           "changed": changed, "asOf": at.isoformat(), "repositories": len(repository_ids),
           "partialsComputed": computed, **result, "ms": round((time.perf_counter() - started) * 1000)}
    if repo is not None:
        out["repository"] = {"owner": repo["owner"], "name": repo["name"], "synced": repo["synced"],
                             "tracked": repo["tracked"]}
    return out


def record_failure(db: Database, workspace_id: UUID | str, time_range: str, triggered_by: str,
                   error: str) -> None:
    """A failed aggregation's queue row, written outside its rolled-back transaction."""
    params = {"workspace_id": str(workspace_id), "time_range": time_range, "status": "failed",
              "error": error[:1000], "priority": 100, "triggered_by": triggered_by}
    with db.transaction():
        if db.query_one("workspace_get", {"workspace_id": str(workspace_id)}) is None:
            return
        db.query("workspace_aggregation_queue_start", params)
        db.query("workspace_aggregation_queue_clear", params)
        db.query("workspace_aggregation_queue_finish", params)


def _workspace(db: Database, workspace_id: UUID | str) -> dict[str, Any]:
    db.query("workspace_lock", {"workspace_id": str(workspace_id)})
    workspace = db.query_one("workspace_get", {"workspace_id": str(workspace_id)})
    if workspace is None:
        raise NonRetriable(f"workspace {workspace_id} does not exist")
    return workspace


def _finish_queue_row(db: Database, workspace_id: UUID | str, time_range: str) -> None:
    params = {"workspace_id": workspace_id, "time_range": time_range, "status": "completed", "error": None}
    db.query("workspace_aggregation_queue_clear", params)
    db.query("workspace_aggregation_queue_finish", params)


def _missing(db: Database, repository_ids: list[str], as_of: datetime) -> list[str]:
    present = {str(r["repository_id"]) for r in db.query(
        "metrics_partials_present", {"repository_ids": repository_ids, "as_of": as_of})}
    return [r for r in repository_ids if r not in present]


def _compute_partials(db: Database, repository_ids: list[str], as_of: datetime) -> int:
    """Partials of these repositories at ``as_of``, in the caller's transaction if it has one."""
    if not repository_ids:
        return 0
    db.query("metrics_work_mem")  # transaction-scoped: every caller runs this in a transaction
    rows = db.query("metrics_partials_compute", {"repository_ids": repository_ids, "as_of": as_of})
    return len({r["repository_id"] for r in rows})


def _compute_partials_parallel(db: Database, repository_ids: list[str], as_of: datetime) -> int:
    """Split the repositories into ``PARTIAL_WORKERS`` groups of about the same number of pull requests
    and compute each group's partials in its own transaction and connection, at once: Postgres runs
    one statement on one core, and the statement is per-repository work, so this divides its time."""
    if len(repository_ids) <= 1:
        with db.transaction():
            return _compute_partials(db, repository_ids, as_of)
    sizes = {str(r["repository_id"]): r["pull_requests"]
             for r in db.query("metrics_repository_sizes", {"repository_ids": repository_ids})}
    groups: list[list[str]] = [[] for _ in range(PARTIAL_WORKERS)]
    loads = [0] * PARTIAL_WORKERS
    for repository_id in sorted(repository_ids, key=lambda r: -sizes.get(r, 0)):  # largest first, to the lightest
        lightest = loads.index(min(loads))
        groups[lightest].append(repository_id)
        loads[lightest] += sizes.get(repository_id, 0) + 1

    def compute(group: list[str]) -> int:
        with db.transaction():
            return _compute_partials(db, group, as_of)

    with ThreadPoolExecutor(PARTIAL_WORKERS, thread_name_prefix="metrics") as pool:
        return sum(pool.map(compute, [g for g in groups if g]))


def _combine(db: Database, workspace_id: UUID | str, as_of: datetime, started: float) -> dict[str, Any]:
    params = {"workspace_id": workspace_id, "as_of": as_of, "today": as_of.date(), "now": datetime.now(UTC),
              "calculation_ms": round((time.perf_counter() - started) * 1000)}
    cache = db.query("workspace_metrics_combine", params)
    days = db.query("workspace_metrics_history_upsert", params)
    totals = db.query_one("workspace_totals_refresh", params) or {}
    return {
        "timeRanges": {r["time_range"]: {"totalPrs": r["total_prs"], "activeContributors": r["active_contributors"]}
                       for r in cache},
        "days": sorted(d["metric_date"].isoformat() for d in days),
        "totals": {"repositories": totals.get("total_repositories", 0),
                   "contributors": totals.get("total_contributors", 0),
                   "pullRequests": totals.get("total_pull_requests", 0),
                   "issues": totals.get("total_issues", 0)},
    }

"""``contribsync workspace``: create workspaces, add repositories, read (or refresh) their metrics.

``add`` and ``metrics --refresh`` run the same service code the Lambda functions run, in this process,
against the configured database; follow-up events (a discovery, a first sync) go to the queues of a
running ``contribsync dev`` or of ``AWS_ENDPOINT_URL``. Without either, they are printed instead.
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from rich.table import Table

from contribsync_ops import OPS_SQL

if TYPE_CHECKING:
    import argparse
    from collections.abc import Mapping, Sequence

    from rich.console import Console

    from contribsync.db import Database
    from contribsync.runtime import RunContext

RANGES = ("7d", "30d", "90d", "1y", "all")


class _Printed:
    """Stands in for the queues when no AWS endpoint is reachable: says what would have been sent."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def send_events(self, events: Sequence[Mapping[str, Any]]) -> list[str]:
        for event in events:
            self.console.print(f"[yellow]no queues reachable; send it yourself:[/yellow] "
                               f"contribsync send {event['name']} --data '{json.dumps(dict(event['data']))}'")
        return [str(event.get("id") or "") for event in events]

    def send_event(self, name: str, data: Mapping[str, Any], *, id: str | None = None) -> str:
        return self.send_events([{"name": name, "data": data, "id": id}])[0]


def _queues(console: Console) -> Any:  # noqa: ANN401 - Queues or _Printed
    from contribsync_cli.local_env import queues

    try:
        return queues()
    except SystemExit:
        return _Printed(console)


def _context(db: Database, queues: Any, event: str, data: Mapping[str, Any]) -> RunContext:  # noqa: ANN401
    """A context for running a workspace service here; its follow-ups go to ``queues`` (or are printed)."""
    from contribsync import catalog
    from contribsync.clients import Clients
    from contribsync.runtime import RunContext
    from contribsync.settings import Settings
    from contribsync_cli.local_env import environment

    settings = Settings.from_env({**environment(), "DATABASE_URL": db.dsn})
    return RunContext.outside_a_run(Clients(settings, db=db, queues=queues), catalog.resolve(event), data)


def _find(db: Database, name: str) -> dict[str, Any]:
    row = db.query_one("workspace_find", {"name": name, "slug": _slug(name)}, folder=OPS_SQL)
    if row is None:
        raise SystemExit(f"no workspace named {name!r}: create it with `contribsync workspace create {name!r}`")
    return row


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "workspace"


def create(args: argparse.Namespace, console: Console, db: Database) -> None:
    row = db.query("workspace_create", {"name": args.name, "slug": args.slug or _slug(args.name),
                                        "tier": args.tier}, folder=OPS_SQL)[0]
    verb = "created" if row["created"] else "exists"
    console.print(f"workspace {row['name']!r} {verb}: id {row['id']}, slug {row['slug']}, tier {row['tier']}")


def add(args: argparse.Namespace, console: Console, db: Database) -> None:
    from contribsync.payloads import WorkspaceRepositoryChange
    from contribsync.services.workspaces import repository_change

    workspace = _find(db, args.name)
    owner, _, name = args.repo.partition("/")
    if not owner or not name:
        raise SystemExit("give the repository as OWNER/REPO")
    queues = _queues(console)
    repo = _repository(db, owner, name)
    if repo is None:
        if isinstance(queues, _Printed):
            raise SystemExit(f"{args.repo} is not stored and no queues are reachable to discover it: "
                             "start `contribsync dev`, or set AWS_ENDPOINT_URL")
        queues.send_event("discover/new-repository", {"owner": owner, "repo": name, "source": "workspace"})
        console.print(f"{args.repo} is not stored yet: discovery sent, waiting up to {args.wait:.0f} s")
        deadline = time.monotonic() + args.wait
        while repo is None and time.monotonic() < deadline:
            time.sleep(1)
            repo = _repository(db, owner, name)
        if repo is None:
            raise SystemExit(f"{args.repo} was not discovered in {args.wait:.0f} s; see `contribsync runs`")
    data = {"workspaceId": str(workspace["id"]), "repositoryId": str(repo["id"]), "action": "added"}
    result = repository_change(WorkspaceRepositoryChange.model_validate(data),
                               _context(db, queues, "workspace/repository-change", data))
    state = "added" if result["changed"] else "already in the workspace"
    console.print(f"{repo['full_name']} {state}: {result['repositories']} repositories, metrics as of "
                  f"{result['asOf']} ({result['partialsComputed']} repository recomputed)")
    if follow := result.get("followUp"):
        console.print(f"never synced: {follow} sent")


def _repository(db: Database, owner: str, name: str) -> dict[str, Any] | None:
    return db.query_one("repository_by_full_name", {"owner": owner, "name": name})


def list_workspaces(args: argparse.Namespace, console: Console, db: Database) -> None:
    rows = db.query("workspaces_list", folder=OPS_SQL)
    if args.json:
        console.print_json(json.dumps(rows, default=_plain))
        return
    table = Table("name", "slug", "tier", "repos", "contributors", "PRs", "issues", "last activity")
    for r in rows:
        table.add_row(r["name"], r["slug"], r["tier"], str(r["linked"]), str(r["total_contributors"]),
                      str(r["total_pull_requests"]), str(r["total_issues"]), str(r["last_activity_at"] or ""))
    console.print(table)


def show_metrics(args: argparse.Namespace, console: Console, db: Database) -> None:
    from contribsync.payloads import WorkspaceMetrics
    from contribsync.services.workspaces import aggregate_workspace_metrics

    workspace = _find(db, args.name)
    if args.refresh:
        data = {"workspaceId": str(workspace["id"]), "triggeredBy": "cli", "forceRefresh": True}
        aggregate_workspace_metrics(WorkspaceMetrics.model_validate(data),
                                    _context(db, None, "aggregate/workspace-metrics", data))
    params = {"workspace_id": workspace["id"], "days": args.days}
    cache = {r["time_range"]: r for r in db.query("workspace_metrics_read", params, folder=OPS_SQL)}
    history = db.query("workspace_history_read", params, folder=OPS_SQL)
    totals = db.query_one("workspace_totals_get", params, folder=OPS_SQL) or {}
    if args.json:
        console.print_json(json.dumps({"workspace": workspace, "totals": totals,
                                       "ranges": [cache[r] for r in RANGES if r in cache],
                                       "history": history}, default=_plain))
        return
    if not cache:
        console.print(f"{workspace['name']}: no metrics yet; run with --refresh or wait for the aggregation")
        return
    now = datetime.now(UTC)
    as_of = max(c["period_end"] for c in cache.values())
    console.print(f"[bold]{workspace['name']}[/bold]: {totals['total_repositories']} repositories, "
                  f"{totals['total_contributors']} contributors, {totals['total_pull_requests']} PRs, "
                  f"{totals['total_issues']} issues; as of {as_of:%Y-%m-%d %H:%M} UTC")
    table = Table("range", "PRs", "open", "merged", "closed", "issues", "active", "new", "reviews/PR",
                  "1st review h", "median merge h", "PRs trend %", "contributors trend %", "fresh")
    for key in RANGES:
        if (c := cache.get(key)) is None:
            continue
        fresh = "stale" if c["is_stale"] or c["expires_at"] <= now else "yes"
        table.add_row(key, *(_cell(c[f]) for f in (
            "total_prs", "open_prs", "merged_prs", "closed_prs", "total_issues", "active_contributors",
            "new_contributors", "reviews_per_pr", "avg_time_to_first_review_hours", "median_pr_merge_time_hours",
            "prs_trend", "contributors_trend")), fresh)
    console.print(table)
    if history:
        daily = Table("day", "PRs", "merged", "issues", "reviews", "active", "new", "total PRs", "contributors")
        for h in history:
            daily.add_row(str(h["metric_date"]), *(_cell(h[f]) for f in (
                "daily_prs", "daily_merged_prs", "daily_issues", "daily_reviews", "daily_active_contributors",
                "daily_new_contributors", "total_prs", "total_contributors")))
        console.print(daily)


def _cell(value: object) -> str:
    return "-" if value is None else str(value)


def _plain(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return str(value)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], console: Console) -> None:
    w = sub.add_parser("workspace", help="workspaces: create, add a repository, list, metrics")
    commands = w.add_subparsers(dest="workspace_command", required=True)
    c = commands.add_parser("create", help="create a workspace (idempotent on its slug)")
    c.add_argument("name")
    c.add_argument("--slug", help="default: from the name")
    c.add_argument("--tier", choices=["free", "pro", "enterprise"], default="free")
    c.set_defaults(run=create)
    a = commands.add_parser("add", help="add OWNER/REPO to a workspace (discovered first if not stored)")
    a.add_argument("name")
    a.add_argument("repo", metavar="OWNER/REPO")
    a.add_argument("--wait", type=float, default=120.0, help="seconds to wait for a discovery (default 120)")
    a.set_defaults(run=add)
    ls = commands.add_parser("list", help="every workspace with its totals")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(run=list_workspaces)
    m = commands.add_parser("metrics", help="a workspace's metrics per time range and its daily rows")
    m.add_argument("name")
    m.add_argument("--json", action="store_true")
    m.add_argument("--refresh", action="store_true", help="aggregate now, in this process, first")
    m.add_argument("--days", type=int, default=7, help="daily rows to show (default 7)")
    m.set_defaults(run=show_metrics)

    def run(args: argparse.Namespace) -> None:
        from contribsync.errors import ContribsyncError
        from contribsync_cli.local_env import database

        try:
            args.run(args, console, database())
        except ContribsyncError as exc:
            console.print(f"[red]workspace {args.workspace_command} failed:[/red] {exc}")
            raise SystemExit(1) from None

    w.set_defaults(func=run)

"""``contribsync replay | redrive | cancel | status``: the operator's controls (``contribsync_ops.operations``).

They reach the queues of a running ``contribsync dev`` or of ``AWS_ENDPOINT_URL`` (AWS itself when
credentials are configured), and the configured database.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from rich.table import Table

if TYPE_CHECKING:
    import argparse

    from rich.console import Console

    from contribsync.queues import Queues


def _queues() -> Queues:
    from contribsync_cli.local_env import queues

    return queues()


def _since(text: str) -> datetime:
    """An ISO time, or an age such as 30m, 6h, 2d."""
    units = {"m": "minutes", "h": "hours", "d": "days"}
    if text[-1:] in units and text[:-1].isdigit():
        return datetime.now(UTC) - timedelta(**{units[text[-1]]: int(text[:-1])})
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def replay(args: argparse.Namespace, console: Console) -> None:
    from contribsync_cli.local_env import database
    from contribsync_ops import operations

    queues, db = _queues(), database()
    try:
        sent = operations.replay(db, queues, run_id=args.run_id,
                                 failed_since=_since(args.failed_since) if args.failed_since else None)
    finally:
        db.close()
    if args.json:
        console.print_json(json.dumps(sent))
        return
    for s in sent:
        console.print(f"[yellow]{s['runId']}: {s['skipped']}[/]" if "skipped" in s else
                      f"replayed {s['runId']} ({s['function']}, {s['event']}) as event {s['eventId']}")
    if not sent:
        console.print("nothing to replay")


def redrive(args: argparse.Namespace, console: Console) -> None:
    from contribsync_ops import operations

    moved = operations.redrive(_queues(), args.function)
    for function, n in moved.items():
        console.print(f"{function}: {n} message(s) moved from its DLQ back to its queue")
    if not moved:
        console.print("every DLQ is empty" if not args.function else f"{args.function}'s DLQ is empty")


def cancel(args: argparse.Namespace, console: Console) -> None:
    from contribsync_ops import operations

    event_id = operations.cancel(_queues(), args.event, json.loads(args.match), args.reason)
    console.print(f"cancel/function sent for {args.event} matching {args.match}: event {event_id}")


def status(args: argparse.Namespace, console: Console) -> None:
    from contribsync.github.budget import PostgresBudget
    from contribsync_cli.local_env import database
    from contribsync_ops import operations

    queues, db = _queues(), database()
    try:
        state: dict[str, Any] = operations.status(db, queues)
        state["github"] = PostgresBudget(db).budgets()
    finally:
        db.close()
    if args.json:
        console.print_json(json.dumps(state, default=str))
        return
    table = Table("function", "queued", "of them high", "in flight", "delayed", "DLQ", "running", "failed 1h",
                  "done 1h", "last run", "schedule", "last cron", title="contribsync status (queues: normal + high)")
    for f in state["functions"]:
        dlq = f"[red]{f['deadLettered']}[/]" if f["deadLettered"] else "0"
        failed = f"[red]{f['failedLastHour']}[/]" if f["failedLastHour"] else "0"
        table.add_row(f["function"], str(f["queued"]), str(f["highQueued"]), str(f["inFlight"]), str(f["delayed"]),
                      dlq, str(f["running"]), failed, str(f["completedLastHour"]), _when(f["lastRun"]),
                      f["schedule"] or "", _when(f["lastCronFire"]))
    console.print(table)
    t = state["totals"]
    console.print(f"totals: {t['queued']} queued ({t['highQueued']} high priority), {t['inFlight']} in flight, "
                  f"{t['deadLettered']} dead-lettered, {t['running']} running, {t['failedLastHour']} failed in the "
                  "last hour")
    for budget in state["github"]:
        console.print(f"GitHub budget {budget['token_id']} {budget['resource']}: {budget['remaining']}/"
                      f"{budget['limit']} left, resets {_when(budget['reset_at'])}")


def _when(value: object) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if isinstance(value, datetime) else ""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], console: Console) -> None:
    r = sub.add_parser("replay", help="re-send a failed run's event with the same data")
    which = r.add_mutually_exclusive_group(required=True)
    which.add_argument("run_id", nargs="?", help="a run id, or its first characters as `contribsync runs` prints them")
    which.add_argument("--failed-since", help="every event failed for good since: ISO time or 30m, 6h, 2d")
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=lambda a: replay(a, console))
    d = sub.add_parser("redrive", help="move dead-lettered messages back to their queue, the high-priority one for "
                                       "a high priority (fresh attempts)")
    d.add_argument("function", nargs="?", help="one function (default: every DLQ)")
    d.set_defaults(func=lambda a: redrive(a, console))
    c = sub.add_parser("cancel", help="send cancel/function for an event's queued and running runs")
    c.add_argument("event", help="event name, e.g. capture/repository.sync")
    c.add_argument("--match", default="{}", help='JSON the run\'s data must contain, e.g. \'{"repositoryId": "..."}\'')
    c.add_argument("--reason", default="user_requested",
                   help="the cancel event's data.reason; functions are cancelled only by user_requested (seed 001) "
                        "unless the catalog declares their own condition (default: user_requested)")
    c.set_defaults(func=lambda a: cancel(a, console))
    s = sub.add_parser("status", help="queue and DLQ depths, runs in flight, failures, GitHub budget, cron fires")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=lambda a: status(a, console))

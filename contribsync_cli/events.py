"""``contribsync send | inject | runs | dlq``: events onto the queues, and what became of them (the run
history, the dead letters).

``send`` and ``inject`` reach the queues of a running ``contribsync dev`` or of ``AWS_ENDPOINT_URL`` (AWS
itself when credentials are configured); ``runs`` reads the configured database: recent runs, the failed and
retried ones with the step each failed at (``--failed``), or one run in full (``runs RUN_ID``).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from contribsync import catalog
from contribsync_cli.output import print_failures, print_run, print_runs

if TYPE_CHECKING:
    import argparse

    from rich.console import Console

    from contribsync.db import Database


def send(args: argparse.Namespace) -> None:
    from contribsync.errors import NonRetriable
    from contribsync_cli.local_env import queues as cli_queues

    queues = cli_queues()
    try:
        event_id = queues.send_event(args.name, json.loads(args.data), id=args.id)
    except NonRetriable as exc:
        raise SystemExit(f"not sent: {exc}") from exc
    print(json.dumps({"ids": [event_id], "status": 200}))


def inject(args: argparse.Namespace, console: Console) -> None:
    from contribsync_cli.local_env import queues as cli_queues

    queues = cli_queues()
    event = catalog.by_function(args.function)
    queues.send_raw(event.high_queue if args.high else event.queue, args.body)
    console.print(f"raw message put on {args.function}'s {'high-priority ' if args.high else ''}queue")


def runs(args: argparse.Namespace, console: Console) -> None:
    from contribsync.history import FAILED_STATUSES, RunHistory
    from contribsync_cli.local_env import database

    db = database()
    try:
        if args.run_id is not None:
            one_run(db, args.run_id, console, as_json=args.json)
            return
        status = FAILED_STATUSES if args.failed else args.status
        rows = RunHistory(db).recent(function=args.function, status=status, limit=args.limit)
    finally:
        db.close()
    if args.json:
        print(json.dumps(rows, indent=2, default=str))
    elif args.failed:
        print_failures(console, rows)
    else:
        print_runs(console, rows)


def one_run(db: Database, run_id: str, console: Console, *, as_json: bool) -> None:
    """``runs RUN_ID``: one run in full (its id, or the 8 characters ``runs`` prints)."""
    from contribsync.errors import ContribsyncError
    from contribsync_ops import operations

    try:
        run = operations.run(db, run_id)
    except ContribsyncError as exc:  # unknown, or a prefix of more than one
        raise SystemExit(str(exc)) from exc
    if as_json:
        print(json.dumps(run, indent=2, default=str))
    else:
        print_run(console, run)


def dlq(args: argparse.Namespace, console: Console) -> None:
    from contribsync_cli.local_env import queues as cli_queues

    queues = cli_queues()
    events = [catalog.by_function(args.function)] if args.function else list(catalog.EVENTS)
    for event in events:
        for message in queues.dead_letters(event.dlq):
            console.print(f"[red]{event.dlq}[/] {message['message_id']}: {message['error']}\n  {message['body'][:200]}")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], console: Console) -> None:
    s = sub.add_parser("send", help="send an event to its function's queue (Inngest's send)")
    s.add_argument("name")
    s.add_argument("--data", default="{}")
    s.add_argument("--id", default=None, help="idempotency key (default: a new uuid)")
    s.set_defaults(func=send)
    j = sub.add_parser("inject", help="put a raw message body on a function's queue")
    j.add_argument("function")
    j.add_argument("--body", required=True)
    j.add_argument("--high", action="store_true", help="on its high-priority queue")
    j.set_defaults(func=lambda a: inject(a, console))
    r = sub.add_parser("runs", help="recent runs from the run history, or one run in full")
    r.add_argument("run_id", nargs="?", metavar="RUN_ID",
                   help="show this run in full: error, step, traceback, data, result, attempts (8 characters do)")
    r.add_argument("--function")
    which = r.add_mutually_exclusive_group()
    which.add_argument("--status", choices=["running", "completed", "failed", "retrying", "deferred", "cancelled",
                                            "skipped"])
    which.add_argument("--failed", action="store_true",
                       help="failed and retried runs, with the error, the step and the frame where each failed")
    r.add_argument("--limit", type=int, default=50)
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=lambda a: runs(a, console))
    q = sub.add_parser("dlq", help="show dead-lettered messages with their errors")
    q.add_argument("function", nargs="?")
    q.set_defaults(func=lambda a: dlq(a, console))

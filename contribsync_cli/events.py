"""``contribsync send | inject | runs | dlq``: events onto the queues, and what became of them (the run
history, the dead letters).

``send`` and ``inject`` reach the queues of a running ``contribsync dev`` or of ``AWS_ENDPOINT_URL`` (AWS
itself when credentials are configured); ``runs`` reads the configured database.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from contribsync import catalog
from contribsync_cli.output import print_runs

if TYPE_CHECKING:
    import argparse

    from rich.console import Console


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
    from contribsync.history import RunHistory
    from contribsync_cli.local_env import database

    rows = RunHistory(database()).recent(function=args.function, status=args.status, limit=args.limit)
    if args.json:
        print(json.dumps(rows, indent=2, default=str))
        return
    print_runs(console, rows)


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
    r = sub.add_parser("runs", help="recent runs from the run history")
    r.add_argument("--function")
    r.add_argument("--status", choices=["running", "completed", "failed", "retrying", "deferred", "cancelled",
                                        "skipped"])
    r.add_argument("--limit", type=int, default=50)
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=lambda a: runs(a, console))
    q = sub.add_parser("dlq", help="show dead-lettered messages with their errors")
    q.add_argument("function", nargs="?")
    q.set_defaults(func=lambda a: dlq(a, console))

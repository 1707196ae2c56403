"""``contribsync``: catalog, database, local stack, invoking and sending, run history, demo."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from contribsync import catalog

# Wide tables when the output is not a terminal (make demo piped to a log, CI).
console = Console(width=None if sys.stdout.isatty() else 160)


def _catalog(args: argparse.Namespace) -> None:
    rows: list[dict[str, Any]] = [{
        "event": e.name, "aliases": list(e.aliases), "function": e.function, "queue": e.queue, "dlq": e.dlq,
        "retries": e.retries,
        "concurrency": {"limit": e.concurrency.n, "key": e.concurrency.key} if e.concurrency else None,
        "throttle": ({"limit": e.throttle.limit, "period_s": e.throttle.period_s, "key": e.throttle.key}
                     if e.throttle else None),
        "schedule": e.schedule, "service": e.service, "model": e.model.__name__,
    } for e in catalog.EVENTS]
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    table = Table("event", "function", "retries", "concurrency", "throttle", "schedule", title="event catalog")
    for r in rows:
        conc = f"{r['concurrency']['limit']}/{r['concurrency']['key'] or 'all'}" if r["concurrency"] else ""
        thr = f"{r['throttle']['limit']}/{r['throttle']['period_s']}s" if r["throttle"] else ""
        names = "\n".join([r["event"], *[f"  ↳ {a}" for a in r["aliases"]]])
        table.add_row(names, r["function"], str(r["retries"]), conc, thr, r["schedule"] or "")
    console.print(table)


def _db(args: argparse.Namespace) -> None:
    from contribsync.db import Database, migrate
    from contribsync_local import postgres

    if args.db_command == "url":
        print(postgres.database_url())
        return
    db = Database(postgres.database_url(), application_name="contribsync-cli")
    try:
        applied = migrate(db)
    finally:
        db.close()
    console.print(f"schema up to date ({len(applied)} applied now: {', '.join(applied) or 'none'})")


def _dev(args: argparse.Namespace) -> None:
    from contribsync_local.stack import LocalStack

    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with LocalStack(port=args.port, write_state=True) as stack:
        console.print(f"[bold green]contribsync dev[/] on {stack.http.url if stack.http else '?'}")
        console.print(f"  event API   POST {stack.http.url if stack.http else ''}/e/contributor-info")
        console.print(f"  AWS (moto)  {stack.aws_endpoint}   Postgres {stack.database_url}")
        console.print(f"  {len(stack.pollers)} function pollers, crons on; Ctrl-C stops")
        stop.wait()
        console.print("stopping…")


def _invoke(args: argparse.Namespace) -> None:
    """Run one handler in-process with a sample event, like `sam local invoke` without Docker."""
    from contribsync_cli.local_env import database, running_stack
    from contribsync_local.aws import MotoServer, aws_environment, create_queues, sqs_client
    from contribsync_local.poller import LambdaContext
    from contribsync_local.stack import load_handler

    event = json.loads(Path(args.event).read_text())
    database()
    moto = None
    if not (os.environ.get("AWS_ENDPOINT_URL") or running_stack()):
        moto = MotoServer()
        os.environ.update(aws_environment(moto.start()))
        os.environ.setdefault("CONTRIBSYNC_QUEUE_PREFIX", "contribsync-invoke")
        create_queues(sqs_client(), os.environ["CONTRIBSYNC_QUEUE_PREFIX"])
    else:
        from contribsync_cli.local_env import use_aws

        use_aws()
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    try:
        module = load_handler(args.function)
        result = module.lambda_handler(event, LambdaContext(args.function))
        print(json.dumps(result, indent=2, default=str))
    finally:
        if moto:
            moto.stop()


def _send(args: argparse.Namespace) -> None:
    import boto3

    from contribsync.errors import NonRetriable
    from contribsync.queues import Queues
    from contribsync_cli.local_env import use_aws

    use_aws()
    queues = Queues(boto3.client("sqs"), prefix=os.environ.get("CONTRIBSYNC_QUEUE_PREFIX", "contribsync"))
    try:
        event_id = queues.send_event(args.name, json.loads(args.data), id=args.id)
    except NonRetriable as exc:
        raise SystemExit(f"not sent: {exc}") from exc
    print(json.dumps({"ids": [event_id], "status": 200}))


def _inject(args: argparse.Namespace) -> None:
    import boto3

    from contribsync.queues import Queues
    from contribsync_cli.local_env import use_aws

    use_aws()
    queues = Queues(boto3.client("sqs"), prefix=os.environ.get("CONTRIBSYNC_QUEUE_PREFIX", "contribsync"))
    queues.send_raw(catalog.by_function(args.function).queue, args.body)
    console.print(f"raw message put on {args.function}'s queue")


def _runs(args: argparse.Namespace) -> None:
    from contribsync.history import RunHistory
    from contribsync_cli.local_env import database

    rows = RunHistory(database()).recent(function=args.function, status=args.status, limit=args.limit)
    if args.json:
        print(json.dumps(rows, indent=2, default=str))
        return
    print_runs(rows)


def print_runs(rows: list[dict[str, Any]], title: str = "run history") -> None:
    table = Table("started", "function", "event", "attempt", "status", "ms", "error / result", title=title)
    colour = {"completed": "green", "failed": "red", "retrying": "yellow", "deferred": "cyan",
              "cancelled": "magenta", "skipped": "dim"}
    for r in reversed(rows):
        detail = r["error"] or (json.dumps(r["result"], default=str) if r["result"] is not None else "")
        detail = " ".join(detail.split())
        status = r["status"] + (" → DLQ" if r["dead_lettered"] else "")
        table.add_row(r["started_at"].strftime("%H:%M:%S.%f")[:-3], r["function"], r["event_name"],
                      str(r["attempt"]), f"[{colour.get(r['status'], 'white')}]{status}[/]",
                      str(r["duration_ms"] or ""), detail[:90])
    console.print(table)


def _dlq(args: argparse.Namespace) -> None:
    import boto3

    from contribsync.queues import Queues
    from contribsync_cli.local_env import use_aws

    use_aws()
    queues = Queues(boto3.client("sqs"), prefix=os.environ.get("CONTRIBSYNC_QUEUE_PREFIX", "contribsync"))
    events = [catalog.by_function(args.function)] if args.function else list(catalog.EVENTS)
    for event in events:
        for message in queues.dead_letters(event.dlq):
            console.print(f"[red]{event.dlq}[/] {message['message_id']}: {message['error']}\n  {message['body'][:200]}")


def _github(args: argparse.Namespace) -> None:
    """Each token's recorded budget per resource (tokens appear as fingerprints only)."""
    from contribsync.github.budget import PostgresBudget
    from contribsync_cli.local_env import database

    rows = PostgresBudget(database()).budgets()
    if args.json:
        print(json.dumps(rows, indent=2, default=str))
        return
    table = Table("token", "resource", "remaining", "limit", "used", "resets", "observed", title="GitHub budget")
    for r in rows:
        share = r["remaining"] / r["limit"] if r["limit"] else 0
        colour = "green" if share > 0.5 else "yellow" if share > 0.1 else "red"  # noqa: PLR2004
        table.add_row(r["token_id"], r["resource"], f"[{colour}]{r['remaining']}[/]", str(r["limit"]),
                      str(r["used"] if r["used"] is not None else ""), r["reset_at"].strftime("%H:%M:%S"),
                      r["observed_at"].strftime("%H:%M:%S"))
    console.print(table)


def _demo(args: argparse.Namespace) -> None:
    from contribsync_cli.demo import run_demo

    sys.exit(run_demo(console))


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="contribsync", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("catalog", help="print the event catalog")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=_catalog)
    d = sub.add_parser("db", help="database: migrate, url")
    d.add_argument("db_command", choices=["migrate", "url"])
    d.set_defaults(func=_db)
    v = sub.add_parser("dev", help="run the local stack in the foreground until Ctrl-C")
    v.add_argument("--port", type=int, default=8288)
    v.set_defaults(func=_dev)
    i = sub.add_parser("invoke", help="run one handler in-process with an event file (sam local invoke, no Docker)")
    i.add_argument("function", help="Lambda function name, e.g. ClassifySingleRepository")
    i.add_argument("-e", "--event", required=True, help="event JSON file, e.g. events/....json")
    i.set_defaults(func=_invoke)
    s = sub.add_parser("send", help="send an event to its function's queue (Inngest's send)")
    s.add_argument("name")
    s.add_argument("--data", default="{}")
    s.add_argument("--id", default=None, help="idempotency key (default: a new uuid)")
    s.set_defaults(func=_send)
    j = sub.add_parser("inject", help="put a raw message body on a function's queue")
    j.add_argument("function")
    j.add_argument("--body", required=True)
    j.set_defaults(func=_inject)
    r = sub.add_parser("runs", help="recent runs from the run history")
    r.add_argument("--function")
    r.add_argument("--status", choices=["running", "completed", "failed", "retrying", "deferred", "cancelled",
                                        "skipped"])
    r.add_argument("--limit", type=int, default=50)
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=_runs)
    q = sub.add_parser("dlq", help="show dead-lettered messages with their errors")
    q.add_argument("function", nargs="?")
    q.set_defaults(func=_dlq)
    g = sub.add_parser("github", help="GitHub: rate-limit budgets")
    g.add_argument("github_command", choices=["rate-limit"])
    g.add_argument("--json", action="store_true")
    g.set_defaults(func=_github)
    m = sub.add_parser("demo", help="start the local stack and run the demo end to end")
    m.set_defaults(func=_demo)
    return p


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()

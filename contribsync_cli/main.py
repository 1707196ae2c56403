"""``contribsync``: catalog, database, local stack, GitHub simulator, invoking and sending, run history, demo."""

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
from contribsync_cli import backfill, control, gaps, similar, workspaces

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


def _shown(path: Path) -> str:
    """A path as the operator typed it: relative to the working folder when inside it."""
    return str(path.relative_to(Path.cwd())) if path.is_relative_to(Path.cwd()) else str(path)


def _dev(args: argparse.Namespace) -> None:
    from contribsync_local.http import ACCESS_LOG_FILE
    from contribsync_local.stack import LocalStack

    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with LocalStack(port=args.port, write_state=True, github=args.github,
                    simulator=_simulator(args) if args.github != "env" else None,
                    changes_every_s=args.change_every, http_process=True,
                    access_log="stderr" if args.verbose else "file") as stack:
        url = stack.http.url if stack.http else "?"
        console.print(f"[bold green]contribsync dev[/] on {url}")
        console.print(f"  dashboard   {url}/   (read-only: status, run history, failures, DLQs)")
        console.print(f"  event API   POST {url}/e/contributor-info     webhooks  POST {url}/webhook")
        console.print(f"  AWS (moto)  {stack.aws_endpoint}   Postgres {stack.database_url}")
        if stack.simulator is not None:
            changes = f", a change every {args.change_every:g} s" if args.change_every > 0 else ""
            console.print(f"  GitHub      simulator {stack.simulator.url} ({len(stack.simulator.ds.repos)} repos, "
                          f"{len(stack.simulator.ds.prs)} PRs{changes})")
        else:
            console.print(f"  GitHub      {os.environ.get('GITHUB_API_URL', 'https://api.github.com')}")
        console.print(f"  HTTP log    {_shown(ACCESS_LOG_FILE) if stack.access_log == 'file' else 'stderr'}"
                      "   (a line per request; --verbose prints them here)")
        console.print(f"  {len(stack.pollers)} function pollers, crons on; Ctrl-C stops")
        stop.wait()
        console.print("stopping…")


def _simulator(args: argparse.Namespace) -> Any:  # noqa: ANN401 - a Simulator (imported lazily)
    from contribsync_sim.server import Knobs
    from contribsync_sim.simulator import Simulator

    knobs = Knobs(latency_s=args.latency_ms / 1000, latency_per_node_s=args.node_latency_ms / 1000,
                  fault_502=args.fault_502, fault_timeout=args.fault_timeout, fault_secondary=args.fault_secondary,
                  fault_abuse=args.fault_abuse, seed=args.seed,
                  budget={"core": args.budget, "graphql": args.graphql_budget, "search": 30})
    return Simulator(seed=args.seed, repos=args.repos, prs_per_repo=args.prs, knobs=knobs,
                     port=getattr(args, "sim_port", 0))


def _simulate_github(args: argparse.Namespace) -> None:
    """Serve the GitHub simulator on 127.0.0.1 until Ctrl-C; optionally deliver change-mode webhooks."""
    from contribsync_sim.dataset import ground_truth

    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with _simulator(args) as sim:
        if args.ground_truth:
            Path(args.ground_truth).write_text(json.dumps(ground_truth(sim.ds), indent=2))
        console.print(f"[bold green]GitHub simulator[/] on {sim.url}  (GraphQL {sim.url}/graphql, "
                      f"REST {sim.url}/ and {sim.url}/api/v3/)")
        console.print(f"  dataset seed {args.seed}: {len(sim.ds.repos)} repos, {len(sim.ds.prs)} PRs, "
                      f"{len(sim.ds.issues)} issues, {len(sim.ds.discussions)} discussions; any token works")
        console.print(f"  export GITHUB_API_URL={sim.url} GITHUB_TOKEN=sim-token")
        if args.changes_to:
            secret = args.webhook_secret or os.environ.get("GITHUB_WEBHOOK_SECRET") or "demo-webhook-secret"
            loop = sim.start_changes(args.changes_to, secret, every_s=args.change_every or 5.0,
                                     duplicate=args.duplicate, reorder=args.reorder, drop=args.drop, seed=args.seed)
            console.print(f"  change mode: a change every {loop.every_s:g} s → {args.changes_to}")
        stop.wait()
        if args.changes_to:
            r = loop.sender.result
            console.print(f"change mode: {loop.changes} changes, {r.sent} deliveries sent ({r.duplicates} duplicates), "
                          f"answers {r.statuses or 'none'}, {len(r.failures)} failed, {r.dropped} dropped, "
                          f"{r.redelivered} redelivered")
    c = sim.app.counters
    console.print(f"served {c.requests} requests, {c.points} GraphQL points, {c.not_modified} not-modified, "
                  f"{c.limited} rate-limited, faults {c.faults or 'none'}")


def _sim_options(p: argparse.ArgumentParser, *, port: bool) -> None:
    if port:
        p.add_argument("--port", dest="sim_port", type=int, default=8765)
    p.add_argument("--seed", type=int, default=1, help="dataset seed (same seed, same data)")
    p.add_argument("--repos", type=int, default=3)
    p.add_argument("--prs", type=int, default=200, help="pull requests per repository (10 to 50,000 in all)")
    p.add_argument("--latency-ms", type=float, default=0.0, help="added to every request")
    p.add_argument("--node-latency-ms", type=float, default=0.0, help="added per returned node")
    p.add_argument("--fault-502", type=float, default=0.0, help="share of requests answered 502 (0..1)")
    p.add_argument("--fault-timeout", type=float, default=0.0, help="share held back, then 504")
    p.add_argument("--fault-secondary", type=float, default=0.0, help="share answered with a secondary limit")
    p.add_argument("--fault-abuse", type=float, default=0.0, help="share answered with an abuse limit")
    p.add_argument("--budget", type=int, default=5000, help="core requests per token per hour")
    p.add_argument("--graphql-budget", type=int, default=5000, help="GraphQL points per token per hour")
    p.add_argument("--change-every", type=float, default=0.0, help="change mode: seconds between changes (0: off)")


def _invoke(args: argparse.Namespace) -> None:
    """Run one handler in-process with a sample event, like `sam local invoke` without Docker: the handler
    reads its configuration from the environment, as on Lambda, so this command sets it."""
    from contribsync_cli.local_env import (
        aws_target,
        database,
        github_overrides,
        running_stack,
        simulator_unless_configured,
    )
    from contribsync_local.aws import MotoServer, aws_environment, create_queues, sqs_client
    from contribsync_local.poller import LambdaContext
    from contribsync_local.stack import load_handler

    event = json.loads(Path(args.event).read_text())
    os.environ["DATABASE_URL"] = database().dsn
    simulator = simulator_unless_configured()
    os.environ.update(github_overrides(simulator))
    moto = None
    if not (os.environ.get("AWS_ENDPOINT_URL") or running_stack()):
        moto = MotoServer()
        os.environ.update(aws_environment(moto.start()))
        os.environ.setdefault("CONTRIBSYNC_QUEUE_PREFIX", "contribsync-invoke")
        create_queues(sqs_client(), os.environ["CONTRIBSYNC_QUEUE_PREFIX"])
    else:
        target = aws_target()
        os.environ.setdefault("CONTRIBSYNC_QUEUE_PREFIX", target.pop("CONTRIBSYNC_QUEUE_PREFIX", "contribsync"))
        target.pop("DATABASE_URL", None)
        os.environ.update(target)
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    try:
        module = load_handler(args.function)
        result = module.lambda_handler(event, LambdaContext(args.function))
        print(json.dumps(result, indent=2, default=str))
    finally:
        if moto:
            moto.stop()
        if simulator:
            simulator.stop()


def _backfill_discussions(args: argparse.Namespace) -> None:
    """Run the discussions sync for one repository in this process, with a progress bar (the one-time
    historical backfill contributor.info did with a script). An interrupted backfill resumes: its
    checkpoint is kept under the same repository and size."""
    from rich.progress import Progress

    from contribsync import ai
    from contribsync.capture import repos
    from contribsync.errors import ContribsyncError
    from contribsync.payloads import RepositoryDiscussions
    from contribsync.runtime import RunContext
    from contribsync.services.discussions import repository_discussions
    from contribsync_cli.local_env import clients, simulator_unless_configured

    simulator = simulator_unless_configured()
    mine = clients(simulator=simulator, summarizer=ai.NoSummaries() if args.no_summaries else None)
    data: dict[str, Any] = {"repositoryId": None, "maxItems": args.max_items, "source": "backfill"}
    ctx = RunContext.outside_a_run(mine, catalog.resolve("capture/repository.discussions"), data,
                                   event_id=f"backfill-discussions:{args.owner}/{args.repo}:{args.max_items}".lower())
    try:
        row = repos.resolve(ctx, owner=args.owner, name=args.repo)
        data["repositoryId"] = str(row["id"])
        with Progress(console=console) as bar:
            task = bar.add_task(f"{row['full_name']} discussions", total=args.max_items)

            def on_page(done: int, total: int) -> None:
                bar.update(task, completed=done, total=max(done, total) or args.max_items)

            result = repository_discussions(RepositoryDiscussions.model_validate(data), ctx, on_page=on_page)
        console.print_json(json.dumps(result))
    except ContribsyncError as exc:
        console.print(f"[red]backfill failed:[/red] {exc}")
        raise SystemExit(1) from None
    finally:
        mine.close()
        if simulator:
            simulator.stop()


def _send(args: argparse.Namespace) -> None:
    from contribsync.errors import NonRetriable
    from contribsync_cli.local_env import queues as cli_queues

    queues = cli_queues()
    try:
        event_id = queues.send_event(args.name, json.loads(args.data), id=args.id)
    except NonRetriable as exc:
        raise SystemExit(f"not sent: {exc}") from exc
    print(json.dumps({"ids": [event_id], "status": 200}))


def _inject(args: argparse.Namespace) -> None:
    from contribsync_cli.local_env import queues as cli_queues

    queues = cli_queues()
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
    table = Table("run", "started", "function", "event", "attempt", "status", "ms", "error / result", title=title)
    colour = {"completed": "green", "failed": "red", "retrying": "yellow", "deferred": "cyan",
              "cancelled": "magenta", "skipped": "dim"}
    for r in reversed(rows):
        detail = r["error"] or (json.dumps(r["result"], default=str) if r["result"] is not None else "")
        detail = " ".join(detail.split())
        status = r["status"] + (" → DLQ" if r["dead_lettered"] else "")
        table.add_row(str(r["id"])[:8], r["started_at"].strftime("%H:%M:%S.%f")[:-3], r["function"], r["event_name"],
                      str(r["attempt"]), f"[{colour.get(r['status'], 'white')}]{status}[/]",
                      str(r["duration_ms"] or ""), detail[:90])
    console.print(table)


def _dlq(args: argparse.Namespace) -> None:
    from contribsync_cli.local_env import queues as cli_queues

    queues = cli_queues()
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

    sys.exit(run_demo(console, keep=args.keep, verbose=args.verbose))


def _simulate_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    h = sub.add_parser("simulate-github", help="serve the GitHub simulator (GraphQL + REST) on 127.0.0.1")
    _sim_options(h, port=True)
    h.add_argument("--changes-to", metavar="URL", help="change mode: deliver signed webhooks to this URL")
    h.add_argument("--webhook-secret", help="signs change-mode deliveries (default $GITHUB_WEBHOOK_SECRET)")
    h.add_argument("--duplicate", type=float, default=0.0, help="share of deliveries sent twice")
    h.add_argument("--reorder", type=int, default=0, help="shuffle deliveries within a window of this size")
    h.add_argument("--drop", type=float, default=0.0,
                   help="share of deliveries lost as if the receiver were down (logged as failed, redeliverable)")
    h.add_argument("--ground-truth", metavar="FILE", help="write the dataset's ground truth as JSON")
    h.set_defaults(func=_simulate_github)


def _backfill_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    b = sub.add_parser("backfill-discussions", help="sync one repository's discussions now, with a progress bar")
    b.add_argument("owner")
    b.add_argument("repo")
    b.add_argument("--max-items", type=int, default=1000, help="newest first, at most this many")
    b.add_argument("--no-summaries", action="store_true", help="store discussions without AI summaries")
    b.set_defaults(func=_backfill_discussions)


def _verbose_option(command: argparse.ArgumentParser) -> None:
    command.add_argument("--verbose", action="store_true",
                         help="print a line per HTTP request (by default they go to .local/logs/http-access.log)")


def _demo_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    m = sub.add_parser("demo", help="start the local stack and run the demo end to end")
    m.add_argument("--keep", action="store_true", help="then keep the stack and its dashboard up until Ctrl-C")
    _verbose_option(m)
    m.set_defaults(func=_demo)


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
    v.add_argument("--github", choices=["auto", "sim", "env"], default="auto",
                   help="auto: the simulator unless GITHUB_TOKEN/GITHUB_APP_ID/GITHUB_API_URL is set")
    _verbose_option(v)
    _sim_options(v, port=False)
    v.set_defaults(func=_dev)
    _simulate_parser(sub)
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
    _backfill_parser(sub)
    workspaces.register(sub, console)
    similar.register(sub, console)
    control.register(sub, console)
    backfill.register(sub, console)
    gaps.register(sub, console)
    _demo_parser(sub)
    return p


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()

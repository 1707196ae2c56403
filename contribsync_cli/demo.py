"""``contribsync demo`` (``make demo``): the whole product on a simulated organisation, checked as it goes.

The organisation ``demo-org`` lives on the GitHub simulator (GraphQL executed against GitHub's public
schema) and has three repositories: ``atlas``, large, with 2,000 pull requests; ``beacon``, with
discussions; ``compass``, small. Everything runs on the local stack: the embedded Postgres, moto's SQS,
a poller per function calling the real Lambda handlers, and the fake OpenAI server.

1. ``contribsync backfill --dry-run`` plans the three repositories from GitHub's counts, then
   ``contribsync backfill`` discovers them, syncs them through the queues with progress bars, embeds
   them and prints the verification table against GitHub;
2. a workspace holds the three; its metrics are aggregated through its queue and shown;
3. beacon's discussions with their AI summaries, and the items most similar to an atlas pull request;
4. a live stream of GitHub changes delivered as signed webhooks (each sent up to twice, out of order),
   applied incrementally; the database then equals the simulator's ground truth;
5. reliability: the event API refusing bad input, a transient fault retried with backoff, poison
   messages in the DLQ with their reasons, ``cancel/function``, a cron fast-forwarded one week;
6. ``contribsync status`` and the dashboard's address.

Every step is verified; the exit code is non-zero if any expectation fails. With ``--keep``
(``make demo KEEP=1``) the stack, its dashboard, the crons and a slow change stream stay up until Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from rich.live import Live
from rich.rule import Rule
from rich.table import Table

from contribsync import logger
from contribsync.history import RunHistory
from contribsync_cli.output import add_verbose_option, print_runs, shown
from contribsync_local import faults, postgres
from contribsync_ops import OPS_SQL
from contribsync_sim.dataset import RepoSpec, generate, ground_truth

if TYPE_CHECKING:
    from collections.abc import Callable

    from rich.console import Console

    from contribsync.runtime import RunContext
    from contribsync_local.stack import LocalStack
    from contribsync_sim.simulator import Simulator

    Check = Callable[[str, bool], None]
    RunCommand = Callable[[list[str]], int]

ORG = "demo-org"
LAYOUT = (RepoSpec("atlas", 2000, False), RepoSpec("beacon", 300, True), RepoSpec("compass", 40, False))
SIZES = {"atlas": "large", "beacon": "medium", "compass": "small"}  # by GitHub's PR count: <100, <=500, more
DATASET_SEED = 5  # gives beacon 30 discussions
WORKSPACE = "Demo team"
STREAM_CHANGES = 120


def _free_port(preferred: int = 8288) -> int:
    with socket.socket() as s:
        if s.connect_ex(("127.0.0.1", preferred)) != 0:
            return preferred
    return 0


def _demo_database(console: Console) -> str:
    """A fresh database on the embedded server, so every demo run starts from the same state.

    With DATABASE_URL set, the demo uses that database as it is (reruns then see earlier runs)."""
    if url := os.environ.get("DATABASE_URL"):
        console.print("[yellow]DATABASE_URL is set: the demo runs in it as it is[/]")
        return url
    return postgres.create_database(postgres.server_url(), "contribsync_demo", drop_first=True)


def _wait_run(stack: LocalStack, function: str, since: datetime, timeout_s: float = 120) -> dict[str, Any] | None:
    history = RunHistory(stack.db)

    def done() -> dict[str, Any] | None:
        return next((r for r in history.recent(function=function, limit=20)
                     if r["status"] == "completed" and r["started_at"] >= since), None)

    stack.wait_idle(timeout_s, until=lambda: done() is not None)
    return done()


def _organisation(sim: Simulator, console: Console) -> None:
    table = Table("repository", "pull requests", "issues", "discussions", "stars", title=f"{ORG} on GitHub")
    for repo in sim.ds.repos.values():
        table.add_row(repo.full_name, str(len(sim.ds.prs_by_repo[repo.id])), str(len(sim.ds.issues_by_repo[repo.id])),
                      str(len(sim.ds.discussions_by_repo.get(repo.id, []))), str(repo.stars))
    console.print(table)


def _backfill(stack: LocalStack, console: Console, check: Check, cli: RunCommand) -> None:
    """Phase 1: the plan, then discovery, sync, embeddings and the verification table."""
    names = [f"{ORG}/{spec.name}" for spec in LAYOUT]
    console.print("[bold]$ contribsync backfill demo-org/atlas demo-org/beacon demo-org/compass --dry-run")
    rc = cli(["backfill", *names, "--dry-run"])
    stored = stack.db.connection().execute("SELECT count(*) AS n FROM repositories").fetchone()
    check("the dry run planned from GitHub's counts and changed nothing",
          rc == 0 and stored is not None and stored["n"] == 0)
    console.print("\n[bold]$ contribsync backfill demo-org/atlas demo-org/beacon demo-org/compass --full")
    started = time.monotonic()
    rc = cli(["backfill", *names, "--full", "--wait-minutes", "8", "--skip-workspace"])
    check(f"backfill: discovered, synced and embedded 3 repositories in {time.monotonic() - started:.0f} s; "
          "the verification table matches GitHub", rc == 0)


def _workspace(stack: LocalStack, console: Console, check: Check) -> str:
    """Phase 2: a workspace through the CLI, its aggregation through the queue, its metrics shown."""
    from contribsync_cli import workspaces

    db = stack.db
    console.print(f"[bold]$ contribsync workspace create {WORKSPACE!r} && contribsync workspace add … (x3)")
    workspaces.create(argparse.Namespace(name=WORKSPACE, slug=None, tier="pro"), console, db)
    for spec in LAYOUT:
        workspaces.add(argparse.Namespace(name=WORKSPACE, repo=f"{ORG}/{spec.name}", wait=60.0), console, db)
    ws = db.query_one("workspace_find", {"name": WORKSPACE, "slug": "demo-team"}, folder=OPS_SQL)
    assert ws is not None
    since = datetime.now(UTC)
    stack.queues.send_event("aggregate/workspace-metrics", {"workspaceId": str(ws["id"]), "triggeredBy": "demo"})
    run = _wait_run(stack, "AggregateWorkspaceMetrics", since, timeout_s=60)
    console.print(f"\n[bold]$ contribsync workspace metrics {WORKSPACE!r}")
    workspaces.show_metrics(argparse.Namespace(name=WORKSPACE, json=False, refresh=False, days=2), console, db)
    stored = db.connection().execute(
        "SELECT count(*) AS n FROM pull_requests p JOIN repositories r ON r.id = p.repository_id"
        " WHERE r.owner = %s", (ORG,)).fetchone()
    cached = {r["time_range"]: r
              for r in db.query("workspace_metrics_read", {"workspace_id": ws["id"]}, folder=OPS_SQL)}
    check(f"workspace metrics aggregated in {run['result']['ms'] if run else '?'} ms: all-time PRs "
          f"{cached['all']['total_prs'] if cached else '?'} = {stored['n'] if stored else '?'} stored, "
          f"{len(cached)} time ranges",
          run is not None and bool(cached) and stored is not None
          and cached["all"]["total_prs"] == stored["n"] and len(cached) == 5)
    return str(ws["id"])


def _discussions_and_similar(stack: LocalStack, console: Console, check: Check, cli: RunCommand) -> None:
    """Phase 3: beacon's discussions summarised by the fake OpenAI server, and a ``similar`` query."""
    rows = stack.db.connection().execute(
        "SELECT d.number, d.title, d.summary FROM discussions d JOIN repositories r ON r.id = d.repository_id"
        " WHERE r.full_name = %s ORDER BY d.number", (f"{ORG}/beacon",)).fetchall()
    table = Table("#", "title", "AI summary (fake OpenAI)", title=f"{ORG}/beacon discussions", show_lines=False)
    for r in rows[:5]:
        table.add_row(str(r["number"]), r["title"], r["summary"] or "")
    console.print(table)
    beacon = next(r for r in stack.simulator.ds.repos.values() if r.name == "beacon") if stack.simulator else None
    expected = len(stack.simulator.ds.discussions_by_repo[beacon.id]) if stack.simulator and beacon else -1
    check(f"{len(rows)} discussions stored, each with a summary of at most 150 characters",
          len(rows) == expected and all(r["summary"] and len(r["summary"]) <= 150 for r in rows))
    atlas = stack.simulator.ds.repo_by_name[f"{ORG}/atlas"] if stack.simulator else None
    number = next((pr.number for pr in stack.simulator.ds.prs_by_repo[atlas.id]
                   if not pr.title.startswith("Bump ")), 1) if stack.simulator and atlas else 1
    console.print(f"\n[bold]$ contribsync similar {ORG}/atlas#{number} --limit 5 --all-repositories")
    rc = cli(["similar", f"{ORG}/atlas#{number}", "--limit", "5", "--all-repositories"])
    check("similar items found by vector search (pgvector, HNSW)", rc == 0)


def _applied(stack: LocalStack, ids: list[str]) -> int:
    row = stack.db.connection().execute(
        "SELECT count(*) AS n FROM webhook_deliveries WHERE delivery_id = ANY(%s) AND status = 'processed'",
        (ids,)).fetchone()
    return int(row["n"]) if row else 0


def _webhook_stream(stack: LocalStack, console: Console, check: Check) -> None:
    """Phase 4: GitHub changes delivered live as signed webhooks, duplicated and reordered, applied
    incrementally with no API call; then the database against the simulator's ground truth."""
    assert stack.simulator is not None and stack.http is not None
    sim = stack.simulator
    feed = sim.feed(os.environ["GITHUB_WEBHOOK_SECRET"], seed=3)
    sender = sim.sender(f"{stack.http.url}/webhook", duplicate=0.3, reorder=3, seed=3)
    ids: set[str] = set()
    kinds: dict[str, int] = {}

    def view(changes: int) -> Table:
        table = Table("changes on GitHub", "deliveries sent (duplicates)", "answers", "distinct deliveries applied",
                      title="live webhook stream")
        r = sender.result
        table.add_row(f"{changes}/{STREAM_CHANGES} " + " ".join(f"{k} {v}" for k, v in sorted(kinds.items())),
                      f"{r.sent} ({r.duplicates})", " ".join(f"{v} x {k}" for k, v in sorted(r.statuses.items())),
                      f"{_applied(stack, sorted(ids))}/{len(ids)}")
        return table

    started = time.monotonic()
    with Live(view(0), console=console, refresh_per_second=4) as live:
        for n in range(1, STREAM_CHANGES + 1):
            batch = feed.step()
            for d in batch:
                ids.add(d.id)
                kinds[d.event] = kinds.get(d.event, 0) + 1
            sender.send(batch)
            time.sleep(0.05)
            live.update(view(n))
        sender.flush()
        deadline = time.monotonic() + 90
        while _applied(stack, sorted(ids)) < len(ids) and time.monotonic() < deadline:
            time.sleep(0.25)
            live.update(view(STREAM_CHANGES))
        live.update(view(STREAM_CHANGES))
    console.print()
    stack.wait_idle(60)
    r = sender.result
    check(f"{r.sent} deliveries ({r.duplicates} duplicates, out of order) answered {dict(r.statuses)}; "
          f"all {len(ids)} distinct ones applied in {time.monotonic() - started:.1f} s",
          set(r.statuses) == {202} and not r.failures and _applied(stack, sorted(ids)) == len(ids))
    _ground_truth(stack, console, check)


def _ground_truth(stack: LocalStack, console: Console, check: Check) -> None:
    assert stack.simulator is not None
    truth = ground_truth(stack.simulator.ds)["repos"]
    table = Table("repository", "PRs", "reviews", "review comments", "issue comments", "issues",
                  title="database = simulator's ground truth after the stream")
    same = True
    for spec in LAYOUT:
        t = truth[f"{ORG}/{spec.name}"]
        counts = stack.db.connection().execute("""
            SELECT (SELECT count(*) FROM pull_requests WHERE repository_id = r.id) AS prs,
                   (SELECT count(*) FROM reviews WHERE repository_id = r.id) AS reviews,
                   (SELECT count(*) FROM comments WHERE repository_id = r.id AND comment_type = 'review_comment')
                       AS review_comments,
                   (SELECT count(*) FROM comments WHERE repository_id = r.id AND comment_type = 'issue_comment')
                       AS issue_comments,
                   (SELECT count(*) FROM issues WHERE repository_id = r.id) AS issues
              FROM repositories r WHERE r.full_name = %s""", (f"{ORG}/{spec.name}",)).fetchone()
        expected = {"prs": t["pull_requests"]["total"], "reviews": t["reviews"],
                    "review_comments": t["review_comments"],
                    "issue_comments": t["issue_comments"]["on_prs"] + t["issue_comments"]["on_issues"],
                    "issues": t["issues"]["total"]}
        got = dict(counts or {})
        same = same and got == expected
        table.add_row(f"{ORG}/{spec.name}", *(
            f"{got.get(k)}" if got.get(k) == v else f"[red]{got.get(k)} ≠ {v}[/]" for k, v in expected.items()))
    console.print(table)
    check("every count equals the simulator's ground truth: nothing lost, nothing duplicated", same)


class _TransientFault:
    """Fails the first two attempts of one repository's run, as a flaky dependency would."""

    def __init__(self, repository_id: str) -> None:
        self.repository_id = repository_id

    def __call__(self, ctx: RunContext) -> None:
        if ctx.data.get("repositoryId") == self.repository_id and ctx.attempt < 3:
            raise ConnectionError(f"simulated transient fault (attempt {ctx.attempt})")


def _reliability(stack: LocalStack, console: Console, check: Check, cli: RunCommand, workspace_id: str) -> None:
    """Phase 5: bad input refused, a transient fault retried, poison messages dead-lettered with their
    reasons, a queued run cancelled, the weekly cleanup fired by fast-forwarding the scheduler."""
    import httpx

    from contribsync_local.scheduler import CronDriver

    assert stack.http is not None
    api = f"{stack.http.url}/e"
    ids = {r["name"]: str(r["id"]) for r in stack.db.connection().execute(
        "SELECT id, name FROM repositories WHERE owner = %s", (ORG,)).fetchall()}
    today = datetime.now(UTC).date()
    with stack.db.transaction() as conn:  # daily metrics rows past the 90-day retention, for the cleanup cron
        for age in (120, 100):
            conn.execute("INSERT INTO workspace_metrics_history (workspace_id, metric_date) VALUES (%s, %s)"
                         " ON CONFLICT DO NOTHING", (workspace_id, today - timedelta(days=age)))
    faults.inject(stack.handlers["ClassifySingleRepository"].RUNTIME, _TransientFault(ids["compass"]))
    started = datetime.now(UTC)

    classify = {"name": "capture/repository.classify.batch", "data": {}}
    r = httpx.post(f"{api}/wrong-key", json=classify)
    check(f"event API: a bad event key refused with {r.status_code} {r.json()['error']}", r.status_code == 401)
    r = httpx.post(f"{api}/contributor-info", json={"name": "classify/single-repository", "data": {}})
    check(f"event API: an event with invalid data refused with {r.status_code}", r.status_code == 400)
    r = httpx.post(f"{api}/contributor-info", json=[classify])
    check(f"event API: contributor.info's alias capture/repository.classify.batch accepted: {r.json()}",
          r.status_code == 200)
    r = httpx.post(f"{api}/contributor-info", json={"name": "classify/single-repository",
                                                    "data": {"repositoryId": ids["compass"], "reason": "demo"}})
    console.print(f"classify/single-repository sent for compass, whose first two attempts fail: {r.json()['ids']}")

    stack.queues.send_raw("classify-single-repository", "{not json")
    stack.queues.send_raw("classify-single-repository",
                          json.dumps({"name": "classify/single-repository", "data": {"repositoryId": "nope"}}))
    console.print("two poison messages injected straight into ClassifySingleRepository's SQS queue")

    doomed = {"name": "classify/repository.single", "data": {"repositoryId": ids["beacon"], "reason": "late"},
              "id": f"demo-cancel-{uuid.uuid4().hex[:6]}", "ts": int(time.time() * 1000)}
    stack.queues.send_raw("classify-single-repository", json.dumps(doomed), delay_s=4)
    console.print("[bold]$ contribsync cancel classify/single-repository --match '{\"reason\": \"late\"}'")
    cli(["cancel", "classify/single-repository", "--match", '{"reason": "late"}'])

    cron = CronDriver(stack.queues, only=("cleanup/workspace-metrics",), start=datetime.now(UTC))
    fired = cron.tick(datetime.now(UTC) + timedelta(days=7))
    console.print(f"scheduler fast-forwarded one week, fired: {[(n, at.isoformat()) for n, at in fired]}")

    history = RunHistory(stack.db)

    def runs() -> list[dict[str, Any]]:
        return [r for r in history.recent(limit=200) if r["started_at"] >= started]

    def settled() -> bool:
        rows = runs()
        return (any(r["function"] == "ClassifySingleRepository" and r["status"] == "completed"
                    and (r["data"] or {}).get("repositoryId") == ids["compass"] for r in rows)
                and any(r["status"] == "cancelled" for r in rows)
                and any(r["function"] == "CleanupWorkspaceMetrics" and r["status"] == "completed" for r in rows))

    console.print("waiting for the queues to drain (retries back off 1-2 s, then 2-4 s)…")
    stack.wait_idle(90, until=settled)
    stack.wait_idle(30)
    rows = runs()
    print_runs(console, rows, title="run history (contribsync runs)")
    compass = sorted((r for r in rows if r["function"] == "ClassifySingleRepository"
                      and (r["data"] or {}).get("repositoryId") == ids["compass"]), key=lambda r: r["attempt"])
    check("compass's classification failed twice, then succeeded on attempt 3 after backoff",
          [(r["attempt"], r["status"]) for r in compass] == [(1, "retrying"), (2, "retrying"), (3, "completed")])
    dead = stack.queues.dead_letters("classify-single-repository-dlq")
    check(f"{len(dead)} poison messages in the DLQ, each with its reason, the rest of the batch done",
          len(dead) == 2 and all(d["error"] for d in dead))
    for d in dead:
        console.print(f"   DLQ: {' '.join(d['error'].split())[:150]}")
    check("the delayed run was cancelled", any(r["status"] == "cancelled" and r["error"] == "user_requested"
                                               for r in rows))
    cleanup = [r for r in rows if r["function"] == "CleanupWorkspaceMetrics" and r["status"] == "completed"]
    check(f"weekly cleanup deleted the daily rows past 90 days: {cleanup[0]['result'] if cleanup else None}",
          bool(cleanup) and cleanup[0]["result"]["deleted"] >= 2)
    sizes = {r["repository_name"]: r["size"] for r in stack.db.query("demo_sizes", {"org": ORG}, folder=OPS_SQL)}
    check(f"every repository classified by GitHub's PR count: {sizes}", sizes == SIZES)


def _keep(stack: LocalStack, console: Console) -> None:
    """``--keep``: crons on and a change every 5 s, until Ctrl-C."""
    from contribsync_local.scheduler import CronDriver

    assert stack.http is not None and stack.simulator is not None
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stack.cron = CronDriver(stack.queues)
    stack.cron.start()
    stack.simulator.start_changes(f"{stack.http.url}/webhook", os.environ["GITHUB_WEBHOOK_SECRET"], every_s=5.0)
    console.print(Rule("[bold]the stack stays up (KEEP=1)"))
    console.print(f"  dashboard   {stack.http.url}/")
    console.print(f"  event API   POST {stack.http.url}/e/contributor-info     webhooks  POST {stack.http.url}/webhook")
    console.print(f"  GitHub      simulator {stack.simulator.url}, a change every 5 s delivered as a webhook")
    console.print(f"  Postgres    {stack.database_url}")
    console.print("  in another terminal: .venv/bin/contribsync status | runs | gaps | similar demo-org/atlas#2")
    console.print("  Ctrl-C stops everything")
    stop.wait()
    console.print("stopping…")


def run_demo(console: Console, run_command: RunCommand, *, keep: bool = False, verbose: bool = False) -> int:
    """The demo; ``run_command`` runs a ``contribsync`` command in this process and returns its exit code."""
    from contribsync_local.http import ACCESS_LOG_FILE
    from contribsync_local.stack import LocalStack
    from contribsync_sim.simulator import Simulator

    checks: list[tuple[str, bool]] = []

    def check(label: str, ok: bool) -> None:
        checks.append((label, ok))
        console.print(("[green]✔[/] " if ok else "[red]✘[/] ") + label)

    logger.setLevel("CRITICAL")  # the handlers' JSON logs would drown the demo; the run history shows all
    console.print(Rule("[bold]contribsync demo: a simulated GitHub organisation, end to end"))
    fake_openai = None
    if not os.environ.get("OPENAI_API_KEY"):  # never api.openai.com: the project's fake server answers
        from contribsync_local.openai_fake import FakeOpenAI

        fake_openai = FakeOpenAI()
        os.environ.update({"OPENAI_API_KEY": "sk-demo", "OPENAI_BASE_URL": fake_openai.start()})
    # Generated up to this hour, so the workspace's 7/30/90-day windows hold activity.
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    simulator = Simulator(dataset=generate(DATASET_SEED, org=ORG, layout=LAYOUT, now=now))
    with LocalStack(database_url=_demo_database(console), port=_free_port(), retry_base_s=2, cron=False,
                    simulator=simulator, poller_concurrency=3, write_state=keep,
                    access_log="stderr" if verbose else "file") as stack:
        assert stack.http is not None
        console.print(f"stack up: {len(stack.pollers)} Lambda handlers polling their SQS queues on moto "
                      f"{stack.aws_endpoint}; Postgres {stack.database_url}; GitHub simulator {simulator.url}; "
                      f"event API, webhooks and dashboard on {stack.http.url} (a line per request in "
                      f"{'standard error' if verbose else shown(ACCESS_LOG_FILE)})")
        _organisation(simulator, console)
        console.print(Rule("1. discovery and backfill"))
        _backfill(stack, console, check, run_command)
        console.print(Rule("2. a workspace and its metrics"))
        workspace_id = _workspace(stack, console, check)
        console.print(Rule("3. discussions with AI summaries; similar items"))
        _discussions_and_similar(stack, console, check, run_command)
        console.print(Rule("4. a live stream of webhooks"))
        _webhook_stream(stack, console, check)
        console.print(Rule("5. reliability: bad input, retries, poison messages, cancel, crons"))
        _reliability(stack, console, check, run_command, workspace_id)
        console.print(Rule("6. status"))
        console.print("[bold]$ contribsync status")
        run_command(["status"])
        console.print(f"the same, with per-function run history and failure details: the dashboard at "
                      f"{stack.http.url}/ (make demo KEEP=1 keeps it up)")
        failed = [label for label, ok in checks if not ok]
        console.print(Rule(f"[red]demo failed: {len(failed)} of {len(checks)} checks" if failed
                           else f"[green]demo passed: {len(checks)} checks"))
        for label in failed:
            console.print(f"[red]✘[/] {label}")
        if keep:
            _keep(stack, console)
    if fake_openai is not None:
        fake_openai.stop()
        for key in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
            os.environ.pop(key, None)
    return 1 if failed else 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], console: Console, *,
             run_command: RunCommand) -> None:
    """``contribsync demo``; the demo runs its ``contribsync`` commands through ``run_command``."""
    m = sub.add_parser("demo", help="start the local stack and run the demo end to end")
    m.add_argument("--keep", action="store_true", help="then keep the stack and its dashboard up until Ctrl-C")
    add_verbose_option(m)
    m.set_defaults(func=lambda a: sys.exit(run_demo(console, run_command, keep=a.keep, verbose=a.verbose)))

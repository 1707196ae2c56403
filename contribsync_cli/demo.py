"""``contribsync demo`` (``make demo``): the local stack end to end, checked as it goes.

What it shows, against the GitHub simulator and the embedded Postgres:

0. the main job: ``discover/new-repository`` for a simulated repository creates its record and queues
   classification and a full sync, which pages every pull request with reviews and comments; the issues
   sync follows; change mode then edits the repository and delivers signed webhooks, and an incremental
   sync picks the changes up. The database is compared with the simulator's ground truth; then a
   workspace is created and the repository added through ``contribsync workspace``, its aggregation
   runs through its queue and the metrics of every time range are shown; its issues, pull requests
   and discussions are embedded (the local fake OpenAI) and the items nearest to #1 are listed;

then, on a small seeded organisation:

1. the event API (``POST /e/contributor-info``) refusing a bad key and an invalid event, then taking
   contributor.info's own alias ``capture/repository.classify.batch``;
2. that fan-out classifying every repository, one run failing twice on an injected transient fault
   and succeeding on its third attempt after exponential backoff;
3. poison messages injected straight into SQS (not JSON; invalid data) landing in the DLQ with their
   error recorded while the rest of the batch succeeds;
4. a ``cancel/function`` stopping a queued run;
5. the weekly cleanup cron fired by fast-forwarding the scheduler one week;
6. the run history, the DLQ and the stored results.

Every step is verified; the exit code is non-zero if any expectation fails.
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
from rich.rule import Rule
from rich.table import Table

from contribsync import logger
from contribsync.history import RunHistory
from contribsync_cli.main import print_runs
from contribsync_local import postgres
from contribsync_local.scheduler import CronDriver
from contribsync_local.stack import LocalStack
from contribsync_sim.dataset import ground_truth

if TYPE_CHECKING:
    from collections.abc import Callable

    from rich.console import Console

    from contribsync.runtime import RunContext

ORG = "demo-org"
# name, stars, forks, discussions, pull requests (GitHub's count) and the size that count means
REPOS = [("atlas", 12_000, 900, True, 900, "large"), ("beacon", 40, 3, False, 40, "small"),
         ("compass", 800, 70, True, 250, "medium")]


def _free_port(preferred: int = 8288) -> int:
    with socket.socket() as s:
        if s.connect_ex(("127.0.0.1", preferred)) != 0:
            return preferred
    return 0


def _seed(stack: LocalStack) -> dict[str, str]:
    """Demo data: three repositories, a workspace, and daily metrics of which one is past retention.

    Dev-only seeding, so the SQL stays here rather than in the layer's reviewed SQL files."""
    ids: dict[str, str] = {}
    run = uuid.uuid4().hex[:6]
    with stack.db.transaction() as conn:
        for n, (name, stars, forks, discussions, prs, _) in enumerate(REPOS):
            row = conn.execute(
                "INSERT INTO repositories (github_id, owner, name, full_name, stargazers_count, forks_count,"
                " has_discussions, pull_request_count, is_active) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, true)"
                " ON CONFLICT (full_name) DO UPDATE SET stargazers_count = excluded.stargazers_count"
                " RETURNING id",
                (900_000 + n, ORG, name, f"{ORG}/{name}", stars, forks, discussions, prs),
            ).fetchone()
            assert row is not None
            ids[name] = str(row["id"])
        ws = conn.execute(
            "INSERT INTO workspaces (name, slug, is_active) VALUES (%s, %s, true) RETURNING id",
            (f"Demo {run}", f"demo-{run}"),
        ).fetchone()
        assert ws is not None
        today = datetime.now(UTC).date()
        for age in (120, 100, 10):
            conn.execute(
                "INSERT INTO workspace_metrics_history (workspace_id, metric_date) VALUES (%s, %s)"
                " ON CONFLICT DO NOTHING", (ws["id"], today - timedelta(days=age)))
    return ids


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


def _capture(stack: LocalStack, console: Console, api: str, check: Callable[[str, bool], None]) -> None:
    """Phase 0: discover, full sync, issues, change mode with webhooks, incremental sync, ground truth."""
    assert stack.simulator is not None and stack.http is not None
    sim = stack.simulator
    repo = sim.ds.repo_by_name["simorg/repo-0"]
    since = datetime.now(UTC)
    r = httpx.post(f"{api}/contributor-info", json={"name": "discover/new-repository",
                                                    "data": {"owner": "simorg", "repo": "repo-0"}})
    console.print(f"discover/new-repository simorg/repo-0 sent: {r.status_code}")
    full = _wait_run(stack, "CaptureRepositorySyncEnhanced", since)
    check(f"full sync: {full['result']['pages'] if full else '?'} pages, {full['result']['prsStored'] if full else '?'}"
          " pull requests with reviews and comments", full is not None)
    row = stack.db.connection().execute("SELECT id FROM repositories WHERE github_id = %s", (repo.id,)).fetchone()
    assert row is not None
    repository_id = str(row["id"])
    discussions = _wait_run(stack, "CaptureRepositoryDiscussions", since)
    summaries = stack.db.connection().execute(
        "SELECT count(*) AS n, count(summary) AS summarised, max(length(summary)) AS longest FROM discussions"
        " WHERE repository_id = %s", (repository_id,)).fetchone()
    assert summaries is not None
    discussions_expected = len(sim.ds.discussions_by_repo.get(repo.id, [])[:100])
    check(f"discussions sync (queued by discovery): {summaries['n']} discussions, {summaries['summarised']} AI "
          f"summaries from the fake OpenAI server, the longest {summaries['longest']} characters",
          discussions is not None and summaries["n"] == summaries["summarised"] == discussions_expected
          and (summaries["longest"] or 0) <= 150)
    since = datetime.now(UTC)
    stack.queues.send_event("capture/repository.issues", {"repositoryId": repository_id, "timeRange": 3650})
    issues = _wait_run(stack, "CaptureRepositoryIssues", since)
    check(f"issues sync: {issues['result']['issuesStored'] if issues else '?'} issues", issues is not None)

    feed = sim.feed(os.environ["GITHUB_WEBHOOK_SECRET"], seed=3)
    deliveries = []
    for kind in ("open_pr", "add_review", "edit_pr", "add_comment", "close_pr"):
        for _ in range(50):  # change mode picks a repository at random; keep the ones in repo-0
            batch = feed.step(kind)
            if batch[0].payload["repository"]["id"] == repo.id:
                deliveries += batch
                break
    sent = [httpx.post(f"{stack.http.url}/webhook", content=d.body, headers=d.headers).status_code
            for d in deliveries]
    stored = stack.db.connection().execute(
        "SELECT count(*) AS n FROM webhook_deliveries WHERE delivery_id = ANY(%s)",
        ([d.id for d in deliveries],)).fetchone()
    check(f"change mode: {len(deliveries)} signed webhook deliveries accepted ({set(sent)}) and recorded",
          set(sent) == {202} and stored is not None and stored["n"] == len(deliveries))
    ids = [d.id for d in deliveries]

    def applied() -> bool:
        row = stack.db.connection().execute(
            "SELECT count(*) AS n FROM webhook_deliveries WHERE delivery_id = ANY(%s) AND status = 'processed'",
            (ids,)).fetchone()
        return row is not None and row["n"] == len(ids)

    stack.wait_idle(60, until=applied)
    new_pr = deliveries[0].payload["pull_request"]
    stored_pr = stack.db.connection().execute("SELECT title FROM pull_requests WHERE github_id = %s",
                                              (new_pr["id"],)).fetchone()
    check(f"webhooks applied: every delivery processed, the new PR #{new_pr['number']} stored from its payload",
          applied() and stored_pr is not None and stored_pr["title"] == new_pr["title"])
    since = datetime.now(UTC)
    stack.queues.send_event("capture/repository.sync-enhanced", {"repositoryId": repository_id})
    incremental = _wait_run(stack, "CaptureRepositorySyncEnhanced", since)
    result = incremental["result"] if incremental else {}
    check(f"incremental sync: mode {result.get('mode')}, {result.get('pages')} pages (one per state stream), "
          f"{result.get('prsStored')} pull requests refreshed", result.get("mode") == "incremental")

    truth = ground_truth(sim.ds)["repos"][repo.full_name]
    counts = stack.db.connection().execute("""
        SELECT (SELECT count(*) FROM pull_requests WHERE repository_id = %(r)s) AS prs,
               (SELECT count(*) FROM reviews WHERE repository_id = %(r)s) AS reviews,
               (SELECT count(*) FROM comments WHERE repository_id = %(r)s AND comment_type = 'review_comment')
                   AS review_comments,
               (SELECT count(*) FROM comments WHERE repository_id = %(r)s AND comment_type = 'issue_comment')
                   AS issue_comments,
               (SELECT count(*) FROM issues WHERE repository_id = %(r)s) AS issues""",
        {"r": repository_id}).fetchone()
    assert counts is not None
    expected = {"prs": truth["pull_requests"]["total"], "reviews": truth["reviews"],
                "review_comments": truth["review_comments"],
                "issue_comments": truth["issue_comments"]["on_prs"] + truth["issue_comments"]["on_issues"],
                "issues": truth["issues"]["total"]}
    table = Table("simorg/repo-0", "database", "simulator", title="captured vs ground truth")
    for key, value in expected.items():
        table.add_row(key, str(counts[key]), str(value))
    console.print(table)
    check("the database matches the simulator's ground truth", counts == expected)


def _workspace(stack: LocalStack, console: Console, check: Callable[[str, bool], None]) -> None:
    """Phase 0b: a workspace through the CLI, its aggregation through the queue, its metrics shown."""
    import argparse

    from contribsync_cli import workspaces

    db = stack.db
    workspaces.create(argparse.Namespace(name="Demo team", slug=None, tier="pro"), console, db)
    workspaces.add(argparse.Namespace(name="Demo team", repo="simorg/repo-0", wait=60.0), console, db)
    ws = db.query_one("workspace_find", {"name": "Demo team", "slug": "demo-team"})
    assert ws is not None
    since = datetime.now(UTC)
    stack.queues.send_event("aggregate/workspace-metrics", {"workspaceId": str(ws["id"]), "triggeredBy": "demo"})
    run = _wait_run(stack, "AggregateWorkspaceMetrics", since, timeout_s=60)
    workspaces.show_metrics(argparse.Namespace(name="Demo team", json=False, refresh=False, days=2), console, db)
    stored = db.connection().execute(
        "SELECT count(*) AS n FROM pull_requests p JOIN repositories r ON r.id = p.repository_id"
        " WHERE r.full_name = 'simorg/repo-0'").fetchone()
    cached = {r["time_range"]: r for r in db.query("workspace_metrics_read", {"workspace_id": ws["id"]})}
    check(f"workspace metrics aggregated in {run['result']['ms'] if run else '?'} ms: all-time PRs "
          f"{cached['all']['total_prs'] if cached else '?'} = {stored['n'] if stored else '?'} stored, "
          f"{len(cached)} time ranges, {len(run['result']['days']) if run else 0} daily rows",
          run is not None and bool(cached) and stored is not None
          and cached["all"]["total_prs"] == stored["n"] and len(cached) == 5)


def _embeddings(stack: LocalStack, console: Console, check: Callable[[str, bool], None]) -> None:
    """Phase 0c: the workspace's items embedded through the queue (the fake OpenAI), then similar items."""
    import argparse

    from contribsync_cli import similar

    db = stack.db
    ws = db.query_one("workspace_find", {"name": "Demo team", "slug": "demo-team"})
    assert ws is not None
    since = datetime.now(UTC)
    stack.queues.send_event("embeddings/process.workspace", {"workspace_id": str(ws["id"])})
    run = _wait_run(stack, "EmbeddingsProcessWorkspace", since, timeout_s=120)
    result = run["result"] if run else {}
    coverage = db.query("embeddings_coverage", {"workspace_id": ws["id"], "repository_id": None,
                                                "model": "text-embedding-3-small"})
    items, fresh = sum(c["items"] for c in coverage), sum(c["fresh"] for c in coverage)
    check(f"embeddings: {result.get('embedded')} items in {result.get('requests')} requests, "
          f"{result.get('tokens')} tokens (${result.get('costUsd')}); coverage {fresh}/{items}",
          run is not None and items > 0 and fresh == items)
    similar.run(argparse.Namespace(ref="simorg/repo-0#1", limit=3, all_repositories=False, json=False), console)


class _TransientFault:
    """Fails the first two attempts of one repository's run, as a flaky dependency would."""

    def __init__(self, repository_id: str) -> None:
        self.repository_id = repository_id

    def __call__(self, ctx: RunContext) -> None:
        if ctx.data.get("repositoryId") == self.repository_id and ctx.attempt < 3:
            raise ConnectionError(f"simulated transient fault (attempt {ctx.attempt})")


def run_demo(console: Console) -> int:  # noqa: PLR0915 - a linear script reads best as one function
    checks: list[tuple[str, bool]] = []

    def check(label: str, ok: bool) -> None:
        checks.append((label, ok))
        console.print(("[green]✔[/] " if ok else "[red]✘[/] ") + label)

    started = datetime.now(UTC)
    logger.setLevel("CRITICAL")  # the handlers' JSON logs would drown the demo; the run history shows all
    console.print(Rule("[bold]contribsync demo: the local stack end to end"))
    fake_openai = None
    if not os.environ.get("OPENAI_API_KEY"):  # never api.openai.com: the project's fake server answers
        from contribsync_local.openai_fake import FakeOpenAI

        fake_openai = FakeOpenAI()
        os.environ.update({"OPENAI_API_KEY": "sk-demo", "OPENAI_BASE_URL": fake_openai.start()})
    with LocalStack(database_url=_demo_database(console), port=_free_port(), retry_base_s=2, cron=False) as stack:
        assert stack.http is not None
        console.print(f"stack up: event API {stack.http.url}, moto {stack.aws_endpoint}, "
                      f"{len(stack.pollers)} function pollers, Postgres {stack.database_url}")
        api = f"{stack.http.url}/e"
        console.print(Rule("0. capture: discover, sync, change, sync again"))
        _capture(stack, console, api, check)
        console.print(Rule("0b. a workspace and its metrics"))
        _workspace(stack, console, check)
        console.print(Rule("0c. embeddings and similar items"))
        _embeddings(stack, console, check)
        ids = _seed(stack)
        stack.handlers["ClassifySingleRepository"].RUNTIME.before_run = _TransientFault(ids["beacon"])

        console.print(Rule("1. event API"))
        classify = {"name": "capture/repository.classify.batch", "data": {}}
        r = httpx.post(f"{api}/wrong-key", json=classify)
        check(f"bad event key refused: {r.status_code} {r.json()['error']}", r.status_code == 401)
        r = httpx.post(f"{api}/contributor-info", json={"name": "classify/single-repository", "data": {}})
        check(f"invalid event refused: {r.status_code}", r.status_code == 400)
        r = httpx.post(f"{api}/contributor-info", json=[classify])
        check(f"alias capture/repository.classify.batch accepted: {r.json()}", r.status_code == 200)

        console.print(Rule("2. poison messages straight into SQS"))
        stack.queues.send_raw("classify-single-repository", "{not json")
        stack.queues.send_raw("classify-single-repository",
                              json.dumps({"name": "classify/single-repository", "data": {"repositoryId": "nope"}}))
        console.print("two raw messages injected on ClassifySingleRepository's queue")

        console.print(Rule("3. cancel/function"))
        doomed = {"name": "classify/repository.single", "data": {"repositoryId": ids["compass"], "reason": "late"},
                  "id": f"demo-cancel-{uuid.uuid4().hex[:6]}", "ts": int(time.time() * 1000)}
        stack.queues.send_raw("classify-single-repository", json.dumps(doomed), delay_s=4)
        r = httpx.post(f"{api}/contributor-info", json={"name": "cancel/function", "data": {
            "event": "classify/single-repository", "match": {"reason": "late"}, "reason": "demo: superseded"}})
        console.print(f"a delayed classification queued, then cancel/function sent: {r.json()['ids']}")

        console.print(Rule("4. cron: fast-forward one week"))
        cron = CronDriver(stack.queues, only=("cleanup/workspace-metrics",), start=started)
        fired = cron.tick(started + timedelta(days=7))
        console.print(f"fired: {[(n, at.isoformat()) for n, at in fired]}")

        console.print(Rule("waiting for the queues to drain (retries back off 1-2 s, then 2-4 s)"))
        history = RunHistory(stack.db)

        def runs() -> list[dict[str, Any]]:
            return [r for r in history.recent(limit=200) if r["started_at"] >= started]

        def settled() -> bool:
            rows = runs()
            return (sum(1 for r in rows if r["function"] == "ClassifySingleRepository"
                        and r["status"] == "completed") >= len(REPOS)
                    and any(r["status"] == "cancelled" for r in rows)
                    and any(r["function"] == "CleanupWorkspaceMetrics" and r["status"] == "completed"
                            for r in rows))

        stack.wait_idle(90, until=settled)
        stack.wait_idle(30)
        rows = runs()
        print_runs(rows, title="run history (contribsync runs)")

        console.print(Rule("checks"))
        beacon = sorted((r for r in rows if r["function"] == "ClassifySingleRepository"
                         and (r["data"] or {}).get("repositoryId") == ids["beacon"]), key=lambda r: r["attempt"])
        check("beacon failed twice, then succeeded on attempt 3 after backoff",
              [(r["attempt"], r["status"]) for r in beacon] == [(1, "retrying"), (2, "retrying"), (3, "completed")])
        dead = stack.queues.dead_letters("classify-single-repository-dlq")
        check(f"{len(dead)} poison messages in the DLQ, each with its error",
              len(dead) == 2 and all(d["error"] for d in dead))
        for d in dead:
            console.print(f"   DLQ: {' '.join(d['error'].split())[:150]}")
        check("the delayed run was cancelled", any(r["status"] == "cancelled" and r["error"] == "demo: superseded"
                                                   for r in rows))
        cleanup = [r for r in rows if r["function"] == "CleanupWorkspaceMetrics" and r["status"] == "completed"]
        check(f"weekly cleanup deleted the rows past 90 days: {cleanup[0]['result'] if cleanup else None}",
              bool(cleanup) and cleanup[0]["result"]["deleted"] >= 2)
        sizes = {r["repository_name"]: r["size"] for r in stack.db.query("demo_sizes", {"org": ORG})}
        table = Table("repository", "size", title="tracked_repositories")
        for name, size in sorted(sizes.items()):
            table.add_row(f"{ORG}/{name}", size)
        console.print(table)
        check("every repository classified by its pull request count (<100 small, <=500 medium, else large)",
              sizes == {name: size for name, *_, size in REPOS})
    if fake_openai is not None:
        fake_openai.stop()
        for key in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
            os.environ.pop(key, None)
    failed = [label for label, ok in checks if not ok]
    console.print(Rule("[red]demo failed" if failed else "[green]demo passed"))
    return 1 if failed else 0

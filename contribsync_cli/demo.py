"""``contribsync demo`` (``make demo``): the local stack end to end, checked as it goes.

What it shows, on a small simulated organisation stored in the embedded Postgres:

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

if TYPE_CHECKING:
    from rich.console import Console

    from contribsync.runtime import RunContext

ORG = "demo-org"
REPOS = [("atlas", 12_000, 900, True), ("beacon", 40, 3, False), ("compass", 800, 70, True)]


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
        for n, (name, stars, forks, discussions) in enumerate(REPOS):
            row = conn.execute(
                "INSERT INTO repositories (github_id, owner, name, full_name, stargazers_count, forks_count,"
                " has_discussions, is_active) VALUES (%s, %s, %s, %s, %s, %s, %s, true)"
                " ON CONFLICT (full_name) DO UPDATE SET stargazers_count = excluded.stargazers_count"
                " RETURNING id",
                (900_000 + n, ORG, name, f"{ORG}/{name}", stars, forks, discussions),
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
    with LocalStack(database_url=_demo_database(console), port=_free_port(), retry_base_s=2, cron=False) as stack:
        assert stack.http is not None
        console.print(f"stack up: event API {stack.http.url}, moto {stack.aws_endpoint}, "
                      f"{len(stack.pollers)} function pollers, Postgres {stack.database_url}")
        ids = _seed(stack)
        stack.handlers["ClassifySingleRepository"].RUNTIME.before_run = _TransientFault(ids["beacon"])

        console.print(Rule("1. event API"))
        api = f"{stack.http.url}/e"
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
        check("every repository classified", set(sizes) == {n for n, *_ in REPOS} and all(sizes.values()))
    failed = [label for label, ok in checks if not ok]
    console.print(Rule("[red]demo failed" if failed else "[green]demo passed"))
    return 1 if failed else 0

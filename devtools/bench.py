"""``make bench``: the capture benchmark, written to ``bench/results/capture.json`` and printed.

1. **Enhanced sync** of a 5,000-PR simulated repository (reviews, review comments, conversation
   comments) through the local stack (SQS, the Lambda-like poller, the simulator over HTTP, the
   embedded Postgres), with 1 s of simulated latency on every GraphQL page. Reports wall time, GitHub
   requests and points (as the simulator charged them) against the GraphQL page lower bound (the
   fewest pages of the same query that can hold every PR, at that query's point cost), and rows/s.
   **Incremental**: then one day of changes (``INCREMENTAL_CHANGES`` new and edited PRs, reviews,
   comments, closes and merges) is applied on the simulator with webhooks off, and the same
   repository is synced again (``sync-enhanced`` in its incremental mode): requests, points and wall
   time against the full sync's, and the pull request data against the simulator's ground truth.
2. **Seed-like strategy** on the same repository, as contributor.info captures: the 100 newest PRs by
   GraphQL, then REST per PR for its details, reviews, review comments and conversation comments, ten
   at a time (its functions' concurrency), with REST latency ``REST_LATENCY_S``. Its figures per PR are
   extrapolated to the whole repository for the ratio.
3. **Upserts**: the same pull request rows stored by COPY + ``INSERT ... ON CONFLICT`` (``store.write``)
   and by ``executemany`` of a row-at-a-time upsert, into fresh repositories of one database. Beside
   them, the same two methods on a narrow four-column table with only a primary key (the
   50,000-row calibration), so the figures show what is the machine and what is ``pull_requests``'
   width, six indexes, three foreign keys and three CHECKs.

Timings live here, never in the tests.
"""

from __future__ import annotations

import argparse
import json
import math
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import graphql
import psycopg
from rich.console import Console
from rich.table import Table

from contribsync.capture import repos, store
from contribsync.capture.rows import PULL_REQUEST_COLUMNS, Batch
from contribsync.db import Database, migrate
from contribsync.github import GitHubClient, document
from contribsync.services import capture
from contribsync_local import postgres
from contribsync_local.stack import LocalStack
from contribsync_sim.changes import KINDS
from contribsync_sim.cost import query_cost
from contribsync_sim.dataset import generate, ground_truth
from contribsync_sim.graphql_api import schema
from contribsync_sim.server import Knobs
from contribsync_sim.simulator import Simulator

RESULTS = Path(__file__).resolve().parent.parent / "bench" / "results" / "capture.json"
GRAPHQL_LATENCY_S = 1.0
REST_LATENCY_S = 0.15
INCREMENTAL_CHANGES = 300  # one busy day on a 5,000-PR repository
SEED_CONCURRENCY = 10
BIG_BUDGET = {"core": 1_000_000, "graphql": 1_000_000, "search": 30}
console = Console(width=120)

if TYPE_CHECKING:
    from collections.abc import Callable


def _fresh_database(name: str) -> str:
    dsn = postgres.create_database(postgres.server_url(), name, drop_first=True)
    db = Database(dsn)
    migrate(db)
    db.close()
    return dsn


def _repository(db: Database, github_id: int, owner: str, name: str, prs: int) -> dict[str, Any]:
    """A repository row made the way discovery makes it, from (minimal) GitHub metadata."""
    return repos.store(db, repos.graphql_params({
        "databaseId": github_id, "nameWithOwner": f"{owner}/{name}", "owner": {"login": owner}, "name": name,
        "pullRequests": {"totalCount": prs}}))


def page_cost() -> int:
    variables = {"owner": "o", "name": "n", "first": capture.PAGE_PRS, "after": None, "states": ["OPEN"],
                 "orderBy": {"field": "UPDATED_AT", "direction": "DESC"}, "reviews": capture.NESTED_REVIEWS,
                 "comments": capture.NESTED_COMMENTS, "reviewComments": capture.NESTED_REVIEW_COMMENTS}
    return query_cost(schema(), graphql.parse(document("pull_requests_page")), variables).points


def bench_sync(prs: int, seed: int) -> dict[str, Any]:
    ds = generate(seed, repos=1, prs_per_repo=prs)
    repo = next(iter(ds.repos.values()))
    dsn = _fresh_database("contribsync_bench_sync")
    sim = Simulator(dataset=ds, knobs=Knobs(graphql_latency_s=GRAPHQL_LATENCY_S, budget=dict(BIG_BUDGET)))
    with LocalStack(database_url=dsn, port=0, prefix=f"bench{uuid.uuid4().hex[:6]}", cron=False,
                    simulator=sim) as stack:
        started = time.monotonic()
        stack.queues.send_event("capture/repository.sync-enhanced", {"owner": repo.owner.login, "repo": repo.name})
        if not stack.wait_idle(900):
            raise SystemExit("the sync did not finish in 15 minutes")
        wall = time.monotonic() - started
        run = stack.db.connection().execute(
            "SELECT duration_ms, result FROM function_runs WHERE function = 'CaptureRepositorySyncEnhanced'"
            " AND status = 'completed' ORDER BY ended_at DESC LIMIT 1").fetchone()
        counts = stack.db.connection().execute(
            "SELECT (SELECT count(*) FROM pull_requests) AS prs, (SELECT count(*) FROM reviews) AS reviews,"
            " (SELECT count(*) FROM comments) AS comments, (SELECT count(*) FROM contributors) AS contributors"
        ).fetchone()
        counters = sim.app.counters
        full_requests, full_points = counters.requests, counters.points
        completeness = _completeness(stack, sim)
        incremental = bench_incremental(stack, sim, full_requests=full_requests, full_points=full_points,
                                        full_wall_s=wall)
    if run is None or counts is None:
        raise SystemExit("the sync left no completed run")
    rows = sum(counts.values())
    cost = page_cost()
    bound = math.ceil(prs / capture.PAGE_PRS) * cost
    return {
        "prs": prs, "graphql_latency_s": GRAPHQL_LATENCY_S, "wall_s": round(wall, 1),
        "run_s": round(run["duration_ms"] / 1000, 1), "pages": run["result"]["pages"],
        "requests": full_requests, "points": full_points, "page_cost_points": cost,
        "lower_bound_points": bound, "points_vs_lower_bound": round(counters.points / bound, 3),
        "rows": counts, "rows_total": rows, "rows_per_s": round(rows / (run["duration_ms"] / 1000)),
        "completeness": completeness, "incremental": incremental,
    }


def _completeness(stack: LocalStack, sim: Simulator) -> dict[str, float]:
    """Percent of the simulator's PRs, reviews and comments (by GitHub id) that are stored."""
    ds = sim.ds
    truth = {"pull_requests": {p.id for p in ds.prs.values()}, "reviews": {r.id for r in ds.reviews.values()},
             "review_comments": {c.id for c in ds.review_comments.values()},
             "issue_comments_on_prs": {c.id for c in ds.issue_comments.values() if c.is_pr}}
    conn = stack.db.connection()
    stored = {
        "pull_requests": {r["github_id"] for r in conn.execute("SELECT github_id FROM pull_requests")},
        "reviews": {r["github_id"] for r in conn.execute("SELECT github_id FROM reviews")},
        "review_comments": {r["github_id"] for r in conn.execute(
            "SELECT github_id FROM comments WHERE comment_type = 'review_comment'")},
        "issue_comments_on_prs": {r["github_id"] for r in conn.execute(
            "SELECT github_id FROM comments WHERE comment_type = 'issue_comment' AND pull_request_id IS NOT NULL")},
    }
    return {k: round(100 * len(truth[k] & stored[k]) / max(1, len(truth[k])), 2) for k in truth}


def bench_incremental(stack: LocalStack, sim: Simulator, *, full_requests: int, full_points: int,
                      full_wall_s: float) -> dict[str, Any]:
    """A day of changes on GitHub with webhooks off, then an incremental sync; compared with ground truth.

    Deletions are left out of the day (only a webhook or a full sync sees a comment that is gone), and so
    are issues, which this benchmark's full sync did not capture."""
    feed = sim.feed("bench-webhooks-off", seed=11)
    kinds = [k for k in KINDS if not k.startswith("delete") and k != "open_issue"]
    for n in range(INCREMENTAL_CHANGES):
        feed.step(kinds[n % len(kinds)])  # the deliveries are dropped: webhooks off
    repo = next(iter(sim.ds.repos.values()))
    before_requests, before_points = sim.app.counters.requests, sim.app.counters.points
    started = time.monotonic()
    stack.queues.send_event("capture/repository.sync-enhanced", {"owner": repo.owner.login, "repo": repo.name})
    stack.wait_idle(600)
    wall = time.monotonic() - started
    requests = sim.app.counters.requests - before_requests
    points = sim.app.counters.points - before_points
    truth = ground_truth(sim.ds)["repos"][repo.full_name]
    stored = stack.db.connection().execute("""
        SELECT (SELECT count(*) FROM pull_requests) AS prs, (SELECT count(*) FROM reviews) AS reviews,
               (SELECT count(*) FROM comments WHERE comment_type = 'review_comment') AS review_comments,
               (SELECT count(*) FROM comments WHERE comment_type = 'issue_comment' AND pull_request_id IS NOT NULL)
                   AS issue_comments_on_prs""").fetchone() or {}
    expected = {"prs": truth["pull_requests"]["total"], "reviews": truth["reviews"],
                "review_comments": truth["review_comments"],
                "issue_comments_on_prs": truth["issue_comments"]["on_prs"]}
    return {
        "changes": INCREMENTAL_CHANGES, "kinds": kinds, "wall_s": round(wall, 1), "requests": requests,
        "points": points, "matches_ground_truth": dict(stored) == expected,
        "stored": dict(stored), "ground_truth": expected,
        "vs_full_sync": {"requests": round(requests / full_requests, 3), "points": round(points / full_points, 3),
                         "wall": round(wall / full_wall_s, 3)},
    }


def bench_seed_like(prs: int, seed: int) -> dict[str, Any]:
    ds = generate(seed, repos=1, prs_per_repo=prs)
    repo = next(iter(ds.repos.values()))
    dsn = _fresh_database("contribsync_bench_seed")
    db = Database(dsn)
    knobs = Knobs(graphql_latency_s=GRAPHQL_LATENCY_S, rest_latency_s=REST_LATENCY_S, budget=dict(BIG_BUDGET))
    with Simulator(dataset=ds, knobs=knobs) as sim:
        gh = GitHubClient(base_url=sim.url, tokens=["seed-like"])
        started = time.monotonic()
        recent = gh.graphql("recent_pull_requests", {"owner": repo.owner.login, "name": repo.name, "first": 100})
        numbers = [n["number"] for n in recent.data["repository"]["pullRequests"]["nodes"]]
        base = f"/repos/{repo.full_name}"

        def one(number: int) -> Batch:
            batch = Batch()
            pr_id = batch.rest_pull_request(gh.get(f"{base}/pulls/{number}", conditional=False).json)
            for review in gh.get(f"{base}/pulls/{number}/reviews", conditional=False).json:
                batch.rest_review(review, pr_id)
            for comment in gh.get(f"{base}/pulls/{number}/comments", conditional=False).json:
                batch.rest_review_comment(comment, pr_id)
            for comment in gh.get(f"{base}/issues/{number}/comments", conditional=False).json:
                batch.rest_issue_comment(comment, pr_github_id=pr_id)
            return batch

        with ThreadPoolExecutor(SEED_CONCURRENCY) as pool:
            batches = list(pool.map(one, numbers))
        row = _repository(db, repo.id, repo.owner.login, repo.name, prs)
        for batch in batches:
            store.write(db, batch, repository_id=str(row["id"]), repository_full_name=repo.full_name)
        wall = time.monotonic() - started
        counters = sim.app.counters
        gh.close()
    db.close()
    per_pr_s = wall / len(numbers)
    return {
        "prs_captured": len(numbers), "rest_latency_s": REST_LATENCY_S, "concurrency": SEED_CONCURRENCY,
        "wall_s": round(wall, 1), "requests": counters.requests, "points": counters.points,
        "requests_per_pr": round(counters.requests / len(numbers), 2),
        "extrapolated_to_all": {"prs": prs, "wall_s": round(per_pr_s * prs), "requests":
                                math.ceil(prs / 100) + 4 * prs},
    }


def bench_upserts(n: int, seed: int) -> dict[str, Any]:
    """The same ``n`` pull request rows, fresh, through COPY + upsert and through executemany."""
    ds = generate(seed, repos=1, prs_per_repo=max(10, n // 20))
    template = Batch()
    for pr in ds.prs.values():
        template.rest_pull_request({
            "id": pr.id, "number": pr.number, "title": pr.title, "body": pr.body, "state": "open",
            "draft": pr.draft, "user": {"id": pr.author_id, "login": ds.users[pr.author_id].login,
                                        "type": ds.users[pr.author_id].type},
            "base": {"ref": pr.base_ref}, "head": {"ref": pr.head_ref},
            "created_at": pr.created_at.isoformat(), "updated_at": pr.updated_at.isoformat(),
            "additions": pr.additions, "deletions": pr.deletions, "changed_files": pr.changed_files,
            "commits": pr.commits, "html_url": None})
    base_rows = template.pull_requests
    dsn = _fresh_database("contribsync_bench_upsert")
    db = Database(dsn)
    results: dict[str, Any] = {"rows": n}
    for method, offset in (("copy_upsert", 10**11), ("executemany", 2 * 10**11)):
        rows = [(offset + i, i + 1, *base_rows[i % len(base_rows)][2:]) for i in range(n)]
        repo = _repository(db, offset, "bench", method, n)
        people = Batch()
        people.contributors = dict(template.contributors)
        store.write(db, people, repository_id=str(repo["id"]), repository_full_name=f"bench/{method}")
        started = time.monotonic()
        if method == "copy_upsert":
            batch = Batch()
            batch.pull_requests = rows
            store.write(db, batch, repository_id=str(repo["id"]), repository_full_name=f"bench/{method}")
        else:
            _executemany(db, str(repo["id"]), f"bench/{method}", rows)
        elapsed = time.monotonic() - started
        results[method] = {"seconds": round(elapsed, 2), "rows_per_s": round(n / elapsed)}
    db.close()
    results["copy_vs_executemany"] = round(results["copy_upsert"]["rows_per_s"]
                                           / results["executemany"]["rows_per_s"], 1)
    results["narrow_table"] = _narrow_upserts(dsn, 50_000)
    return results


def _narrow_upserts(dsn: str, n: int) -> dict[str, Any]:
    """The calibration: ``n`` rows of (id, login, name, updated_at) into a table with only a
    primary key, by each method calibrated (fresh ids each time): COPY into a temp table then
    upsert (text, as ``store.write`` does, and binary), one upsert from ``unnest`` arrays, psycopg's
    ``executemany`` (which pipelines since psycopg 3.1: no round trip per row), and one ``execute`` per
    row (a round trip per row, as a row-at-a-time writer makes)."""
    now = datetime.now(UTC)
    rows = [(i, f"user{i}", f"Name {i}", now) for i in range(n)]
    upsert = "ON CONFLICT (id) DO UPDATE SET login = EXCLUDED.login WHERE t.updated_at <= EXCLUDED.updated_at"
    results: dict[str, Any] = {"rows": n}
    with psycopg.connect(dsn) as conn:
        conn.execute("CREATE TABLE t (id bigint PRIMARY KEY, login text, name text, updated_at timestamptz)")
        conn.commit()

        def timed(method: str, offset: int, load: Callable[[list[tuple[Any, ...]]], None]) -> None:
            fresh = [(i + offset, *row[1:]) for i, row in enumerate(rows)]
            started = time.monotonic()
            with conn.transaction():
                load(fresh)
            results[f"{method}_rows_per_s"] = round(n / (time.monotonic() - started))

        def copy(fresh: list[tuple[Any, ...]], binary: bool) -> None:
            conn.execute("CREATE TEMP TABLE s (LIKE t) ON COMMIT DROP")
            with conn.cursor() as cur, cur.copy(f"COPY s FROM STDIN{' (FORMAT BINARY)' if binary else ''}") as out:
                if binary:
                    out.set_types(["int8", "text", "text", "timestamptz"])
                for row in fresh:
                    out.write_row(row)
            conn.execute(f"INSERT INTO t AS t SELECT * FROM s {upsert}")

        def execute_per_row(fresh: list[tuple[Any, ...]]) -> None:
            with conn.cursor() as cur:
                for row in fresh:
                    cur.execute(f"INSERT INTO t AS t VALUES (%s, %s, %s, %s) {upsert}", row)

        timed("copy_upsert", 0, lambda fresh: copy(fresh, binary=False))
        timed("copy_binary_upsert", n, lambda fresh: copy(fresh, binary=True))
        def unnest(fresh: list[tuple[Any, ...]]) -> None:
            conn.execute(f"INSERT INTO t AS t SELECT * FROM unnest(%s::bigint[], %s::text[], %s::text[],"
                         f" %s::timestamptz[]) {upsert}", [list(column) for column in zip(*fresh, strict=True)])

        def executemany(fresh: list[tuple[Any, ...]]) -> None:
            with conn.cursor() as cur:
                cur.executemany(f"INSERT INTO t AS t VALUES (%s, %s, %s, %s) {upsert}", fresh)

        timed("unnest_upsert", 2 * n, unnest)
        timed("executemany", 3 * n, executemany)
        timed("execute_per_row", 4 * n, execute_per_row)
    best = max(results["copy_upsert_rows_per_s"], results["copy_binary_upsert_rows_per_s"])
    results["copy_vs_executemany"] = round(results["copy_upsert_rows_per_s"] / results["executemany_rows_per_s"], 1)
    results["best_copy_vs_executemany"] = round(best / results["executemany_rows_per_s"], 1)
    results["best_copy_vs_execute_per_row"] = round(best / results["execute_per_row_rows_per_s"], 1)
    return results


def _executemany(db: Database, repository_id: str, full_name: str, rows: list[tuple[Any, ...]]) -> None:
    """The row-at-a-time baseline: one parameterised upsert per row, authors resolved in Python."""
    authors = {r["github_id"]: r["id"] for r in db.connection().execute("SELECT github_id, id FROM contributors")}
    # the staging-only columns (resolved to ids, or folded into reviewer_data) are not pull_requests columns
    columns = [c for c in PULL_REQUEST_COLUMNS
               if c not in ("author_github_id", "merged_by_github_id", "requested_reviewers")]
    author_at = PULL_REQUEST_COLUMNS.index("author_github_id")
    keep = [i for i, c in enumerate(PULL_REQUEST_COLUMNS) if c in columns]
    names = ", ".join([*columns, "author_id", "repository_id", "repository_full_name"])
    marks = ", ".join(["%s"] * (len(columns) + 3))
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns if c != "github_id")
    statement = (f"INSERT INTO pull_requests AS p ({names}) VALUES ({marks}) ON CONFLICT (github_id) DO UPDATE SET"
                 f" {updates} WHERE p.updated_at <= EXCLUDED.updated_at")
    with db.transaction() as conn, conn.cursor() as cur:
        cur.executemany(statement, [(*(row[i] for i in keep), authors[row[author_at]], repository_id, full_name)
                                    for row in rows])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m devtools.bench", description=__doc__)
    parser.add_argument("--prs", type=int, default=5000)
    parser.add_argument("--upsert-rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--only", choices=["sync", "seed", "upserts"])
    args = parser.parse_args(argv)
    results: dict[str, Any] = {}
    if args.only and RESULTS.exists():  # one section re-measured: keep the others' last figures
        results = json.loads(RESULTS.read_text())
    results["measured_at"] = datetime.now(UTC).isoformat(timespec="seconds")  # the last run, of any section

    def measured(figures: dict[str, Any]) -> dict[str, Any]:  # each section says when it was measured
        return {**figures, "measured_at": datetime.now(UTC).isoformat(timespec="seconds")}

    if args.only in (None, "upserts"):
        console.print("upserts …")
        results["upserts"] = measured(bench_upserts(args.upsert_rows, args.seed))
    if args.only in (None, "sync"):
        console.print(f"enhanced sync of {args.prs} PRs at {GRAPHQL_LATENCY_S:g} s per GraphQL page …")
        results["sync"] = measured(bench_sync(args.prs, args.seed))
    if args.only in (None, "seed"):
        console.print("seed-like strategy …")
        results["seed_like"] = measured(bench_seed_like(args.prs, args.seed))
    if "sync" in results and "seed_like" in results:
        seed = results["seed_like"]["extrapolated_to_all"]
        results["ratios"] = {"seed_like_wall_vs_ours": round(seed["wall_s"] / results["sync"]["run_s"], 1),
                             "seed_like_requests_vs_ours": round(seed["requests"] / results["sync"]["requests"], 1)}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, default=str) + "\n")
    table = Table("measure", "value", title="capture benchmark")
    for section, values in results.items():
        if isinstance(values, dict):
            for key, value in values.items():
                table.add_row(f"{section}.{key}", json.dumps(value, default=str))
    console.print(table)
    console.print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()

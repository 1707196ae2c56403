"""``make bench`` (workspaces): figures in ``bench/results/workspaces.json``.

The issue's requirement: aggregating a workspace of 20 repositories holding 50,000 pull requests takes
2 s or less on this machine.

1. **Dataset**, generated in the embedded Postgres by set-based SQL (``generate_series`` and
   ``INSERT ... SELECT``, seeded with ``setseed`` so every run loads the same rows): 20 repositories,
   3,000 contributors (some bots; 150 regulars do most of the work, the others come and go, each
   active for about four months), 50,000 PRs over the three years before ``AS_OF`` (more of them
   recent; about 60% merged, 25% closed, 15% open, some drafts), about 1.5 reviews per PR (a few
   PENDING), about 2 comments per PR, 8,000 issues with their comments, and WatchEvent rows (and
   other events, and other repositories' stars) in ``github_events_cache``. PR and issue numbers share
   one sequence per repository, as on GitHub. Then ``VACUUM (ANALYZE)``, as autovacuum would have
   left a live database. Its time is printed, not measured against the target.
2. **Full aggregation**: ``contribsync.workspace_metrics.aggregate`` of the workspace holding the 20
   repositories at ``AS_OF`` (per-repository partials, combine, history, totals): one warm-up run, then
   ``--runs`` runs; min / p50 / max. The target applies to p50. Beside it, the time of each SQL file
   the engine ran (its phases), per run, from a ``Database`` that times its queries.
3. **Incremental path**: ``change_repository`` removing, then adding back, the busiest repository.
   Partials belong to a repository, not to a workspace, so the removed repository's stay; they are
   deleted before it is added back (untimed), as for a repository no workspace held at that time, so
   "added" measures computing one repository's partials and the recombination.

Timings live here, never in the tests.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import statistics
import time
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from rich.console import Console
from rich.table import Table

from contribsync.db import LAYER_SQL, Database, SqlFolder, migrate
from contribsync.workspace_metrics import aggregate, change_repository
from contribsync_local import postgres

if TYPE_CHECKING:
    from uuid import UUID

    from contribsync.db.connection import Params

RESULTS = Path(__file__).resolve().parent.parent / "bench" / "results" / "workspaces.json"
DATABASE = "contribsync_bench_workspaces"
AS_OF = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
TARGET_S = 2.0
SIZES = {"repositories": 20, "contributors": 3000, "pull_requests": 50_000, "issues": 8000,
         "watch_events": 4000}
console = Console(width=120)

# Every statement runs in one transaction on one connection, after setseed: random() then yields the
# same rows on every run. Skews are powers of random(): power(random(), p) with p > 1 crowds values
# toward 0, so low contributor / repository numbers are the busy ones and recent days the busy days.
_GENERATE = [
    # Who did something at time `at`: with probability core_share one of 150 regulars (the lower numbers
    # busier), else one of the others, whose numbers follow time: each of them is active for about four
    # months (a window of 300 numbers over three years), as occasional contributors come and go.
    """
    CREATE FUNCTION pg_temp.person(at timestamptz, as_of timestamptz, people int, core_share float8)
        RETURNS int LANGUAGE sql VOLATILE AS $$
        SELECT CASE WHEN random() < core_share THEN 1 + floor(150 * power(random(), 1.5))::int
                    ELSE 151 + floor((people - 450) * greatest(0, 1 - extract(epoch FROM as_of - at)
                                                                        / (1095 * 86400.0)))::int
                             + floor(300 * random())::int END
    $$
    """,
    """
    INSERT INTO repositories (github_id, owner, name, full_name, description, language, topics,
                              default_branch, stargazers_count, watchers_count, forks_count,
                              open_issues_count, is_active, github_created_at, last_synced_at)
    SELECT 700000 + n, owner, name, owner || '/' || name, 'Benchmark repository ' || n,
           (ARRAY['TypeScript', 'Python', 'Go', 'Rust', 'Java', NULL])[1 + n %% 6], ARRAY['bench'], 'main',
           stars, stars / 12, stars / 7, 0, n <> %(repos)s,  -- one inactive: metrics count it anyway
           %(as_of)s - interval '6 years', %(as_of)s
      FROM (SELECT n, (ARRAY['acme', 'globex', 'initech', 'umbrella', 'hooli'])[1 + n %% 5] AS owner,
                   'project-' || n AS name, 20 + floor(60000 * power(random(), 3))::int AS stars
              FROM generate_series(1, %(repos)s) n) r
    """,
    """
    INSERT INTO contributors (github_id, username, display_name, avatar_url, profile_url, is_bot,
                              github_created_at)
    SELECT 800000 + n, username, initcap(replace(username, '_', ' ')),
           'https://avatars.githubusercontent.com/u/' || (800000 + n), 'https://github.com/' || username,
           username LIKE '%%[bot]', %(as_of)s - interval '1 day' * floor(4000 * random())
      FROM (SELECT n, CASE WHEN n = 3 THEN 'dependabot[bot]' WHEN n = 12 THEN 'renovate[bot]'
                           WHEN n %% 37 = 7 THEN 'automation-' || n || '[bot]' ELSE 'dev_' || n END AS username
              FROM generate_series(1, %(contributors)s) n) c
    """,
    """
    CREATE TEMP TABLE bench_people ON COMMIT DROP AS
    SELECT (github_id - 800000)::int AS n, id FROM contributors WHERE github_id > 800000
    """,
    "ALTER TABLE bench_people ADD PRIMARY KEY (n)",
    """
    CREATE TEMP TABLE bench_repos ON COMMIT DROP AS
    SELECT (github_id - 700000)::int AS n, id, full_name FROM repositories WHERE github_id > 700000
    """,
    "ALTER TABLE bench_repos ADD PRIMARY KEY (n)",
    # PRs and issues share each repository's numbers, in creation order, as on GitHub.
    """
    CREATE TEMP TABLE bench_items ON COMMIT DROP AS
    SELECT i, i <= %(prs)s AS is_pr, repo_n, created_at,
           row_number() OVER (PARTITION BY repo_n ORDER BY created_at, i)::int AS number
      FROM (SELECT i, 1 + floor(%(repos)s * power(random(), 1.6))::int AS repo_n,
                   %(as_of)s - interval '1 minute' - interval '1095 days' * power(random(), 1.25) AS created_at
              FROM generate_series(1, %(prs)s + %(issues)s) i) s
    """,
    # Lifetimes are log-uniform from 1 minute to 60 days, and end before AS_OF.
    """
    INSERT INTO pull_requests (github_id, repository_id, repository_full_name, number, title, state, draft,
                               merged, merged_by_id, author_id, base_branch, head_branch, created_at,
                               updated_at, merged_at, closed_at, additions, deletions, changed_files, commits,
                               html_url, last_synced_at)
    SELECT 10000000 + s.i, r.id, r.full_name, s.number, 'Change ' || s.number || ' to ' || r.full_name, s.state,
           CASE s.state WHEN 'open' THEN s.u2 < 0.35 WHEN 'closed' THEN s.u2 < 0.1 ELSE false END,
           s.state = 'merged', CASE WHEN s.state = 'merged' THEN m.id END, a.id, 'main', 'change-' || s.number,
           s.created_at, s.created_at + s.life, CASE WHEN s.state = 'merged' THEN s.created_at + s.life END,
           CASE WHEN s.state <> 'open' THEN s.created_at + s.life END, s.additions, s.additions / 3 + s.deletions,
           1 + s.additions / 60, s.commits, 'https://github.com/' || r.full_name || '/pull/' || s.number, %(as_of)s
      FROM (SELECT it.*, CASE WHEN u < 0.60 THEN 'merged' WHEN u < 0.85 THEN 'closed' ELSE 'open' END AS state
              FROM (SELECT it.i, it.repo_n, it.number, it.created_at, random() AS u, random() AS u2,
                           pg_temp.person(it.created_at, %(as_of)s, %(contributors)s, 0.55) AS author_n,
                           1 + floor(40 * random())::int AS merger_n,
                           least(interval '1 minute' * exp(random() * ln(86400)),
                                 (%(as_of)s - it.created_at) * 0.9) AS life,
                           floor(2000 * power(random(), 3))::int AS additions,
                           floor(300 * power(random(), 3))::int AS deletions,
                           1 + floor(12 * power(random(), 2))::int AS commits
                      FROM bench_items it WHERE it.is_pr) it) s
      JOIN bench_repos r ON r.n = s.repo_n
      JOIN bench_people a ON a.n = s.author_n
      JOIN bench_people m ON m.n = s.merger_n
    """,
    # 0 to 3 reviews per PR (1.5 on average), mostly by the regulars, during the PR's life.
    """
    INSERT INTO reviews (github_id, pull_request_id, repository_id, author_id, reviewer_id, state, body,
                         submitted_at, commit_id, created_at, updated_at)
    SELECT 30000000 + row_number() OVER (), x.pr_id, x.repository_id, c.id, c.id, x.state,
           CASE WHEN x.state = 'COMMENTED' THEN 'Looks reasonable, one question inline.' END,
           CASE WHEN x.state <> 'PENDING' THEN x.at END, md5(x.pr_id::text), x.at, x.at
      FROM (SELECT y.*, CASE WHEN u < 0.02 THEN 'PENDING' WHEN u < 0.52 THEN 'APPROVED'
                             WHEN u < 0.82 THEN 'COMMENTED' WHEN u < 0.97 THEN 'CHANGES_REQUESTED'
                             ELSE 'DISMISSED' END AS state,
                   pg_temp.person(y.at, %(as_of)s, %(contributors)s, 0.85) AS reviewer_n
              FROM (SELECT p.id AS pr_id, p.repository_id, random() AS u,
                           p.created_at + (coalesce(p.closed_at, %(as_of)s - interval '1 minute') - p.created_at)
                                          * power(random(), 2) AS at
                      FROM (SELECT p.*, floor(4 * random())::int AS k FROM pull_requests p) p
                      CROSS JOIN LATERAL generate_series(1, p.k) g) y) x
      JOIN bench_people c ON c.n = x.reviewer_n
    """,
    # 0 to 4 comments per PR (2 on average): 60% conversation, 40% review comments.
    """
    INSERT INTO comments (github_id, repository_id, pull_request_id, commenter_id, body, comment_type, path,
                          diff_hunk, created_at, updated_at)
    SELECT 40000000 + row_number() OVER (), x.repository_id, x.pr_id, c.id, 'Comment ' || x.g || ' on this change',
           CASE WHEN x.review THEN 'review_comment' ELSE 'issue_comment' END,
           CASE WHEN x.review THEN 'src/module_' || x.g || '.py' END,
           CASE WHEN x.review THEN '@@ -1,3 +1,4 @@' END, x.at, x.at
      FROM (SELECT x.*, pg_temp.person(x.at, %(as_of)s, %(contributors)s, 0.5) AS commenter_n
              FROM (SELECT p.id AS pr_id, p.repository_id, g, random() < 0.4 AS review,
                           p.created_at + (coalesce(p.closed_at, %(as_of)s - interval '1 minute') - p.created_at)
                                          * random() AS at
                      FROM (SELECT p.*, floor(5 * random())::int AS k FROM pull_requests p) p
                      CROSS JOIN LATERAL generate_series(1, p.k) g) x) x
      JOIN bench_people c ON c.n = x.commenter_n
    """,
    # 1% of issues have no author (deleted accounts); 65% are closed.
    """
    INSERT INTO issues (github_id, repository_id, number, title, body, state, state_reason, author_id,
                        closed_by_id, created_at, updated_at, closed_at, labels, comments_count, html_url,
                        last_synced_at)
    SELECT 20000000 + s.i, r.id, s.number, 'Issue ' || s.number || ' in ' || r.full_name, 'Steps to reproduce.',
           CASE WHEN s.closed THEN 'closed' ELSE 'open' END,
           CASE WHEN s.closed THEN (ARRAY['completed', 'not_planned'])[1 + floor(2 * s.u)::int] END,
           CASE WHEN s.u > 0.01 THEN a.id END, CASE WHEN s.closed THEN m.id END, s.created_at,
           s.created_at + s.life, CASE WHEN s.closed THEN s.created_at + s.life END,
           CASE WHEN s.u < 0.3 THEN '[{"name": "bug"}]'::jsonb ELSE '[]'::jsonb END, s.k,
           'https://github.com/' || r.full_name || '/issues/' || s.number, %(as_of)s
      FROM (SELECT it.i, it.repo_n, it.number, it.created_at, random() AS u, random() < 0.65 AS closed,
                   pg_temp.person(it.created_at, %(as_of)s, %(contributors)s, 0.25) AS author_n,
                   1 + floor(40 * random())::int AS closer_n, floor(5 * random())::int AS k,
                   least(interval '1 minute' * exp(random() * ln(86400 * 3)),
                         (%(as_of)s - it.created_at) * 0.9) AS life
              FROM bench_items it WHERE NOT it.is_pr) s
      JOIN bench_repos r ON r.n = s.repo_n
      JOIN bench_people a ON a.n = s.author_n
      JOIN bench_people m ON m.n = s.closer_n
    """,
    """
    INSERT INTO comments (github_id, repository_id, issue_id, commenter_id, body, comment_type, created_at,
                          updated_at)
    SELECT 50000000 + row_number() OVER (), x.repository_id, x.issue_id, c.id, 'Same here, on version ' || x.g,
           'issue_comment', x.at, x.at
      FROM (SELECT x.*, pg_temp.person(x.at, %(as_of)s, %(contributors)s, 0.5) AS commenter_n
              FROM (SELECT i.id AS issue_id, i.repository_id, g,
                           i.created_at + (coalesce(i.closed_at, %(as_of)s - interval '1 minute') - i.created_at)
                                          * random() AS at
                      FROM issues i CROSS JOIN LATERAL generate_series(1, i.comments_count) g) x) x
      JOIN bench_people c ON c.n = x.commenter_n
    """,
    # Stars of the last year (more of them recent), plus other event types of the same repositories and
    # stars of repositories outside the workspace, which the stars trend must leave out.
    """
    INSERT INTO github_events_cache (event_id, event_type, actor_login, repository_owner, repository_name,
                                     payload, created_at, processed, processed_at)
    SELECT 'bench-' || e, kind, 'dev_' || (1 + floor(%(contributors)s * random())::int), owner, name,
           CASE kind WHEN 'WatchEvent' THEN '{"action": "started"}'::jsonb ELSE '{}'::jsonb END,
           %(as_of)s - interval '1 minute' - interval '365 days' * power(random(), 1.3), true, %(as_of)s
      FROM (SELECT e, r.owner, r.name,
                   CASE WHEN e <= %(watch)s THEN 'WatchEvent'
                        ELSE (ARRAY['PushEvent', 'IssuesEvent', 'ForkEvent'])[1 + e %% 3] END AS kind
              FROM (SELECT e, 1 + floor(%(repos)s * power(random(), 1.6))::int AS repo_n
                      FROM generate_series(1, %(watch)s + %(watch)s / 4) e) s
              JOIN repositories r ON r.github_id = 700000 + s.repo_n) x
    UNION ALL
    SELECT 'bench-other-' || e, 'WatchEvent', 'dev_' || e, 'elsewhere', 'project-' || (1 + e %% 5),
           '{"action": "started"}'::jsonb, %(as_of)s - interval '1 minute' - interval '365 days' * random(), true,
           %(as_of)s
      FROM generate_series(1, %(watch)s / 8) e
    """,
    "DROP FUNCTION pg_temp.person",
]

_COUNTS = """
SELECT (SELECT count(*) FROM repositories) AS repositories,
       (SELECT count(*) FROM contributors) AS contributors,
       (SELECT count(*) FROM contributors WHERE is_bot) AS bot_contributors,
       (SELECT count(*) FROM pull_requests) AS pull_requests,
       (SELECT count(*) FROM pull_requests WHERE state = 'merged') AS prs_merged,
       (SELECT count(*) FROM pull_requests WHERE state = 'closed') AS prs_closed,
       (SELECT count(*) FROM pull_requests WHERE state = 'open') AS prs_open,
       (SELECT count(*) FROM pull_requests WHERE draft) AS prs_draft,
       (SELECT count(*) FROM pull_requests WHERE created_at >= %(as_of)s - interval '30 days') AS prs_last_30d,
       (SELECT count(*) FROM reviews) AS reviews,
       (SELECT count(*) FROM reviews WHERE state = 'PENDING') AS reviews_pending,
       (SELECT count(*) FROM comments WHERE pull_request_id IS NOT NULL) AS pr_comments,
       (SELECT count(*) FROM issues) AS issues,
       (SELECT count(*) FROM comments WHERE issue_id IS NOT NULL) AS issue_comments,
       (SELECT count(*) FROM github_events_cache) AS events,
       (SELECT count(*) FROM github_events_cache e JOIN repositories r
                      ON (r.owner, r.name) = (e.repository_owner, e.repository_name)
         WHERE e.event_type = 'WatchEvent') AS watch_events,
       (SELECT count(*) FROM pull_requests p WHERE NOT EXISTS (SELECT FROM contributors c WHERE c.id = p.author_id)
                                                OR NOT EXISTS (SELECT FROM repositories r WHERE r.id = p.repository_id))
       + (SELECT count(*) FROM reviews v WHERE NOT EXISTS (SELECT FROM pull_requests p WHERE p.id = v.pull_request_id)
                                           OR NOT EXISTS (SELECT FROM contributors c WHERE c.id = v.author_id))
       + (SELECT count(*) FROM comments m
           WHERE NOT EXISTS (SELECT FROM contributors c WHERE c.id = m.commenter_id)
              OR (m.pull_request_id IS NOT NULL
                  AND NOT EXISTS (SELECT FROM pull_requests p WHERE p.id = m.pull_request_id))
              OR (m.issue_id IS NOT NULL AND NOT EXISTS (SELECT FROM issues i WHERE i.id = m.issue_id)))
       + (SELECT count(*) FROM issues i WHERE i.author_id IS NOT NULL
                                          AND NOT EXISTS (SELECT FROM contributors c WHERE c.id = i.author_id))
       AS orphans
"""


class TimedDatabase(Database):
    """A ``Database`` that adds up the time of each named SQL file it runs: the engine's phases."""

    def __init__(self, dsn: str) -> None:
        super().__init__(dsn, application_name="bench_workspaces")
        self.spent: dict[str, float] = {}

    def query(self, name: str, params: Params = None, *, folder: SqlFolder = LAYER_SQL) -> list[dict[str, Any]]:
        started = time.perf_counter()
        try:
            return super().query(name, params, folder=folder)
        finally:
            self.spent[name] = self.spent.get(name, 0.0) + time.perf_counter() - started

    def take(self) -> dict[str, float]:
        """The seconds spent per SQL file since the last call, largest first."""
        spent, self.spent = self.spent, {}
        return dict(sorted(spent.items(), key=lambda kv: -kv[1]))


def _summary(timings: list[float]) -> dict[str, Any]:
    return {"runs": len(timings), "min_s": round(min(timings), 3), "p50_s": round(statistics.median(timings), 3),
            "max_s": round(max(timings), 3), "all_s": [round(t, 3) for t in timings]}


def generate(db: Database, seed: float, sizes: dict[str, int]) -> dict[str, Any]:
    """Load the dataset into a freshly migrated database; return its row counts and load time."""
    params = {"as_of": AS_OF, "repos": sizes["repositories"], "contributors": sizes["contributors"],
              "prs": sizes["pull_requests"], "issues": sizes["issues"], "watch": sizes["watch_events"]}
    started = time.perf_counter()
    with db.transaction() as conn:
        conn.execute("SELECT setseed(%s)", (seed,))
        # Every reference is made by an inner join on rows already inserted, so the foreign-key triggers
        # (about half of the load time) are skipped; the orphans count below checks what they would have.
        superuser = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()
        if superuser and superuser["rolsuper"]:
            conn.execute("SET LOCAL session_replication_role = replica")
        for statement in _GENERATE:
            conn.execute(statement, params)
    loaded = time.perf_counter() - started
    db.connection().execute("VACUUM (ANALYZE)")
    counts = db.connection().execute(_COUNTS, {"as_of": AS_OF}).fetchone()
    assert counts is not None  # one row, always
    counts = dict(counts)
    if orphans := counts.pop("orphans"):
        raise SystemExit(f"the generated dataset has {orphans} dangling references")
    return {"load_s": round(loaded, 2), "load_and_analyze_s": round(time.perf_counter() - started, 2),
            "counts": counts}


def create_workspace(db: Database) -> tuple[UUID, UUID]:
    """The workspace holding every repository; returns its id and the busiest repository's id."""
    conn = db.connection()
    workspace = conn.execute(
        "INSERT INTO workspaces (name, slug, description, tier, max_repositories) VALUES"
        " ('Benchmark', 'bench-workspace', 'All the benchmark repositories', 'enterprise', 50) RETURNING id"
    ).fetchone()
    assert workspace is not None  # RETURNING one row
    conn.execute("INSERT INTO workspace_repositories (workspace_id, repository_id, added_at)"
                 " SELECT %s, id, %s - interval '400 days' FROM repositories", (workspace["id"], AS_OF))
    busiest = conn.execute("SELECT repository_id FROM pull_requests GROUP BY repository_id"
                           " ORDER BY count(*) DESC LIMIT 1").fetchone()
    assert busiest is not None  # the dataset has PRs
    return workspace["id"], busiest["repository_id"]


def _brief(result: dict[str, Any]) -> dict[str, Any]:
    """The engine's result, for the results file."""
    return {k: v for k, v in result.items() if k != "repository"}


def _phases(runs: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    """Per SQL file: the median and the largest of its time per run, in seconds, largest first."""
    def per_run(name: str) -> list[float]:
        return [run.get(name, 0.0) for run in runs]

    names = sorted({name for run in runs for name in run}, key=lambda n: -statistics.median(per_run(n)))
    return {n: {"p50_s": round(statistics.median(per_run(n)), 3), "max_s": round(max(per_run(n)), 3)}
            for n in names}


def bench_aggregate(db: TimedDatabase, workspace_id: UUID, runs: int) -> dict[str, Any]:
    aggregate(db, workspace_id, as_of=AS_OF, triggered_by="bench")  # warm-up: caches, plans, pages
    db.take()
    timings: list[float] = []
    phases: list[dict[str, float]] = []
    result: dict[str, Any] = {}
    for _ in range(runs):
        started = time.perf_counter()
        result = aggregate(db, workspace_id, as_of=AS_OF, triggered_by="bench")
        timings.append(time.perf_counter() - started)
        phases.append(db.take())
    return {**_summary(timings), "phases": _phases(phases), "result_keys": sorted(result),
            "last_result": _brief(result)}


def bench_change(db: TimedDatabase, workspace_id: UUID, repository_id: UUID, runs: int) -> dict[str, Any]:
    actions: tuple[Literal["removed", "added"], ...] = ("removed", "added")
    timings: dict[str, list[float]] = {a: [] for a in actions}
    phases: dict[str, list[dict[str, float]]] = {a: [] for a in actions}
    results: dict[str, Any] = {}
    for _ in range(runs):
        for action in actions:
            if action == "added":  # as for a repository no workspace held at AS_OF (see the docstring)
                db.connection().execute("DELETE FROM repository_metric_partials WHERE repository_id = %s",
                                        (repository_id,))
            db.take()
            started = time.perf_counter()
            results[action] = change_repository(db, workspace_id, repository_id, action)
            timings[action].append(time.perf_counter() - started)
            phases[action].append(db.take())
    return {"repository_id": str(repository_id),
            **{a: {**_summary(timings[a]), "phases": _phases(phases[a]), "last_result": _brief(results[a])}
               for a in actions}}


def _engine() -> dict[str, Any]:
    """A hash of the engine's module and SQL files, to match a figure with the code it measured."""
    root = resources.files("contribsync")
    files = [root.joinpath("workspace_metrics.py"), *sorted(
        (f for f in root.joinpath("sql").iterdir() if f.name.startswith(("metrics_", "workspace_"))),
        key=lambda f: f.name)]
    digest = hashlib.sha256()
    for f in files:
        digest.update(f.read_bytes())
    return {"module": "contribsync.workspace_metrics", "files": len(files), "sha256_12": digest.hexdigest()[:12]}


def _machine(db: Database) -> dict[str, Any]:
    version = db.connection().execute("SHOW server_version").fetchone()
    return {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
            "postgres": version["server_version"] if version else None,
            "load_average_1m_at_start": round(os.getloadavg()[0], 2),
            "note": "the 2-core machine, shared with other work (see the load average); embedded Postgres"
                    " (pgserver) on a unix socket, default settings (work_mem 4MB)"}


def _table(results: dict[str, Any]) -> Table:
    table = Table("measure", "value", title="workspace aggregation benchmark")
    agg = results.get("aggregate")
    if agg:
        table.add_row("aggregate p50 (target)", f"{agg['p50_s']:.3f} s ({TARGET_S:g} s): "
                      + ("met" if results["met"] else "[red]missed[/red]"))
        table.add_row("aggregate min / max", f"{agg['min_s']:.3f} / {agg['max_s']:.3f} s over {agg['runs']} runs")
        for name, spent in agg["phases"].items():
            table.add_row(f"  {name}", f"{spent['p50_s']:.3f} s (max {spent['max_s']:.3f})")
        table.add_row("aggregate result", json.dumps(agg["last_result"], default=str))
    for action in ("removed", "added"):
        change = results.get("change_repository", {}).get(action)
        if change:
            table.add_row(f"change_repository {action} p50", f"{change['p50_s']:.3f} s (min {change['min_s']:.3f},"
                          f" max {change['max_s']:.3f}), partials computed:"
                          f" {change['last_result'].get('partialsComputed')}")
    if "engine" in results:
        table.add_row("engine (sha256 of module + SQL)", results["engine"]["sha256_12"])
        table.add_row("load average (1 min) at start", str(results["machine"]["load_average_1m_at_start"]))
    dataset = results["dataset"]
    table.add_row("dataset generation", f"{dataset['load_s']} s (+ VACUUM ANALYZE: {dataset['load_and_analyze_s']} s)")
    for key, value in dataset["counts"].items():
        table.add_row(f"rows.{key}", f"{value:,}")
    return table


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m devtools.bench_workspaces", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="measured runs after one warm-up (default 5)")
    parser.add_argument("--change-runs", type=int, default=3, help="remove/add pairs measured (default 3)")
    parser.add_argument("--prs", type=int, default=SIZES["pull_requests"])
    parser.add_argument("--seed", type=float, default=0.42, help="setseed() value, in [-1, 1]")
    parser.add_argument("--generate-only", action="store_true", help="load the dataset and stop (no results file)")
    args = parser.parse_args(argv)
    sizes = {**SIZES, "pull_requests": args.prs}
    dsn = postgres.create_database(postgres.server_url(), DATABASE, drop_first=True)
    db = TimedDatabase(dsn)
    migrate(db)
    console.print(f"generating {sizes['pull_requests']:,} PRs over {sizes['repositories']} repositories …")
    dataset = generate(db, args.seed, sizes)
    console.print(f"generated in {dataset['load_s']} s ({dataset['load_and_analyze_s']} s with VACUUM ANALYZE):"
                  f" {json.dumps(dataset['counts'])}")
    workspace_id, busiest = create_workspace(db)
    results: dict[str, Any] = {"measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
                               "as_of": AS_OF.isoformat(), "target_p50_s": TARGET_S, "met": None,
                               "dataset": {"sizes": sizes, "seed": args.seed, **dataset}}
    if args.generate_only:
        console.print(_table(results))
        db.close()
        return
    results["machine"] = _machine(db)
    results["engine"] = _engine()
    console.print(f"aggregate: 1 warm-up + {args.runs} runs …")
    results["aggregate"] = bench_aggregate(db, workspace_id, args.runs)
    results["met"] = results["aggregate"]["p50_s"] <= TARGET_S
    console.print(f"change_repository: {args.change_runs} x (removed, added) of the busiest repository …")
    results["change_repository"] = bench_change(db, workspace_id, busiest, args.change_runs)
    db.close()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, default=str) + "\n")
    console.print(_table(results))
    console.print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()

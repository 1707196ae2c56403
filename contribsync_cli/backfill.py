"""``contribsync backfill``: contributor.info's aggressive-backfill script (seed 003) in Python.

For each repository (``OWNER REPO``, ``OWNER/REPO`` ..., or ``--workspace ID`` for all of one workspace's):

0. a plan from GitHub's own counts (PRs per state, issues, discussions): pages and GraphQL points by
   our queries' costs against the budget left, an estimated time, and the embedding tokens and cost;
   ``--dry-run`` stops there, changing nothing;
1. the data sync through the queues, high-velocity repositories first (seed 004: the most pull requests
   created in the last 30 days): a discovery for a repository not stored yet, which queues its first
   sync and discussions; else ``capture/repository.sync-enhanced``; then issues and discussions. The
   range is the last ``--time-range`` days (30, seed 003's default), or with ``--full`` the whole
   history, read again even where it is synced (to recover after failures or a schema change). Each is
   waited for with a progress bar per repository (PRs and issues stored against GitHub's counts);
2. embeddings in priority order (``embeddings/process.repository``), with coverage bars; embeddings that
   were skipped (no OpenAI key) say so and fail the backfill;
3. the aggregation of every workspace that holds a repository;
4. the seed's verification table: counts in the database against GitHub's, embedding coverage per
   type, the latest activity, issues with no author, and the GitHub points used against the plan.

The exit code is 1 when a step failed or timed out or a count does not match. Every event sent, and
every follow-up the functions queued for it, is printed with its id. It drives the functions through
their queues, so it needs a running ``contribsync dev`` (or ``AWS_ENDPOINT_URL``, or AWS) and that
stack's database.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from contribsync_ops import OPS_SQL

if TYPE_CHECKING:
    import argparse

    from rich.console import Console

    from contribsync.db import Database
    from contribsync.github import GitHubClient
    from contribsync.queues import Queues

# GraphQL points of one page of each query, by GitHub's formula (tests/unit/test_backfill_plan.py checks
# them against the simulator's implementation of that formula for the variables the jobs send).
PR_PAGE_POINTS, PR_PAGE = 13, 100
ISSUE_PAGE_POINTS, ISSUE_PAGE = 2, 50
DISCUSSION_PAGE_POINTS, DISCUSSION_PAGE = 1, 50
SECONDS_PER_PR_PAGE = 2.0      # GitHub answers a nested 100-PR page in about 1-3 s; 3 state streams in parallel
SECONDS_PER_SMALL_PAGE = 0.6
TOKENS_PER_ITEM = 350          # an issue, PR or discussion's input, cut to 2,000 characters: ~350 tokens
DEFAULT_TIME_RANGE_DAYS = 30   # seed 003's default range (contributor.info's scripts: --time-range 30)
EVERYTHING_DAYS = 36_500       # capture/repository.issues' range for "every issue"
VELOCITY_DAYS = 30
CAPTURE_FUNCTIONS = ["DiscoverNewRepository", "CaptureRepositorySyncEnhanced", "CaptureRepositoryIssues",
                     "CaptureRepositoryDiscussions", "CapturePrDetails", "CaptureIssueComments",
                     "ClassifySingleRepository"]


@dataclass
class Target:
    owner: str
    name: str
    counts: dict[str, int] = field(default_factory=dict)
    has_discussions: bool = False
    repository_id: str | None = None
    velocity: int = 0  # pull requests created in the last VELOCITY_DAYS days (at most 100: GitHub's newest)
    sent: list[str] = field(default_factory=list)
    plan: dict[str, Any] = field(default_factory=dict)

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


def targets_from(args: argparse.Namespace, db: Database) -> list[Target]:
    """``OWNER REPO`` pairs and ``OWNER/REPO`` names, in any mix, plus the workspace's repositories."""
    out: list[Target] = []
    words = list(args.repos)
    while words:
        word = words.pop(0)
        if "/" in word:
            owner, name = word.split("/", 1)
        elif words:
            owner, name = word, words.pop(0)
        else:
            raise SystemExit(f"give repositories as OWNER REPO or OWNER/REPO (got a lone {word!r})")
        out.append(Target(owner, name))
    if args.workspace:
        rows = db.query("workspace_repository_names", {"workspace_id": args.workspace}, folder=OPS_SQL)
        if not rows:
            raise SystemExit(f"workspace {args.workspace} has no repositories (or does not exist)")
        out.extend(Target(r["owner"], r["name"]) for r in rows)
    if not out:
        raise SystemExit("give at least one repository, or --workspace ID")
    return out


def plan(targets: list[Target], github: GitHubClient, db: Database, *, price: float) -> dict[str, Any]:
    """Step 0: what the backfill will read and cost, per repository and in all."""
    from contribsync.errors import NotFound

    for t in targets:
        try:
            repo = github.graphql("backfill_counts", {"owner": t.owner, "name": t.name}).data.get("repository")
        except NotFound:
            repo = None
        if repo is None:
            raise SystemExit(f"{t.full_name}: GitHub has no such repository")
        t.has_discussions = bool(repo["hasDiscussionsEnabled"])
        t.counts = {"open": repo["open"]["totalCount"], "closed": repo["closed"]["totalCount"],
                    "merged": repo["merged"]["totalCount"], "issues": repo["issues"]["totalCount"],
                    "discussions": repo["discussions"]["totalCount"] if t.has_discussions else 0}
        t.counts["pull_requests"] = t.counts["open"] + t.counts["closed"] + t.counts["merged"]
        recent = (datetime.now(UTC) - timedelta(days=VELOCITY_DAYS)).strftime("%Y-%m-%dT%H:%M:%SZ")
        t.velocity = sum(1 for n in repo["newest"]["nodes"] if n["createdAt"] >= recent)
        stored = db.query_one("repository_by_full_name", {"owner": t.owner, "name": t.name})
        t.repository_id = str(stored["id"]) if stored else None
        pr_pages = {s: max(1, math.ceil(t.counts[s] / PR_PAGE)) for s in ("open", "closed", "merged")}
        issue_pages = max(1, math.ceil(t.counts["issues"] / ISSUE_PAGE))
        discussion_pages = math.ceil(t.counts["discussions"] / DISCUSSION_PAGE) if t.has_discussions else 0
        items = t.counts["pull_requests"] + t.counts["issues"] + t.counts["discussions"]
        t.plan = {
            "repository": t.full_name, "stored": stored is not None, **t.counts, "prsLast30Days": t.velocity,
            "pages": sum(pr_pages.values()) + issue_pages + discussion_pages,
            "points": sum(pr_pages.values()) * PR_PAGE_POINTS + issue_pages * ISSUE_PAGE_POINTS
            + discussion_pages * DISCUSSION_PAGE_POINTS + (0 if stored else 1),
            "seconds": round(max(pr_pages.values()) * SECONDS_PER_PR_PAGE
                             + (issue_pages + discussion_pages) * SECONDS_PER_SMALL_PAGE),
            "embeddingItems": items, "embeddingTokens": items * TOKENS_PER_ITEM,
            "embeddingCostUsd": round(items * TOKENS_PER_ITEM * price / 1_000_000, 6),
        }
    targets.sort(key=lambda t: (-t.velocity, -t.counts["pull_requests"], t.full_name))  # high-velocity first
    total = {k: sum(t.plan[k] for t in targets) for k in ("pages", "points", "seconds", "embeddingItems",
                                                          "embeddingTokens", "embeddingCostUsd")}
    budgets = budget_plan(targets, github, db)
    known = [b["left"] for b in budgets if b["left"] is not None]
    return {"repositories": [t.plan for t in targets], "total": total, "budgets": budgets,
            "graphqlPointsLeft": sum(known) if known else None,
            "fitsBudget": all(b["fits"] for b in budgets)}


def budget_plan(targets: list[Target], github: GitHubClient, db: Database) -> list[dict[str, Any]]:
    """The points each budget must give against what it has left: a GitHub App's installation pays for its
    own owner's repositories only, so one busy installation can run short while the others have plenty;
    personal tokens each serve every repository, so theirs add up. One row per group of budgets that serve
    the same repositories (``left`` None: no request on them seen yet)."""
    remaining = {b["token_id"]: b["remaining"] for b in _budgets(db) if b["resource"] == "graphql"}
    groups: dict[tuple[str, ...], list[Target]] = {}
    for t in targets:
        keys = tuple(sorted({g.budget_key for g in github.credentials.grants(t.owner, t.name)}))
        groups.setdefault(keys, []).append(t)
    out = []
    for keys, members in groups.items():
        seen = [remaining[k] for k in keys if k in remaining]
        left = sum(seen) if seen else None
        points = sum(t.plan["points"] for t in members)
        out.append({"budget": ", ".join(keys) or "no token", "repositories": [t.full_name for t in members],
                    "points": points, "left": left, "fits": left is None or points <= left})
    return out


def _budgets(db: Database) -> list[dict[str, Any]]:
    from contribsync.github.budget import PostgresBudget

    return PostgresBudget(db).budgets()


def print_plan(console: Console, p: dict[str, Any]) -> None:
    table = Table("repository", "stored", "PRs (open/closed/merged)", "PRs/30d", "issues", "discussions", "pages",
                  "points", "est. time", "embedding tokens", "embedding cost",
                  title="backfill plan (in this order: high-velocity first)")
    for r in p["repositories"]:
        table.add_row(r["repository"], "yes" if r["stored"] else "no (discovery first)",
                      f"{r['pull_requests']} ({r['open']}/{r['closed']}/{r['merged']})", str(r["prsLast30Days"]),
                      str(r["issues"]),
                      str(r["discussions"]), str(r["pages"]), str(r["points"]), f"{r['seconds']} s",
                      f"{r['embeddingTokens']:,}", f"${r['embeddingCostUsd']:.4f}")
    console.print(table)
    for b in p["budgets"]:
        left = b["left"]
        console.print(f"GraphQL points needed on {b['budget']} ({len(b['repositories'])} repositories): "
                      f"{b['points']:,} against "
                      f"{'an unknown budget (no request seen yet)' if left is None else f'{left:,} left'}"
                      f"{'' if b['fits'] else ' [red]: more than is left; the sync defers until the reset[/]'}")


class Backfill:
    def __init__(self, args: argparse.Namespace, console: Console, db: Database, queues: Queues) -> None:
        self.args, self.console, self.db, self.queues = args, console, db, queues
        self.since = datetime.now(UTC)
        self.ok = True
        # the last N days, or None for the whole history (--full)
        self.range_days: int | None = None if args.full else args.time_range
        self.printed: set[str] = set()  # event ids printed, sent or followed up

    def send(self, t: Target, name: str, data: dict[str, Any]) -> None:
        event_id = self.queues.send_event(name, data)
        t.sent.append(event_id)
        self.printed.add(event_id)
        self.console.print(f"  sent {name} {json.dumps(data)}: {event_id}")

    def print_follow_ups(self, t: Target) -> None:
        """The events the functions queued for ``t`` since the backfill began, by name, with their ids."""
        by_name: dict[str, list[str]] = {}
        for r in self._runs(t):
            if r["event_id"] not in self.printed:
                self.printed.add(r["event_id"])
                by_name.setdefault(r["event_name"], []).append(r["event_id"])
        for name, ids in sorted(by_name.items()):
            self.console.print(f"  follow-ups of {t.full_name}: {name} ({len(ids)})")
            for start in range(0, len(ids), 4):  # four ids a line: a terminal's width
                self.console.print("    " + " ".join(ids[start:start + 4]))

    def sync(self, targets: list[Target]) -> None:
        """Step 1: queue the syncs, then wait with a bar per repository."""
        ranged = {"time_range_days": self.range_days} if self.range_days else {}
        for t in targets:
            if t.repository_id is None:
                self.send(t, "discover/new-repository", {"owner": t.owner, "repo": t.name, "source": "backfill",
                                                         **({"timeRange": self.range_days} if self.range_days else {})})
                t.repository_id = self._wait_stored(t)
                if t.repository_id is None:
                    continue
            else:
                self.send(t, "capture/repository.sync-enhanced", {
                    "repositoryId": t.repository_id, "reason": "manual", "force": True,
                    **(ranged or {"full": True})})
            self.send(t, "capture/repository.issues",
                      {"repositoryId": t.repository_id, "timeRange": self.range_days or EVERYTHING_DAYS})
            if t.has_discussions and t.counts["discussions"]:
                self.send(t, "capture/repository.discussions",
                          {"repositoryId": t.repository_id, "maxItems": max(1, t.counts["discussions"])})
        self._wait("1. data sync", targets, self._sync_progress, self._sync_done)
        for t in targets:
            if t.repository_id:
                self.print_follow_ups(t)

    def _wait_stored(self, t: Target) -> str | None:
        deadline = time.monotonic() + self.args.wait_minutes * 60
        while time.monotonic() < deadline:
            row = self.db.query_one("repository_by_full_name", {"owner": t.owner, "name": t.name})
            if row is not None:
                return str(row["id"])
            if self._failed(t):
                break
            time.sleep(1)
        self.console.print(f"[red]{t.full_name}: discovery did not store it; see `contribsync runs --status failed`")
        self.ok = False
        return None

    def _runs(self, t: Target) -> list[dict[str, Any]]:
        return self.db.query("backfill_runs", {
            "since": self.since, "functions": [*CAPTURE_FUNCTIONS, "EmbeddingsProcessRepository"],
            "repository_id": t.repository_id or "", "owner": t.owner, "name": t.name}, folder=OPS_SQL)

    def _failed(self, t: Target) -> list[dict[str, Any]]:
        return [r for r in self._runs(t) if r["status"] == "failed"]

    def _settled(self, t: Target, functions: list[str]) -> bool:
        """Every event sent for ``t`` ran to an end, nothing of its follow-ups is running or waiting to
        retry, and the functions' queues are empty."""
        from contribsync import catalog

        runs = [r for r in self._runs(t) if r["function"] in functions]
        ended = {r["event_id"] for r in runs if r["status"] in ("completed", "failed", "skipped", "cancelled")}
        if not set(t.sent) <= ended:
            return False
        if any(r["status"] in ("running", "retrying", "deferred") and r["event_id"] not in ended for r in runs):
            return False
        for queue in (q for function in functions for q in catalog.by_function(function).queues):  # high ones too
            depths = self.queues.sqs.get_queue_attributes(
                QueueUrl=self.queues.url(queue),
                AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
                                "ApproximateNumberOfMessagesDelayed"])["Attributes"]
            if any(int(v) for v in depths.values()):
                return False
        return True

    def _verification(self, t: Target) -> dict[str, Any]:
        """What is stored for ``t`` (``backfill_verify.sql``): counts, latest activity, points used."""
        return self.db.query_one("backfill_verify", {"repository_id": t.repository_id, "since": self.since},
                                 folder=OPS_SQL) or {}

    def _sync_progress(self, t: Target) -> tuple[int, int]:
        v = self._verification(t)
        return (v.get("pull_requests", 0) + v.get("issues", 0),
                t.counts["pull_requests"] + t.counts["issues"])

    def _sync_done(self, t: Target) -> bool:
        return self._settled(t, CAPTURE_FUNCTIONS)

    def embeddings(self, targets: list[Target]) -> None:
        """Step 2: embeddings in priority order, one run per repository."""
        for t in targets:
            if t.repository_id:
                t.sent = []
                self.send(t, "embeddings/process.repository", {"repositoryId": t.repository_id})
        self._wait("2. embeddings", targets, self._coverage_progress,
                   lambda t: self._settled(t, ["EmbeddingsProcessRepository"]), skipped=self._embeddings_skipped)
        for t in targets:
            if t.repository_id:
                self.print_follow_ups(t)

    def _embeddings_skipped(self, t: Target) -> str | None:
        """Why the repository's embeddings run did nothing (no OpenAI key), or None."""
        for r in self._runs(t):
            if r["function"] == "EmbeddingsProcessRepository" and r["event_id"] in t.sent:
                result = r.get("result") or {}
                if isinstance(result, dict) and result.get("skipped"):
                    return str(result["skipped"])
        return None

    def _coverage(self, t: Target) -> list[dict[str, Any]]:
        from contribsync.ai.embedder import MODEL

        return self.db.query("embeddings_coverage", {"workspace_id": None, "repository_id": t.repository_id,
                                                     "model": MODEL}, folder=OPS_SQL)

    def _coverage_progress(self, t: Target) -> tuple[int, int]:
        rows = self._coverage(t)
        return sum(r["fresh"] for r in rows), sum(r["items"] for r in rows)

    def aggregate(self, targets: list[Target]) -> None:
        """Step 3: every active workspace holding one of the repositories, aggregated once."""
        workspaces: dict[str, str] = {}
        for t in targets:
            for w in self.db.query("workspaces_of_repository", {"repository_id": t.repository_id}, folder=OPS_SQL):
                workspaces[str(w["id"])] = w["name"]
        sent = [(name, self.queues.send_event("aggregate/workspace-metrics", {
            "workspaceId": ws, "forceRefresh": True, "triggeredBy": "backfill"})) for ws, name in workspaces.items()]
        for name, event_id in sent:
            self.console.print(f"  sent aggregate/workspace-metrics for {name}: {event_id}")
        deadline = time.monotonic() + self.args.wait_minutes * 60
        done: set[str] = set()
        while len(done) < len(sent) and time.monotonic() < deadline:
            done = {r["event_id"] for r in self.db.query("runs_completed_ids",
                                                         {"event_ids": [e for _, e in sent]}, folder=OPS_SQL)}
            time.sleep(0.5)
        self.console.print(f"3. workspace aggregation: {len(done)}/{len(sent)} workspaces aggregated")
        self.ok = self.ok and len(done) == len(sent)

    def _wait(self, title: str, targets: list[Target], progress: Any, done: Any,  # noqa: ANN401
              skipped: Any = None) -> None:  # noqa: ANN401
        """Bars until every target is ``done``; a bar shows what is stored, never more, and a target whose
        step was ``skipped`` (a reason) says why and fails the backfill."""
        if self.args.no_wait:
            return
        deadline = time.monotonic() + self.args.wait_minutes * 60
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   TimeRemainingColumn())
        live = [t for t in targets if t.repository_id]
        with Progress(*columns, console=self.console, transient=False) as bars:
            tasks = {t.full_name: bars.add_task(f"{title} {t.full_name}", total=max(1, progress(t)[1]))
                     for t in live}
            pending = set(tasks)
            while pending and time.monotonic() < deadline:
                for t in live:
                    have, want = progress(t)
                    bars.update(tasks[t.full_name], completed=min(have, max(want, 1)), total=max(want, 1))
                    if t.full_name in pending and done(t):
                        pending.discard(t.full_name)
                        if skipped is not None and (reason := skipped(t)):
                            bars.update(tasks[t.full_name], description=f"{title} {t.full_name}: skipped ({reason})")
                            self.ok = False
                            self.console.print(f"[red]{t.full_name}: {title} skipped: {reason}")
                time.sleep(1)
        for t in live:
            if failed := self._failed(t):
                self.ok = False
                self.console.print(f"[red]{t.full_name}: {len(failed)} failed run(s): {failed[0]['error']}")
        if pending:
            self.ok = False
            self.console.print(f"[red]{title}: not finished after {self.args.wait_minutes} min: {sorted(pending)}")

    def verify(self, targets: list[Target], p: dict[str, Any]) -> list[dict[str, Any]]:
        """Step 4: the seed's verification table; sets ``ok`` False on a mismatch."""
        rows = []
        for t in targets:
            if t.repository_id is None:
                continue
            v = self._verification(t)
            coverage = {r["item_type"]: f"{r['fresh']}/{r['items']}" for r in self._coverage(t)}
            ranged = self.range_days is not None
            checks = {"pull_requests": v["pull_requests"] == t.counts["pull_requests"] or ranged,
                      "issues": v["issues"] == t.counts["issues"] or ranged,
                      "discussions": v["discussions"] == t.counts["discussions"] or not t.has_discussions,
                      "embeddings": self.args.skip_embeddings or all(
                          r["fresh"] == r["items"] for r in self._coverage(t))}
            row = {"repository": t.full_name, **{k: v[k] for k in ("pull_requests", "issues", "discussions",
                                                                   "reviews", "comments", "contributors",
                                                                   "null_authors", "latest_activity",
                                                                   "points_used")},
                   "github": {k: t.counts[k] for k in ("pull_requests", "issues", "discussions")},
                   "coverage": coverage, "pointsPlanned": t.plan.get("points"), "checks": checks}
            self.ok = self.ok and all(checks.values())
            rows.append(row)
        return rows


def print_verification(console: Console, rows: list[dict[str, Any]]) -> None:
    table = Table("repository", "PRs db/GitHub", "issues db/GitHub", "discussions db/GitHub", "contributors",
                  "embeddings fresh/items", "latest activity", "null authors", "points used/planned",
                  title="verification")
    for r in rows:
        def cell(key: str, r: dict[str, Any] = r) -> str:
            mark = "[green]✔[/]" if r["checks"][key] else "[red]✘[/]"
            return f"{mark} {r[key]}/{r['github'][key]}"
        coverage = ", ".join(f"{k} {v}" for k, v in sorted(r["coverage"].items()))
        mark = "[green]✔[/]" if r["checks"]["embeddings"] else "[red]✘[/]"
        table.add_row(r["repository"], cell("pull_requests"), cell("issues"), cell("discussions"),
                      str(r["contributors"]), f"{mark} {coverage}", str(r["latest_activity"] or ""),
                      str(r["null_authors"]), f"{r['points_used']}/{r['pointsPlanned']}")
    console.print(table)


def run(args: argparse.Namespace, console: Console) -> None:
    from contribsync.errors import ContribsyncError
    from contribsync_cli.local_env import clients

    mine = clients(with_queues=not args.dry_run)
    db = mine.db
    try:
        targets = targets_from(args, db)
        p = plan(targets, mine.github, db, price=mine.settings.embedding_price_per_mtok)
        if args.json and args.dry_run:
            console.print_json(json.dumps(p))
            return
        print_plan(console, p)
        if args.dry_run:
            console.print("dry run: nothing sent")
            return
        if args.embeddings_only and (missing := [t.full_name for t in targets if t.repository_id is None]):
            console.print(f"[red]--embeddings-only: {', '.join(missing)} not stored; backfill without "
                          "--embeddings-only first[/red]")
            raise SystemExit(1)
        job = Backfill(args, console, db, mine.queues)
        if not args.embeddings_only:
            job.sync(targets)
        if not args.skip_embeddings:
            job.embeddings(targets)
        if not args.skip_workspace:
            job.aggregate(targets)
        rows = [] if args.no_wait else job.verify(targets, p)
        if args.json:
            console.print_json(json.dumps({"plan": p, "verification": rows, "ok": job.ok}, default=str))
        elif rows:
            print_verification(console, rows)
        console.print("[green]backfill complete[/]" if job.ok else "[red]backfill incomplete: see above[/]")
        if not job.ok:
            raise SystemExit(1)
    except ContribsyncError as exc:
        console.print(f"[red]backfill failed:[/red] {exc}")
        raise SystemExit(1) from None
    finally:
        mine.close()


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], console: Console) -> None:
    b = sub.add_parser("backfill", help="sync, embed and aggregate repositories through the queues, then verify")
    b.add_argument("repos", nargs="*", metavar="OWNER REPO | OWNER/REPO")
    b.add_argument("--workspace", help="every repository of this workspace (id)")
    b.add_argument("--dry-run", action="store_true", help="print the plan (counts, points, time, cost) and stop")
    span = b.add_mutually_exclusive_group()
    span.add_argument("--time-range", type=int, metavar="DAYS", default=DEFAULT_TIME_RANGE_DAYS,
                      help=f"only what changed in the last DAYS days (default {DEFAULT_TIME_RANGE_DAYS}, seed 003's)")
    span.add_argument("--full", action="store_true",
                      help="the whole history, read again even where it is synced (recovery after failures or a "
                           "schema change)")
    b.add_argument("--skip-embeddings", action="store_true")
    b.add_argument("--embeddings-only", action="store_true")
    b.add_argument("--skip-workspace", action="store_true", help="do not aggregate the workspaces")
    b.add_argument("--no-wait", action="store_true", help="send the events and return")
    b.add_argument("--wait-minutes", type=float, default=float(os.environ.get("CONTRIBSYNC_BACKFILL_WAIT_MINUTES",
                                                                              "15")))
    b.add_argument("--json", action="store_true")
    b.set_defaults(func=lambda a: run(a, console))

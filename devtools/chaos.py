"""``make chaos``: a simulated organisation synced, then a stream of webhook changes, with every fault at once.

The scenario (``run``), one function for every size (``FULL``: 5 repositories of 2,000 pull requests and
1,000 changes; ``tests/integration/test_chaos.py`` runs a reduced one):

1. The simulator's dataset is discovered and synced through the queues, as ``contribsync backfill`` does:
   ``discover/new-repository`` per repository (which creates it and queues its enhanced sync and its
   discussions), then ``capture/repository.issues``.
2. ``changes`` changes are made on the simulator and their webhooks streamed, signed, to the stack's
   ``/webhook``: every delivery exactly ``copies`` times, shuffled.
3. All along, at once:
   - the simulator answers ``fault_502`` of requests with a 502 and ``fault_timeout`` by holding the
     answer past the client's timeout (``GITHUB_TIMEOUT_SECONDS``), and ``fault_secondary`` with a
     secondary rate limit (403 + ``retry-after``);
   - the GraphQL and REST budgets are a fraction of what the sync needs, in short windows, so they run
     out mid-run: the functions must defer until the reset, never spend past the client's reserve;
   - workers die mid-batch (``FunctionPoller.kill``: after the handler wrote, before the delete; and a
     ``WorkerKilled`` between two records of a batch); their messages come back when their visibility
     timeout ends (shortened to seconds) and must be processed idempotently;
   - every Postgres connection of the stack is dropped (``pg_terminate_backend``) several times;
   - ``poison_share`` of the messages are poison (malformed JSON, an unknown event, invalid data, a
     delivery that was never stored) sent straight into random function queues.
4. Converged (queues empty, no run left running, retrying or deferred), the database must equal the
   simulator's ground truth, keyed by GitHub id: pull requests, reviews, comments of both types, issues
   and contributors, counts and fields, no duplicates. Only the poison is dead-lettered, each with its
   reason; no budget went under the reserve; neither the GitHub token nor the webhook secret appears
   in any log line (every record of the ``logging`` tree and everything written to stdout/stderr).
   Where deliveries were lost to faults, the product's own ``reconcile/webhook-deliveries`` may run
   once; the figures say whether it was needed.

``python -m devtools.chaos`` runs the full size, prints a summary and writes ``bench/results/chaos.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import random
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg.rows import dict_row

from contribsync import catalog
from contribsync.envelope import ERROR_ATTR
from contribsync.github.budget import DEFAULT_RESERVE
from contribsync.services import capture, issues
from contribsync_local import faults, postgres
from contribsync_local.poller import WorkerKilled
from contribsync_local.stack import LocalStack
from contribsync_sim.dataset import generate, ground_truth
from contribsync_sim.graphql_api import iso
from contribsync_sim.server import Knobs
from contribsync_sim.simulator import Simulator
from devtools.log_capture import captured_logs

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

    from contribsync.runtime import RunContext, Runtime
    from contribsync_sim.changes import Delivery, WebhookSender
    from contribsync_sim.dataset import Dataset

RESULTS = Path(__file__).resolve().parent.parent / "bench" / "results" / "chaos.json"
# Distinctive values, so that a leak is found by a plain search of the logs.
TOKEN = "ghp_chaosT0kenNeverLogged5f3a9c1e7b2d4a6f"
WEBHOOK_SECRET = "whsec-chaos-never-logged-8d1f6b3e9a2c"
TERMINAL = ("completed", "failed", "skipped", "cancelled")
REAPPEAR_AFTER_S = 3  # a killed batch's visibility timeout, shortened from 6 x the function's timeout
POISON = ("malformed-json", "unknown-event", "invalid-data", "unstored-delivery")


@dataclass(frozen=True)
class Size:
    """What the scenario varies. The defaults are the full size, with the issue's shares of faults."""

    repos: int = 5
    prs_per_repo: int = 2000
    changes: int = 1000
    copies: int = 3
    poison_share: float = 0.01
    fault_502: float = 0.025
    fault_timeout: float = 0.025
    fault_secondary: float = 0.02
    secondary_retry_after_s: int = 2
    github_timeout_s: float = 3.0       # the client's timeout; a "timeout" fault holds the answer longer
    budget_share: float = 0.35          # each window's GraphQL budget, as a share of the points the sync needs
    core_budget: int = 150              # REST requests per window
    window_s: int = 15
    kills: int = 3
    pg_drops: int = 4
    chunk: int = 50                     # changes made and sent together
    senders: int = 8                    # posts under way at once
    seed: int = 7
    converge_timeout_s: float = 1200.0


FULL = Size()


# -- faults ------------------------------------------------------------------------------------------------


def graphql_points(ds: Dataset, repos: Iterable[int] | None = None) -> int:
    """GraphQL points of a full sync of ``ds`` (of its repositories ``repos``, by id, when given): its pull
    request and issue pages at the jobs' page costs."""
    total = 0
    for rid in ds.repos if repos is None else repos:
        prs = ds.prs_by_repo[rid]
        pages = sum(max(1, math.ceil(sum(p.state == s for p in prs) / capture.PAGE_PRS)) for s in capture.STREAMS)
        total += pages * capture.PAGE_POINTS
        total += max(1, math.ceil(len(ds.issues_by_repo[rid]) / issues.PAGE_ISSUES)) * issues.PAGE_POINTS
    return total


class KillMidBatch:
    """A fault (``contribsync_local.faults``): the ``nth`` run from now dies (``WorkerKilled``) before its
    service runs, the runs before it in the batch having completed; then the fault removes itself."""

    def __init__(self, runtime: Runtime, nth: int = 2) -> None:
        self.nth = nth
        self.seen = 0
        self.lock = threading.Lock()
        self.in_place = faults.inject(runtime, self)

    def __call__(self, ctx: RunContext) -> None:
        with self.lock:
            self.seen += 1
            fire = self.seen == self.nth
            if fire:
                self.in_place.remove()
        if fire:
            raise WorkerKilled(f"{ctx.function}: worker killed between two records of its batch",
                               reappear_after_s=REAPPEAR_AFTER_S)


@dataclass
class Injected:
    poison: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, queue, body)
    kills: list[str] = field(default_factory=list)
    pg_drops: int = 0
    backends_terminated: int = 0


class Chaos:
    """The faults injected into a running stack, and the record of them."""

    def __init__(self, stack: LocalStack, size: Size) -> None:
        self.stack = stack
        self.size = size
        self.rng = random.Random(size.seed)
        self.injected = Injected()

    def drop_connections(self) -> int:
        """Terminate every connection of the stack's database but this one."""
        with psycopg.connect(str(self.stack.database_url), autocommit=True) as conn:
            row = conn.execute(
                "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() AND backend_type = 'client backend'").fetchone()
        n = int(row[0]) if row else 0
        self.injected.pg_drops += 1
        self.injected.backends_terminated += n
        return n

    def kill_after_handler(self, function: str, *, high: bool = False) -> None:
        """Kill the worker of the function's next batch from its queue (``high``: its high-priority queue)."""
        (self.stack.high_pollers if high else self.stack.pollers)[function].kill(reappear_after_s=REAPPEAR_AFTER_S)
        where = " (high-priority queue)" if high else ""
        self.injected.kills.append(f"{function}{where}: after its handler, before the delete")

    def kill_mid_batch(self, function: str) -> None:
        KillMidBatch(self.stack.handlers[function].RUNTIME)
        self.injected.kills.append(f"{function}: between two records of a batch")

    def poison(self, n: int) -> None:
        """``n`` poison messages, of every kind in turn, each into a random function's queue."""
        for _ in range(n):
            kind = POISON[len(self.injected.poison) % len(POISON)]
            marker = f"chaos-poison-{uuid.UUID(int=self.rng.getrandbits(128), version=4)}"
            body = {
                "malformed-json": '{"name": "webhook/issues", "data": {"deliveryId": "' + marker + '", ',
                "unknown-event": json.dumps({"name": "chaos/no-such-event", "data": {}, "id": marker}),
                "invalid-data": json.dumps({"name": "capture/pr.details", "id": marker,
                                            "data": {"repositoryId": marker, "prNumber": "not a number"}}),
                "unstored-delivery": json.dumps({"name": "webhook/issues", "id": marker,
                                                 "data": {"deliveryId": marker, "event": "issues"}}),
            }[kind]
            queue = self.rng.choice(catalog.EVENTS).queue
            self.stack.queues.send_raw(queue, body)
            self.injected.poison.append((kind, queue, body))


# -- waiting and reading -----------------------------------------------------------------------------------


def _rows(dsn: str, query: str, *params: object) -> list[dict[str, Any]]:
    """A query on a connection of its own (the chaos drops the stack's)."""
    with psycopg.connect(dsn, autocommit=True, row_factory=dict_row) as conn:
        return conn.execute(query, params).fetchall()


def unsettled(dsn: str) -> list[dict[str, Any]]:
    """Events whose runs on a function have not ended: still running, retrying or deferred."""
    return _rows(dsn, f"""
        SELECT function, event_id, array_agg(status ORDER BY started_at) AS statuses FROM function_runs
         GROUP BY function, event_id
        HAVING NOT bool_or(status IN ({", ".join(f"'{s}'" for s in TERMINAL)}))""")


def converged(stack: LocalStack) -> bool:
    """Every function queue empty (delayed and in-flight messages too), no poller busy, every event's runs
    ended on every function."""
    if any(p.busy for p in stack.every_poller()):
        return False
    if any(stack.backlog(e.function) for e in catalog.EVENTS):
        return False
    return not unsettled(str(stack.database_url))


def diagnose(stack: LocalStack) -> str:
    """What is left: queue depths, busy pollers and unsettled runs."""
    depths = {q: n for e in catalog.EVENTS for q in e.queues if (n := stack.depth(q))}
    busy = {p.queue_url.rsplit("/", 1)[-1]: p.busy for p in stack.every_poller() if p.busy}
    left = unsettled(str(stack.database_url))
    return f"queues {depths}, busy {busy}, {len(left)} unsettled run(s): {left[:5]}"


def wait_converged(stack: LocalStack, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if converged(stack) and converged(stack):  # twice: a message may be between queues
                return True
        except psycopg.OperationalError:
            pass
        time.sleep(1)
    return False


def dead_letters(stack: LocalStack) -> list[dict[str, Any]]:
    """Every message of every DLQ (received, so each is counted once, and left to expire)."""
    out = []
    for event in catalog.EVENTS:
        url = stack.queues.url(event.dlq)
        while messages := stack.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=600,
                                                    MessageAttributeNames=["All"]).get("Messages", []):
            for m in messages:
                error = m.get("MessageAttributes", {}).get(ERROR_ATTR)
                out.append({"dlq": event.dlq, "body": m["Body"], "error": error.get("StringValue") if error else None})
    return out


# -- the database against the ground truth -----------------------------------------------------------------


def compare(dsn: str, ds: Dataset, deleted_comments: set[int], extra_people: set[int]) -> list[str]:
    """Every difference between the database and the dataset, keyed by GitHub id (empty: equal)."""
    problems: list[str] = []

    def check(table: str, stored: dict[int, tuple[Any, ...]], expected: dict[int, tuple[Any, ...]]) -> None:
        missing, extra = expected.keys() - stored.keys(), stored.keys() - expected.keys()
        if missing:
            problems.append(f"{table}: {len(missing)} missing, e.g. {sorted(missing)[:5]}")
        if extra:
            problems.append(f"{table}: {len(extra)} not on GitHub, e.g. {sorted(extra)[:5]}")
        wrong = [k for k in expected.keys() & stored.keys() if stored[k] != expected[k]]
        if wrong:
            k = min(wrong)
            problems.append(f"{table}: {len(wrong)} differ, e.g. {k}: stored {stored[k]} != {expected[k]}")

    for table in ("pull_requests", "reviews", "comments", "issues", "contributors", "repositories"):
        row = _rows(dsn, f"SELECT count(*) AS n, count(DISTINCT github_id) AS d FROM {table}")[0]
        if row["n"] != row["d"]:
            problems.append(f"{table}: {row['n'] - row['d']} duplicate github_id(s)")
    states = {"OPEN": "open", "CLOSED": "closed", "MERGED": "merged"}
    check("pull_requests", {r["github_id"]: (r["number"], r["title"], r["body"] or "", r["state"], r["draft"],
                                             r["merged"], iso(r["updated_at"]), iso(r["merged_at"]),
                                             iso(r["closed_at"]))
                            for r in _rows(dsn, "SELECT * FROM pull_requests")},
          {p.id: (p.number, p.title, p.body, states[p.state], p.draft, p.state == "MERGED", iso(p.updated_at),
                  iso(p.merged_at), iso(p.closed_at)) for p in ds.prs.values()})
    check("reviews", {r["github_id"]: (r["pr"], r["state"], r["body"] or "", iso(r["submitted_at"]))
                      for r in _rows(dsn, "SELECT r.*, p.github_id AS pr FROM reviews r"
                                          " JOIN pull_requests p ON p.id = r.pull_request_id")},
          {r.id: (r.pr_id, r.state, r.body, iso(r.submitted_at)) for r in ds.reviews.values()})
    comments = _rows(dsn, "SELECT c.*, p.github_id AS pr, i.number AS issue_number, p.number AS pr_number"
                          " FROM comments c LEFT JOIN pull_requests p ON p.id = c.pull_request_id"
                          " LEFT JOIN issues i ON i.id = c.issue_id")
    check("comments (review_comment)", {r["github_id"]: (r["pr"], r["body"], iso(r["updated_at"]))
                                        for r in comments if r["comment_type"] == "review_comment"},
          {c.id: (c.pr_id, c.body, iso(c.updated_at)) for c in ds.review_comments.values()})
    check("comments (issue_comment)", {r["github_id"]: (r["pr_number"] or r["issue_number"], r["body"],
                                                        iso(r["updated_at"]))
                                       for r in comments if r["comment_type"] == "issue_comment"},
          {c.id: (c.issue_or_pr_number, c.body, iso(c.updated_at)) for c in ds.issue_comments.values()})
    if back := deleted_comments & {r["github_id"] for r in comments}:
        problems.append(f"comments: {len(back)} deleted on GitHub came back, e.g. {sorted(back)[:5]}")
    check("issues", {r["github_id"]: (r["number"], r["title"], r["state"], iso(r["updated_at"]))
                     for r in _rows(dsn, "SELECT * FROM issues")},
          {i.id: (i.number, i.title, i.state.lower(), iso(i.updated_at)) for i in ds.issues.values()})
    people = ({p.author_id for p in ds.prs.values()} | {p.merged_by_id for p in ds.prs.values() if p.merged_by_id}
              | {r.author_id for r in ds.reviews.values()} | {c.author_id for c in ds.review_comments.values()}
              | {c.author_id for c in ds.issue_comments.values()} | {i.author_id for i in ds.issues.values()})
    stored_people = {r["github_id"]: (r["username"],) for r in _rows(dsn, "SELECT * FROM contributors")}
    # Besides the authors of what GitHub holds now, the senders of deliveries and the authors of deleted
    # comments were seen: a contributor is never deleted.
    check("contributors", {k: v for k, v in stored_people.items() if k not in extra_people - people},
          {u: (ds.users[u].login,) for u in people})
    truth = ground_truth(ds)["repos"]
    for full_name, t in truth.items():
        found = _rows(dsn, """SELECT (SELECT count(*) FROM pull_requests p WHERE p.repository_id = r.id) AS prs,
                                     (SELECT count(*) FROM issues i WHERE i.repository_id = r.id) AS issues,
                                     (SELECT count(*) FROM reviews v WHERE v.repository_id = r.id) AS reviews
                                FROM repositories r WHERE r.github_id = %s""", t["id"])
        counts = (found[0]["prs"], found[0]["issues"], found[0]["reviews"]) if found else None
        if counts != (t["pull_requests"]["total"], t["issues"]["total"], t["reviews"]):
            problems.append(f"{full_name}: (PRs, issues, reviews) stored {counts} != ground truth "
                            f"{(t['pull_requests']['total'], t['issues']['total'], t['reviews'])}")
    return problems


# -- the scenario ------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _env(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _sync(stack: LocalStack, chaos: Chaos, ds: Dataset, dsn: str, timeout_s: float) -> float:
    """Phase 1: discovery (which queues each repository's enhanced sync), then the issues."""
    started = time.monotonic()
    chaos.kill_after_handler("CaptureRepositorySyncEnhanced", high=True)  # discovery queues first syncs high
    for repo in ds.repos.values():
        stack.queues.send_event("discover/new-repository", {"owner": repo.owner.login, "repo": repo.name,
                                                            "source": "chaos"})
    deadline = time.monotonic() + timeout_s
    stored: dict[int, str] = {}
    dropped = False
    while len(stored) < len(ds.repos):
        if time.monotonic() > deadline:
            raise TimeoutError(f"discovery stored {len(stored)} of {len(ds.repos)} repositories")
        time.sleep(0.5)
        stored = {r["github_id"]: str(r["id"]) for r in _rows(dsn, "SELECT id, github_id FROM repositories")}
        if not dropped and stored:
            chaos.drop_connections()  # while the first syncs page
            dropped = True
    for repository_id in stored.values():
        stack.queues.send_event("capture/repository.issues", {"repositoryId": repository_id, "timeRange": 36500})
    time.sleep(2)
    chaos.drop_connections()
    if not wait_converged(stack, max(1.0, deadline - time.monotonic())):
        raise TimeoutError(f"the sync did not converge: {diagnose(stack)}")
    return time.monotonic() - started


def _stream(stack: LocalStack, sim: Simulator, chaos: Chaos) -> tuple[list[Delivery], WebhookSender]:
    """Phase 2: the changes, their deliveries sent ``copies`` times each and shuffled, with the faults."""
    size = chaos.size
    assert stack.http is not None
    sender = sim.sender(f"{stack.http.url}/webhook", copies=size.copies, reorder=size.copies * size.chunk * 2,
                        seed=size.seed + 2, workers=size.senders)
    feed = sim.feed(WEBHOOK_SECRET, seed=size.seed + 1)
    chunks = max(1, math.ceil(size.changes / size.chunk))
    expected_messages = size.changes * 1.3 * size.copies  # a change makes 1.3 deliveries on average
    poison = max(4, math.ceil(size.poison_share * expected_messages))
    kills = max(0, size.kills - 1)  # one was in the sync
    drops = max(0, size.pg_drops - 2)  # two were in the sync
    plan: dict[int, list[Callable[[], object]]] = {}
    spread = random.Random(size.seed + 3)
    for i in range(kills):  # alternately: after the handler (pull requests), between records (issues)
        kill = partial(chaos.kill_mid_batch, "ApplyIssueWebhook") if i % 2 else partial(
            chaos.kill_after_handler, "ApplyPullRequestWebhook")
        plan.setdefault(spread.randrange(chunks), []).append(kill)
    for _ in range(drops):
        plan.setdefault(spread.randrange(chunks), []).append(chaos.drop_connections)
    per_chunk = [poison // chunks + (1 if i < poison % chunks else 0) for i in range(chunks)]
    deliveries: list[Delivery] = []
    for index in range(chunks):
        made = [d for _ in range(min(size.chunk, size.changes - index * size.chunk)) for d in feed.step()]
        deliveries += made
        chaos.poison(per_chunk[index])
        for inject in plan.get(index, []):
            inject()
        sender.send(made)
    sender.flush()
    return deliveries, sender


def _simulator(size: Size) -> Simulator:
    """The dataset behind a GitHub with every fault on, and budgets a fraction of what the sync needs."""
    ds = generate(size.seed, repos=size.repos, prs_per_repo=size.prs_per_repo)
    budget = {"graphql": max(60, int(graphql_points(ds) * size.budget_share)), "core": size.core_budget, "search": 30}
    return Simulator(dataset=ds, knobs=Knobs(
        fault_502=size.fault_502, fault_timeout=size.fault_timeout, fault_secondary=size.fault_secondary,
        timeout_hold_s=size.github_timeout_s * 1.5 + 0.5, secondary_retry_after_s=size.secondary_retry_after_s,
        budget=budget, window_s=size.window_s, seed=size.seed))


@dataclass
class Outcome:
    """What the scenario leaves, read before the stack stops."""

    deliveries: list[Delivery]
    sender: WebhookSender
    mismatches: list[str]
    missed: list[str]
    reconciliation: str
    letters: list[dict[str, Any]]
    killed: dict[str, int]
    timings: dict[str, float]
    points_needed: int  # GraphQL points of the full sync, before the changes


def _settle(stack: LocalStack, ds: Dataset, dsn: str, size: Size, deliveries: list[Delivery],
            sender: WebhookSender, say: Callable[[str], None]) -> tuple[list[str], list[str], str]:
    """Wait for convergence and compare with the ground truth; when deliveries were lost and the database
    differs, the product's own reconcile/webhook-deliveries runs once. Mismatches, missed deliveries,
    and which reconciliation was needed."""
    deleted = [d.payload["comment"] for d in deliveries if d.event == "issue_comment" and d.action == "deleted"]
    seen = {d.payload["sender"]["id"] for d in deliveries if d.payload.get("sender")} | {
        c["user"]["id"] for c in deleted}

    def check() -> list[str]:
        if not wait_converged(stack, size.converge_timeout_s):
            return [f"did not converge in {size.converge_timeout_s:.0f} s: {diagnose(stack)}"]
        return compare(dsn, ds, {c["id"] for c in deleted}, seen)

    mismatches = check()
    stored = {r["delivery_id"]: r["status"] for r in _rows(dsn, "SELECT delivery_id, status FROM webhook_deliveries")}
    missed = [d.id for d in deliveries if stored.get(d.id) != "processed"]
    if not (mismatches and missed):
        return mismatches, missed, "none needed"
    say(f"{len(missed)} deliveries missed; reconcile/webhook-deliveries")
    stack.queues.send_event("reconcile/webhook-deliveries", {})
    time.sleep(2)
    sender.wait(60)
    return check(), missed, f"reconcile/webhook-deliveries, for {len(missed)} missed deliveries"


def _scenario(stack: LocalStack, sim: Simulator, dsn: str, size: Size, say: Callable[[str], None]) -> tuple[
        Chaos, Outcome]:
    chaos = Chaos(stack, size)
    ds = sim.ds
    needed = graphql_points(ds)
    say(f"sync: {size.repos} repositories, {len(ds.prs):,} PRs, {len(ds.issues):,} issues; GraphQL budget "
        f"{sim.app.knobs.budget['graphql']} of {needed} points needed, per {size.window_s} s window")
    timings = {"sync_s": _sync(stack, chaos, ds, dsn, size.converge_timeout_s)}
    say(f"sync done in {timings['sync_s']:.0f} s; streaming {size.changes} changes")
    started = time.monotonic()
    deliveries, sender = _stream(stack, sim, chaos)
    sent_at = time.monotonic()
    say(f"{len(deliveries)} deliveries sent x{size.copies} in {sent_at - started:.0f} s; converging")
    mismatches, missed, reconciliation = _settle(stack, ds, dsn, size, deliveries, sender, say)
    timings.update(time_to_converge_s=time.monotonic() - started, after_last_post_s=time.monotonic() - sent_at)
    killed = Counter({f: p.killed for f, p in stack.pollers.items()})
    killed.update({f: p.killed for f, p in stack.high_pollers.items()})
    return chaos, Outcome(deliveries, sender, mismatches, missed, reconciliation, dead_letters(stack),
                          {f: n for f, n in killed.items() if n}, timings, needed)


def _problems(size: Size, sim: Simulator, chaos: Chaos, out: Outcome, lines: list[str]) -> dict[str, list[str]]:
    """Each assertion of the scenario, with what broke it (an empty list: it held)."""
    injected, counters, result = chaos.injected, sim.app.counters, out.sender.result
    poison = {body for _, _, body in injected.poison}
    lettered = Counter(m["body"] for m in out.letters)
    reserve = {r: math.ceil(n * DEFAULT_RESERVE) for r, n in sim.app.knobs.budget.items()}
    kills = sum(out.killed.values())
    return {
        "ground_truth": out.mismatches,
        "dead_letters_not_poison": [f"{m['dlq']}: {m['error']}: {m['body'][:200]}" for m in out.letters
                                    if m["body"] not in poison],
        "poison_not_dead_lettered": sorted(f"{kind} into {queue}: {body[:120]}" for kind, queue, body
                                           in injected.poison if body not in lettered),
        "dead_letters_without_reason": [m["body"][:200] for m in out.letters if not m["error"]],
        "dead_lettered_twice": [body[:200] for body, n in lettered.items() if n > 1],
        "budget_under_reserve": [f"{r}: {left} left, under the reserve of {reserve[r]}"
                                 for r, left in counters.lowest_remaining.items() if left < reserve[r]]
        + ([f"GitHub refused {counters.limited} request(s) for a spent budget"] if counters.limited else []),
        "secrets_in_logs": [f"{name} in: {line[:300]}" for line in lines
                            for name, secret in (("GitHub token", TOKEN), ("webhook secret", WEBHOOK_SECRET))
                            if secret in line],
        "kills_not_happened": [] if kills == len(injected.kills) else [
            f"{kills} workers died of {len(injected.kills)} kills: {injected.kills}"],
        "copies_not_sent": [] if result.sent + len(result.failures) == len(out.deliveries) * size.copies else [
            f"{result.sent} sent + {len(result.failures)} failed != {len(out.deliveries)} x {size.copies}"],
    }


def _figures(size: Size, sim: Simulator, dsn: str, chaos: Chaos, out: Outcome) -> dict[str, Any]:
    ds, counters, injected, result = sim.ds, sim.app.counters, chaos.injected, out.sender.result

    def by(status: str) -> dict[str, int]:
        return {r["error_type"]: r["n"] for r in _rows(
            dsn, "SELECT error_type, count(*) AS n FROM function_runs WHERE status = %s GROUP BY 1", status)}

    retries, deferrals = by("retrying"), by("deferred")
    return {
        "size": asdict(size),
        "dataset": {"repositories": len(ds.repos), "pull_requests": len(ds.prs), "reviews": len(ds.reviews),
                    "review_comments": len(ds.review_comments), "issue_comments": len(ds.issue_comments),
                    "issues": len(ds.issues), "users": len(ds.users)},
        "webhooks": {"changes": size.changes, "deliveries": len(out.deliveries), "copies": size.copies,
                     "posts": result.sent, "post_failures": len(result.failures),
                     "statuses": {str(k): v for k, v in sorted(result.statuses.items())},
                     "missed_after_convergence": len(out.missed)},
        "faults_injected": {
            "github": dict(sorted(counters.faults.items())),
            "github_budget_refusals": counters.limited,
            "poison": dict(Counter(kind for kind, _, _ in injected.poison)),
            "workers_killed": out.killed,
            "kills": injected.kills,
            "postgres_drops": injected.pg_drops,
            "postgres_connections_terminated": injected.backends_terminated,
        },
        "github": {"requests": counters.requests, "requests_by_resource": counters.requests_by_resource,
                   "points_by_resource": counters.points_by_resource, "graphql_points_needed": out.points_needed,
                   "budget": sim.app.knobs.budget, "window_s": size.window_s,
                   "lowest_remaining": counters.lowest_remaining,
                   "reserve": {r: math.ceil(n * DEFAULT_RESERVE) for r, n in sim.app.knobs.budget.items()}},
        "runs": {r["status"]: r["n"] for r in _rows(dsn, "SELECT status, count(*) AS n FROM function_runs GROUP BY 1")},
        "retries": {"runs": sum(retries.values()), "by_error": retries, "github_client": _rows(
            dsn, "SELECT coalesce(sum((metadata->>'retries')::int), 0) AS n FROM sync_logs")[0]["n"]},
        "deferrals": {"total": sum(deferrals.values()), "by_reason": deferrals},
        "dead_letters": {"total": len(out.letters),
                         "by_reason": dict(Counter((m["error"] or "").split(":")[0] for m in out.letters))},
        "reconciliation": out.reconciliation,
        **{k: round(v, 1) for k, v in out.timings.items()},
    }


def run(size: Size, *, database_url: str | None = None, aws_endpoint: str | None = None,
        say: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """The scenario at ``size``; its figures, with ``problems``: each assertion and what broke it (an empty
    list when it held)."""
    started = time.monotonic()
    sim = _simulator(size)
    dsn = database_url or postgres.create_database(postgres.server_url(), "contribsync_chaos", drop_first=True)
    env = {"GITHUB_WEBHOOK_SECRET": WEBHOOK_SECRET, "GITHUB_TIMEOUT_SECONDS": str(size.github_timeout_s)}
    with captured_logs() as lines, _env(env), LocalStack(
            database_url=dsn, port=0, prefix=f"chaos{uuid.uuid4().hex[:6]}", cron=False, retry_base_s=1,
            aws_endpoint=aws_endpoint, simulator=sim, poller_concurrency=4, github_token=TOKEN) as stack:
        chaos, outcome = _scenario(stack, sim, dsn, size, say)
        figures = _figures(size, sim, dsn, chaos, outcome)
    # after the stack stopped, so its last log lines are scanned too
    figures.update(log_lines_scanned=len(lines), wall_s=round(time.monotonic() - started, 1),
                   problems=_problems(size, sim, chaos, outcome, lines))
    return figures


# -- command line ------------------------------------------------------------------------------------------


def summary(figures: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=120)
    f, d, w, fi, g = figures, figures["dataset"], figures["webhooks"], figures["faults_injected"], figures["github"]
    table = Table("figure", "value", title="chaos")
    table.add_row("size", f"{d['repositories']} repositories, {d['pull_requests']:,} PRs, {d['issues']:,} issues, "
                          f"{d['reviews']:,} reviews, {d['review_comments'] + d['issue_comments']:,} comments")
    table.add_row("webhooks", f"{w['changes']:,} changes → {w['deliveries']:,} deliveries x{w['copies']} = "
                              f"{w['posts']:,} posts, shuffled; answers {w['statuses']}")
    table.add_row("GitHub faults", ", ".join(f"{k} {v}" for k, v in fi["github"].items())
                  + f" of {g['requests']:,} requests")
    table.add_row("budget", f"GraphQL {g['budget']['graphql']} points per {g['window_s']} s for "
                            f"{g['graphql_points_needed']:,} needed, REST {g['budget']['core']}; lowest left "
                            f"{g['lowest_remaining']}, reserve {g['reserve']}; refused {fi['github_budget_refusals']}")
    table.add_row("workers killed", ", ".join(f"{k} {v}" for k, v in fi["workers_killed"].items()))
    table.add_row("Postgres", f"{fi['postgres_drops']} drops, {fi['postgres_connections_terminated']} "
                              "connections terminated")
    table.add_row("poison", ", ".join(f"{k} {v}" for k, v in fi["poison"].items()))
    table.add_row("retries", f"{f['retries']['runs']} runs {f['retries']['by_error']}; "
                             f"{f['retries']['github_client']} GitHub requests retried by the client")
    table.add_row("deferrals", f"{f['deferrals']['total']} {f['deferrals']['by_reason']}")
    table.add_row("dead letters", f"{f['dead_letters']['total']} {f['dead_letters']['by_reason']}")
    table.add_row("reconciliation", f["reconciliation"])
    table.add_row("time", f"sync {f['sync_s']} s; webhooks to convergence {f['time_to_converge_s']} s "
                          f"({f['after_last_post_s']} s after the last post); wall {f['wall_s']} s")
    table.add_row("logs", f"{f['log_lines_scanned']:,} lines scanned for the token and the webhook secret")
    console.print(table)
    checks = Table("assertion", "result", title="assertions")
    for name, problems in f["problems"].items():
        checks.add_row(name, "[green]held[/]" if not problems else f"[red]{len(problems)}: {problems[0]}[/]")
    console.print(checks)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m devtools.chaos", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repos", type=int, default=FULL.repos)
    parser.add_argument("--prs-per-repo", type=int, default=FULL.prs_per_repo)
    parser.add_argument("--changes", type=int, default=FULL.changes)
    parser.add_argument("--seed", type=int, default=FULL.seed)
    args = parser.parse_args(argv)
    size = Size(repos=args.repos, prs_per_repo=args.prs_per_repo, changes=args.changes, seed=args.seed)
    figures = run(size, say=lambda text: print(f"[{datetime.now(UTC):%H:%M:%S}] {text}", file=sys.__stdout__,
                                               flush=True))
    figures["measured_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2, default=str) + "\n")
    summary(figures)
    print(f"written to {RESULTS}")
    if any(figures["problems"].values()):
        raise SystemExit(1)


if __name__ == "__main__":
    main()

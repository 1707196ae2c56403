"""``make fleet``: a fleet of repositories over several GitHub App installations, backfilled, then a simulated
period of changes, on a scaled clock (issue 25).

From a ``FleetConfig`` (``devtools.fleet_plan``):

1. the simulator's dataset is laid out as planned (``generate(layout=...)``), each repository given to its
   owner, each owner a GitHub App installation (every third one with GitHub's large 12,500 points an hour);
   the local stack runs the functions as that App, with its crons, on a ``ScaledClock`` of
   ``backfill_factor`` through the backfill and ``factor`` after;
2. the backfill, as ``contribsync backfill`` drives it: ``discover/new-repository`` per repository (which
   stores it and queues its first enhanced sync), then the repositories are tracked (with a priority from
   their size) and the workspaces made, and ``capture/repository.issues`` queued for the whole history.
   It is done when the database holds every pull request and issue the simulator has;
3. the simulated period: ``arrivals()``'s changes, each applied to the simulator at its simulated time
   (``ChangeFeed``). A repository with webhooks gets its deliveries (``lost_delivery_share`` of them lost);
   one without is left to the priority crons (only pull request changes: an issue or a deleted comment
   reaches the database by its webhook or by the issues job, which no cron queues for it);
4. settled, the database is compared with the simulator's ground truth (``chaos.compare``); where
   deliveries were lost, the product's ``reconcile/webhook-deliveries`` runs once.

``python -m devtools.fleet --help`` lists the parameters; the figures (``devtools.fleet_figures``) go to
``bench/results/fleet.json`` and, through ``devtools.bench_report``, ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import json
import queue
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from contribsync.clock import ScaledClock
from contribsync_local import postgres
from contribsync_local.stack import LocalStack
from contribsync_sim.dataset import RepoSpec, generate, ground_truth
from contribsync_sim.installations import Installation, Installations, spread_owners
from contribsync_sim.simulator import Simulator
from devtools import chaos, fleet_figures
from devtools.fleet_plan import Fleet, FleetConfig, arrivals, plan
from devtools.pg_activity import ActivitySampler

if TYPE_CHECKING:
    from collections.abc import Callable

    from contribsync_sim.changes import Delivery, WebhookSender

WEBHOOK_SECRET = "whsec-fleet"
FINAL_RECONCILIATIONS = 3  # at the end, while a delivery is still unprocessed
LARGE_EVERY = 3  # every third installation has GitHub's large-installation budget
LARGE_LIMIT, LIMIT = 12_500, 5000
CRON_KINDS = ("open_pr", "edit_pr", "add_review", "close_pr")  # what a priority sync brings back
POSTERS = 4  # deliveries under way at once


def priority_of(prs: int) -> str:
    """The priority a repository is tracked with at first (the hourly job re-scores it)."""
    return "high" if prs >= 5000 else "medium" if prs >= 500 else "low"  # noqa: PLR2004 - sizes


def world(fleet: Fleet, clock: ScaledClock) -> Simulator:
    """The simulator: the planned layout, each repository under its owner, one installation per owner."""
    ds = generate(fleet.config.seed, layout=[RepoSpec(r.name, r.prs, False) for r in fleet.repositories])
    owners = sorted(fleet.by_owner())
    spread_owners(ds, owners)  # makes the organisations; each repository is then given its planned owner
    users = {u.login: u for u in ds.users.values()}
    by_name = {r.name: r for r in ds.repos.values()}
    for planned in fleet.repositories:
        repo = by_name[planned.name]
        del ds.repo_by_name[repo.full_name]
        repo.owner = users[planned.owner]
        ds.repo_by_name[repo.full_name] = repo
    app = Installations.with_new_key("2525", [
        Installation(1000 + i, owner, limit=LARGE_LIMIT if i % LARGE_EVERY == LARGE_EVERY - 1 else LIMIT)
        for i, owner in enumerate(owners)])
    return Simulator(dataset=ds, installations=app, clock=clock.now)


@dataclass
class Run:
    """What the scenario records as it goes, for the figures."""

    factor: float  # from the end of the backfill
    backfill_factor: float
    backfill: dict[str, Any] = field(default_factory=dict)
    changes: list[dict[str, Any]] = field(default_factory=list)  # per change: repository, webhooks, wall time
    deliveries: list[Delivery] = field(default_factory=list)
    cron_samples: list[dict[str, Any]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    reconciliation: str = "none needed"
    cron_catch_up_s: float | None = None  # after the period, until the cron path synced every last change
    missed: list[str] = field(default_factory=list)  # deliveries never processed, after the last reconciliation
    meters: dict[str, dict[str, float]] = field(default_factory=dict)  # runs_snapshot at the period's ends


def _rows(stack: LocalStack, query: str, *params: object) -> list[dict[str, Any]]:
    return fleet_figures.rows(str(stack.database_url), query, *params)


def _stored_counts(stack: LocalStack) -> dict[int, tuple[int, int]]:
    return {r["github_id"]: (r["prs"], r["issues"]) for r in _rows(stack, """
        SELECT r.github_id, (SELECT count(*) FROM pull_requests p WHERE p.repository_id = r.id) AS prs,
               (SELECT count(*) FROM issues i WHERE i.repository_id = r.id) AS issues FROM repositories r""")}


def backfill(stack: LocalStack, sim: Simulator, fleet: Fleet, clock: ScaledClock, run: Run,
             timeout_s: float, say: Callable[[str], None]) -> None:
    """Discover, track and fill every repository; done when the database holds all the simulator has."""
    ds = sim.ds
    started, wall = clock.now(), time.monotonic()
    for repo in ds.repos.values():
        stack.queues.send_event("discover/new-repository", {"owner": repo.owner.login, "repo": repo.name,
                                                            "source": "fleet"})
    deadline = time.monotonic() + timeout_s
    stored: dict[int, str] = {}
    while len(stored) < len(ds.repos):
        if time.monotonic() > deadline:
            raise TimeoutError(f"discovery stored {len(stored)} of {len(ds.repos)} repositories")
        time.sleep(0.5)
        stored = {r["github_id"]: str(r["id"]) for r in _rows(stack, "SELECT id, github_id FROM repositories")}
    planned = {r.name: r for r in fleet.repositories}
    names = {repo.id: repo.name for repo in ds.repos.values()}
    with stack.db.connection() as conn:
        for github_id, repository_id in stored.items():
            # discovery tracks a repository it stores; one it did not is tracked here
            conn.execute("INSERT INTO tracked_repositories (repository_id, priority, organization_name,"
                         " repository_name) SELECT id, %s, owner, name FROM repositories WHERE id = %s"
                         " ON CONFLICT (organization_name, repository_name) DO UPDATE SET priority = EXCLUDED.priority,"
                         " repository_id = EXCLUDED.repository_id, tracking_enabled = true",
                         (priority_of(planned[names[github_id]].prs), repository_id))
        for slug, members in fleet.workspaces.items():
            ws = conn.execute("INSERT INTO workspaces (name, slug, description, tier, max_repositories)"
                              " VALUES (%s, %s, 'fleet', 'pro', 50) RETURNING id", (slug, slug)).fetchone()
            assert ws is not None  # RETURNING one row
            conn.execute("INSERT INTO workspace_repositories (workspace_id, repository_id)"
                         " SELECT %s, id FROM repositories WHERE full_name = ANY(%s)", (ws["id"], members))
    for repository_id in stored.values():
        stack.queues.send_event("capture/repository.issues", {"repositoryId": repository_id, "timeRange": 36500})
    truth = {t["id"]: (t["pull_requests"]["total"], t["issues"]["total"]) for t in ground_truth(ds)["repos"].values()}
    while (counts := _stored_counts(stack)) != truth:
        if time.monotonic() > deadline:
            left = [k for k in truth if counts.get(k) != truth[k]]
            raise TimeoutError(f"the backfill left {len(left)} repositories incomplete, e.g. {left[:3]}")
        time.sleep(1)
    run.backfill = {"simulated_s": (clock.now() - started).total_seconds(), "wall_s": time.monotonic() - wall,
                    "points": {f"{token}/{resource}": n for (token, resource), n in
                               sim.app.counters.points_by_budget.items() if token.startswith("installation:")}}
    say(f"backfill done: {run.backfill['simulated_s'] / 3600:.2f} simulated h in {run.backfill['wall_s']:.0f} s")


def _poster(sender: WebhookSender, work: queue.Queue[list[Delivery] | None]) -> None:
    while (deliveries := work.get()) is not None:
        sender.send(deliveries)


def _sample_cron_path(stack: LocalStack, at: datetime, run: Run, names: list[str]) -> None:
    """At a fire of the priority job (``at``, on the hour): each repository without webhooks, its priority
    and how old what the database holds of it is (``fleet_figures.as_of``; exact whenever this runs)."""
    priority = {r["full_name"]: r["priority"] for r in _rows(
        stack, "SELECT r.full_name, t.priority FROM tracked_repositories t JOIN repositories r"
               " ON r.id = t.repository_id WHERE r.full_name = ANY(%s)", names)}
    syncs = fleet_figures.completed_syncs(str(stack.database_url), names)
    for name in names:
        since = fleet_figures.as_of(syncs[name], at)
        run.cron_samples.append({"repository": name, "priority": priority.get(name), "at": at,
                                 "age_s": None if since is None else (at - since).total_seconds()})


def senders(stack: LocalStack, sim: Simulator, fleet: Fleet) -> list[WebhookSender]:
    """The App's webhook, posting from ``POSTERS`` threads, each losing ``lost_delivery_share`` of its
    attempts (logged as timed out, as GitHub logs a receiver that did not answer). Made before the backfill:
    the App has its hook from the start, so the hourly reconciliation reads its log all along."""
    assert stack.http is not None
    return [sim.sender(f"{stack.http.url}/webhook", drop=fleet.config.lost_delivery_share, seed=fleet.config.seed + i)
            for i in range(POSTERS)]


def changes(stack: LocalStack, sim: Simulator, fleet: Fleet, clock: ScaledClock, run: Run,
            hook: list[WebhookSender], say: Callable[[str], None]) -> None:
    """The simulated period: each change at its simulated time; deliveries posted in the background."""
    feed = sim.feed(WEBHOOK_SECRET, seed=fleet.config.seed + 2)
    repos = {r.name: r for r in sim.ds.repos.values()}
    work: queue.Queue[list[Delivery] | None] = queue.Queue()
    posters = [threading.Thread(target=_poster, daemon=True, args=(sender, work)) for sender in hook]
    for t in posters:
        t.start()
    start = clock.now()
    run.meters["start"] = fleet_figures.runs_snapshot(stack)
    hour = start.replace(minute=0, second=0, microsecond=0)
    next_sample = hour if hour == start else hour + timedelta(hours=1)  # the crons fire on the hour
    no_hooks = sorted(r.full_name for r in fleet.repositories if not r.webhooks)
    wall = time.monotonic()
    for at, planned in arrivals(fleet, start):
        while (now := clock.now()) < at:
            if now >= next_sample:
                _sample_cron_path(stack, next_sample, run, no_hooks)
                next_sample += timedelta(hours=1)
            time.sleep(min(0.05, clock.real_seconds((at - now).total_seconds())))
        kind = None if planned.webhooks else feed.rng.choice(CRON_KINDS)
        made = feed.step(kind, repos[planned.name])
        run.changes.append({"repository": planned.full_name, "webhooks": planned.webhooks, "at": clock.now(),
                            "wall": datetime.now(UTC), "deliveries": [d.id for d in made]})
        if planned.webhooks:
            run.deliveries += made
            work.put(made)
    for _ in posters:
        work.put(None)
    for t in posters:
        t.join()
    run.meters["end"] = fleet_figures.runs_snapshot(stack)
    run.timings["changes_wall_s"] = time.monotonic() - wall
    say(f"{len(run.changes)} changes, {len(run.deliveries)} deliveries in {run.timings['changes_wall_s']:.0f} s")


def caught_up_by_cron(stack: LocalStack, clock: ScaledClock, run: Run, timeout_s: float) -> float | None:
    """Wait until every repository without webhooks had a sync start after its last change; the simulated
    seconds that took after the period's end (None: not within ``timeout_s`` real seconds). A low-priority
    repository is synced a day after its last sync, so it should take at most a day and the hourly job's
    slack; the wait is in real time all the same, since on a fast clock a busy machine's sync can take
    simulated hours (the cron path's freshness is measured by its hourly samples, not here)."""
    last: dict[str, datetime] = {}
    for change in run.changes:
        if not change["webhooks"]:
            last[change["repository"]] = change["at"]
    started, deadline = clock.now(), time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        # a sync that started after the change: one that ends after it (last_synced_at) may have read its
        # pages before it (at factor 3,600 a sync of 0.3 s real spans 18 simulated minutes); the next sync
        # would bring the change, but the crons stop once this returns
        synced = {name: max((begun for begun, _ in syncs), default=None) for name, syncs in
                  fleet_figures.completed_syncs(str(stack.database_url), list(last)).items()}
        if all((begun := synced.get(name)) is not None and begun > at for name, at in last.items()):
            return (clock.now() - started).total_seconds()
        time.sleep(0.5)
    return None


def settle(stack: LocalStack, sim: Simulator, clock: ScaledClock, run: Run, hook: list[WebhookSender],
           timeout_s: float, say: Callable[[str], None]) -> None:
    """Priority syncs catch up the repositories without webhooks; then compare, reconciling once if any
    delivery is still unprocessed."""
    deleted = {d.payload["comment"]["id"] for d in run.deliveries
               if d.event == "issue_comment" and d.action == "deleted"}
    seen = {d.payload["sender"]["id"] for d in run.deliveries if d.payload.get("sender")}
    wall = time.monotonic()
    run.cron_catch_up_s = caught_up_by_cron(stack, clock, run, timeout_s)
    if stack.cron is not None:  # on a fast clock the hourly crons never leave the queues empty for long
        stack.cron.stop()
    dsn = str(stack.database_url)

    def check() -> list[str]:
        if not chaos.wait_converged(stack, timeout_s):
            return [f"did not converge in {timeout_s:.0f} s: {chaos.diagnose(stack)}"]
        return chaos.compare(dsn, sim.ds, deleted, seen)

    def unprocessed() -> list[str]:
        stored = {r["delivery_id"]: r["status"] for r in _rows(
            stack, "SELECT delivery_id, status FROM webhook_deliveries")}
        return [d.id for d in run.deliveries if stored.get(d.id) != "processed"]

    run.problems = check()
    first, rounds = unprocessed(), 0
    # lost since the last hourly reconciliation: more, as its cron would (a redelivery can be lost too)
    while (missed := unprocessed()) and rounds < FINAL_RECONCILIATIONS:
        rounds += 1
        say(f"{len(missed)} deliveries not processed yet: reconcile/webhook-deliveries")
        stack.queues.send_event("reconcile/webhook-deliveries", {})
        chaos.wait_converged(stack, timeout_s)  # the reconciliation ran and asked for its redeliveries
        for sender in hook:
            sender.wait(timeout_s)
        run.problems = check()
    if rounds:
        run.reconciliation = f"{rounds} reconcile/webhook-deliveries at the end, for {len(first)} deliveries"
    run.missed = unprocessed()
    run.timings["settle_wall_s"] = time.monotonic() - wall
    say(f"settled in {run.timings['settle_wall_s']:.0f} s: {run.problems or 'equal to the ground truth'}")


def run_fleet(config: FleetConfig, factor: float, *, backfill_factor: float | None = None,
              database_url: str | None = None, aws_endpoint: str | None = None, timeout_s: float = 3600,
              say: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """The scenario; its figures (``problems`` empty when the database equals the ground truth). The clock
    runs at ``backfill_factor`` (default ``factor``) through the backfill, then at ``factor``: a backfill
    measured against GitHub's budget needs a clock slow enough that the budget, not this machine's
    throughput, is what it waits on."""
    fleet = plan(config)
    clock = ScaledClock(backfill_factor or factor, start=generate(config.seed, repos=1, prs_per_repo=1).now)
    sim = world(fleet, clock)
    run = Run(factor, backfill_factor=backfill_factor or factor)
    dsn = database_url or postgres.create_database(postgres.server_url(), "contribsync_fleet", drop_first=True)
    say(f"{config.repositories} repositories ({len(sim.ds.prs):,} PRs) over {config.owners} installations, "
        f"factor {run.backfill_factor:g} for the backfill, {factor:g} after")
    with LocalStack(database_url=dsn, port=0, prefix=f"fleet{uuid.uuid4().hex[:6]}", cron=True, retry_base_s=1,
                    aws_endpoint=aws_endpoint, simulator=sim, poller_concurrency=4, clock=clock,
                    environment={"GITHUB_WEBHOOK_SECRET": WEBHOOK_SECRET}) as stack:
        sampler = ActivitySampler(dsn)
        sampler.start()
        try:
            hook = senders(stack, sim, fleet)
            backfill(stack, sim, fleet, clock, run, timeout_s, say)
            clock.set_factor(factor)
            changes(stack, sim, fleet, clock, run, hook, say)
            settle(stack, sim, clock, run, hook, timeout_s, say)
        finally:
            activity = sampler.stop()
        figures = fleet_figures.figures(stack, sim, fleet, run, activity)
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m devtools.fleet", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    defaults = FleetConfig()
    for f in fields(FleetConfig):
        parser.add_argument(f"--{f.name.replace('_', '-')}", type=type(getattr(defaults, f.name)),
                            default=getattr(defaults, f.name))
    # at 60 a 2-core machine's syncs keep up with the 1,000 repositories' cron path (about 270 a simulated
    # hour for the 215 it needs, though a burst of 925 takes 4 to 5 simulated hours to drain); at 600 it
    # fell days behind. The backfill at 3 waits on GitHub's budget rather than on this machine. At these
    # defaults a week takes about 4 real hours.
    parser.add_argument("--factor", type=float, default=60.0, help="simulated seconds per real second")
    parser.add_argument("--backfill-factor", type=float, default=3.0,
                        help="the clock's factor through the backfill")
    parser.add_argument("--timeout", type=float, default=4 * 3600, help="real seconds each phase may take")
    args = parser.parse_args(argv)
    config = FleetConfig(**{f.name: getattr(args, f.name) for f in fields(FleetConfig)})
    figures = run_fleet(config, args.factor, backfill_factor=args.backfill_factor, timeout_s=args.timeout,
                        say=lambda text: print(f"[{datetime.now(UTC):%H:%M:%S}] {text}", file=sys.__stdout__,
                                               flush=True))
    fleet_figures.RESULTS.parent.mkdir(parents=True, exist_ok=True)
    fleet_figures.RESULTS.write_text(json.dumps(figures, indent=2, default=str) + "\n")
    print("\n".join(fleet_figures.markdown(figures)))
    print(f"written to {fleet_figures.RESULTS}")
    if figures["completeness"]["problems"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()

"""sync/workspace-priorities against a real, migrated Postgres: how each rule moves a repository's
priority, what is stored, which repositories get an incremental sync and when, and the per-run cap."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from contribsync import catalog
from contribsync.payloads import Scheduled
from contribsync.queues import Queues
from contribsync.runtime import RunContext
from contribsync.services import priorities
from contribsync.services.priorities import sync_workspace_priorities
from devtools.cost_estimate import fires_per_day
from tests.fakes import clients

pytestmark = pytest.mark.integration

EVENT = catalog.resolve("sync/workspace-priorities")
NOW = datetime(2025, 6, 2, 12, 0, tzinfo=UTC)
_ids = itertools.count(1)


class SentEvents:
    """``Queues.send_events`` without SQS: validates each event as the real one does, and records it."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def send_events(self, events):
        envelopes = [Queues.validate(e) for e in events]  # raises on a payload the catalog refuses
        self.sent += [{"name": e.name, "data": e.data, "id": str(e.id)} for e in envelopes]
        return [str(e.id) for e in envelopes]


class World:
    """Rows inserted straight into the tables the job reads."""

    def __init__(self, db) -> None:
        self.db = db
        self.conn = db.connection()
        self.author = self.one("INSERT INTO contributors (github_id, username) VALUES (1, 'octocat') RETURNING id")

    def one(self, query: str, *params) -> Any:
        row = self.conn.execute(query, params).fetchone()
        return next(iter(row.values())) if row else None

    def repo(self, *, stars: int = 0, forks: int = 0, pushed: timedelta | None = None, archived: bool = False,
             disabled: bool = False, active: bool = True, synced: timedelta | None = None, tracked: bool = True,
             workspaces: int = 0, phase: int | None = None) -> str:
        """A repository whose phase (github_id modulo its priority's hours) falls on the fire ``phase`` hours
        after NOW; by default 3 hours after it, so on none of the fires from NOW to 2 hours after it (for 6
        and 24 hours; for 1, every fire is the phase)."""
        n = next(_ids)
        github_id = 24 * (1000 + n) + (priorities.fire_hour(NOW) + (3 if phase is None else phase)) % 24
        repo_id = self.one(
            """INSERT INTO repositories (github_id, full_name, owner, name, stargazers_count, forks_count,
                                         github_pushed_at, is_archived, is_disabled, is_active, last_synced_at)
               VALUES (%s, %s, 'acme', %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id""",
            github_id, f"acme/r{n}", f"r{n}", stars, forks, NOW - pushed if pushed is not None else None,
            archived, disabled, active, NOW - synced if synced is not None else None)
        self.conn.execute("INSERT INTO tracked_repositories (repository_id, organization_name, repository_name,"
                          " tracking_enabled) VALUES (%s, 'acme', %s, %s)", (repo_id, f"r{n}", tracked))
        for _ in range(workspaces):
            self.add_to(self.workspace(), repo_id)
        return str(repo_id)

    def workspace(self, *, active: bool = True) -> str:
        n = next(_ids)
        return str(self.one("INSERT INTO workspaces (name, slug, is_active) VALUES (%s, %s, %s) RETURNING id",
                            f"ws-{n}", f"ws-{n}", active))

    def add_to(self, workspace_id: str, repo_id: str) -> None:
        self.conn.execute("INSERT INTO workspace_repositories (workspace_id, repository_id) VALUES (%s, %s)",
                          (workspace_id, repo_id))

    def prs(self, repo_id: str, count: int, *, updated: timedelta, created: timedelta | None = None) -> None:
        for _ in range(count):
            n = next(_ids)
            self.conn.execute(
                """INSERT INTO pull_requests (github_id, repository_id, repository_full_name, number, title, state,
                                              author_id, base_branch, head_branch, created_at, updated_at)
                   VALUES (%s, %s, 'acme/x', %s, 't', 'open', %s, 'main', 'f', %s, %s)""",
                (n, repo_id, n, self.author, NOW - (created or updated), NOW - updated))

    def issues(self, repo_id: str, count: int, *, updated: timedelta) -> None:
        for _ in range(count):
            n = next(_ids)
            self.conn.execute(
                """INSERT INTO issues (github_id, repository_id, number, title, state, created_at, updated_at)
                   VALUES (%s, %s, %s, 't', 'open', %s, %s)""", (n, repo_id, n, NOW - updated, NOW - updated))

    def busy(self, repo_id: str) -> str:
        """10 pull requests updated yesterday: ``busy`` and ``recently-updated``, 60 points."""
        self.prs(repo_id, 10, updated=timedelta(days=1))
        return repo_id

    def tracked(self, repo_id: str) -> dict[str, Any]:
        row: dict[str, Any] = self.conn.execute(
            """SELECT priority, priority_score, is_workspace_repo, workspace_count, priority_reasons,
                      priority_changed_at, updated_at
                 FROM tracked_repositories WHERE repository_id = %s""", (repo_id,)).fetchone()
        return row

    def bulk(self, owner: str, count: int, *, first_id: int, synced: timedelta | None = None) -> None:
        """``count`` tracked repositories (medium: in no workspace) with consecutive github_ids from
        ``first_id``, all last synced ``synced`` before NOW (never when None)."""
        self.conn.execute(
            """WITH r AS (
                   INSERT INTO repositories (github_id, full_name, owner, name, last_synced_at)
                   SELECT %s + g, %s || '/r' || g, %s, 'r' || g, %s FROM generate_series(1, %s) g
                   RETURNING id, name)
               INSERT INTO tracked_repositories (repository_id, organization_name, repository_name)
               SELECT id, %s, name FROM r""",
            (first_id - 1, owner, owner, NOW - synced if synced is not None else None, count, owner))

    def synced(self, repo_id: str, at: datetime) -> None:
        self.conn.execute("UPDATE repositories SET last_synced_at = %s WHERE id = %s", (at, repo_id))

    def delivered(self, repo_id: str, ago: timedelta, *, status: str = "processed") -> None:
        """A webhook delivery for the repository, received ``ago`` before NOW (``ignored``: an event type
        nothing handles, such as ``star``)."""
        n = next(_ids)
        self.conn.execute(
            """INSERT INTO webhook_deliveries (delivery_id, event, repository_github_id, payload, status, received_at)
               SELECT %s, 'pull_request', github_id, '{}'::jsonb, %s, %s FROM repositories WHERE id = %s""",
            (f"guid-{n}", status, NOW - ago, repo_id))

    def reconciled(self, ago: timedelta) -> None:
        """reconcile/webhook-deliveries checked the App's webhook log ``ago`` before NOW."""
        self.conn.execute("INSERT INTO webhook_reconcile_hooks (hook, watermark, checked_at) VALUES ('app', %s, %s)"
                          " ON CONFLICT (hook) DO UPDATE SET checked_at = excluded.checked_at", (NOW - ago, NOW - ago))


@pytest.fixture
def world(isolated_db):
    return World(isolated_db)


def run(world: World, clock, *, scheduled_at: datetime | None = None, event_id: str = "evt-1"):
    """One run of the job, as the runtime would call it; returns its result and the events it sent."""
    data = {"scheduledAt": scheduled_at.isoformat()} if scheduled_at else {}
    queues = SentEvents()
    ctx = RunContext.outside_a_run(clients(world.db, queues, clock=clock), EVENT, data, event_id=event_id)
    result = sync_workspace_priorities(Scheduled.model_validate(data), ctx)
    return result, queues.sent


@pytest.fixture
def clock(fake_clock):
    fake_clock.t = NOW
    return fake_clock


def queued_ids(sent: list[dict[str, Any]]) -> list[str]:
    return [e["data"]["repositoryId"] for e in sent]


# --------------------------------------------------------------------------------------------------- scoring


def test_a_busy_workspace_repository_is_high_and_its_values_are_stored(world, clock):
    repo = world.busy(world.repo(workspaces=1))

    result, _ = run(world, clock)

    row = world.tracked(repo)
    assert (row["priority"], row["priority_score"]) == ("high", 160)
    assert row["priority_reasons"] == ["busy", "recently-updated"]
    assert (row["is_workspace_repo"], row["workspace_count"]) == (True, 1)
    assert row["priority_changed_at"] == NOW
    assert row["updated_at"] == NOW
    assert result["high"] == 1


def test_busy_takes_ten_pull_requests_and_issues_together(world, clock):
    # GIVEN nine pull requests this week, and the same plus one issue
    nine = world.repo(workspaces=1)
    world.prs(nine, 9, updated=timedelta(days=2))
    ten = world.repo(workspaces=1)
    world.prs(ten, 9, updated=timedelta(days=2))
    world.issues(ten, 1, updated=timedelta(days=2))

    run(world, clock)

    assert world.tracked(nine)["priority_reasons"] == ["active", "recently-updated"]
    assert (world.tracked(nine)["priority"], world.tracked(nine)["priority_score"]) == ("medium", 85)
    assert world.tracked(ten)["priority_reasons"] == ["busy", "recently-updated"]
    assert world.tracked(ten)["priority"] == "high"


def test_activity_older_than_seven_days_is_not_velocity(world, clock):
    stale = world.repo(workspaces=1)
    world.prs(stale, 20, updated=timedelta(days=8))
    fresh = world.repo(workspaces=1)
    world.prs(fresh, 20, updated=timedelta(days=6))
    future = world.repo(workspaces=1)  # created after the run's time: did not exist "as of" then
    world.prs(future, 20, updated=timedelta(hours=-2))

    run(world, clock)

    assert (world.tracked(stale)["priority"], world.tracked(stale)["priority_reasons"]) == (
        "low", ["updated-this-month"])
    assert world.tracked(fresh)["priority"] == "high"
    assert "busy" not in world.tracked(future)["priority_reasons"]


def test_recency_is_the_last_push_or_the_newest_pull_request(world, clock):
    pushed = world.repo(workspaces=1, pushed=timedelta(days=2))
    pr_updated = world.repo(workspaces=1)
    world.prs(pr_updated, 1, updated=timedelta(days=20), created=timedelta(days=40))
    long_quiet = world.repo(workspaces=1, pushed=timedelta(days=90))

    run(world, clock)

    assert (world.tracked(pushed)["priority"], world.tracked(pushed)["priority_score"]) == ("medium", 70)
    assert world.tracked(pushed)["priority_reasons"] == ["recently-updated"]
    assert (world.tracked(pr_updated)["priority"], world.tracked(pr_updated)["priority_score"]) == ("low", 35)
    assert world.tracked(pr_updated)["priority_reasons"] == ["updated-this-month"]
    assert (world.tracked(long_quiet)["priority"], world.tracked(long_quiet)["priority_score"]) == ("low", 25)
    assert world.tracked(long_quiet)["priority_reasons"] == []


@pytest.mark.parametrize(("extra", "priority", "score", "workspace_count"), [
    ({}, "medium", 85, 1),
    ({"stars": 999}, "medium", 85, 1),
    ({"stars": 1000}, "high", 150, 1),
    ({"forks": 100}, "medium", 95, 1),
    ({"workspaces": 2}, "medium", 95, 2),
    ({"forks": 100, "workspaces": 2}, "high", 155, 2),
])
def test_user_facing_signals_move_a_moderately_active_repository(world, clock, extra, priority, score,
                                                                   workspace_count):
    # GIVEN one pull request this week and a push three days ago: 35 points, medium
    repo = world.repo(**{"workspaces": 1, "pushed": timedelta(days=3), **extra})
    world.prs(repo, 1, updated=timedelta(days=3))

    run(world, clock)

    row = world.tracked(repo)
    assert (row["priority"], row["priority_score"], row["workspace_count"]) == (priority, score, workspace_count)


@pytest.mark.parametrize(("flags", "reasons"), [
    ({"archived": True}, ["archived"]),
    ({"disabled": True}, ["disabled"]),
    ({"active": False}, ["inactive"]),
    ({"archived": True, "active": False}, ["archived", "inactive"]),
])
def test_archived_disabled_and_inactive_repositories_are_always_low(world, clock, flags, reasons):
    repo = world.busy(world.repo(workspaces=2, stars=50_000, forks=5_000, pushed=timedelta(hours=1), **flags))

    run(world, clock)

    row = world.tracked(repo)
    assert (row["priority"], row["priority_score"], row["priority_reasons"]) == ("low", 25, reasons)
    assert (row["is_workspace_repo"], row["workspace_count"]) == (True, 2)


def test_tracked_repositories_in_no_active_workspace_stay_medium(world, clock):
    busy = world.busy(world.repo(stars=50_000))
    quiet = world.repo()
    only_inactive = world.busy(world.repo())
    world.add_to(world.workspace(active=False), only_inactive)
    archived = world.repo(archived=True)

    run(world, clock)

    for repo in (busy, quiet, only_inactive):
        row = world.tracked(repo)
        assert (row["priority"], row["priority_score"], row["priority_reasons"]) == ("medium", 50, ["no-workspace"])
        assert (row["is_workspace_repo"], row["workspace_count"]) == (False, 0)
    assert (world.tracked(archived)["priority"], world.tracked(archived)["priority_score"]) == ("low", 25)


def test_only_rows_whose_values_change_are_written(world, clock):
    # GIVEN a high, a medium, a low and an untracked repository
    high = world.busy(world.repo(workspaces=1))
    world.repo()
    low = world.repo(workspaces=1)
    untracked = world.busy(world.repo(workspaces=1, tracked=False))

    first, _ = run(world, clock)
    assert {k: first[k] for k in ("scored", "high", "medium", "low", "changed")} == {
        "scored": 3, "high": 1, "medium": 1, "low": 1, "changed": 3}
    assert world.tracked(untracked)["priority_score"] is None  # never scored

    # WHEN it runs again an hour later with nothing new
    clock.advance(3600)
    second, _ = run(world, clock, event_id="evt-2")

    # THEN nothing is written
    assert second["changed"] == 0
    assert world.tracked(high)["updated_at"] == NOW

    # WHEN the low repository gets busy
    world.busy(low)
    third, _ = run(world, clock, event_id="evt-3")

    # THEN only its row changes
    assert third["changed"] == 1
    assert world.tracked(low)["priority"] == "high"
    assert world.tracked(low)["priority_changed_at"] == NOW + timedelta(hours=1)
    assert world.tracked(high)["updated_at"] == NOW


# --------------------------------------------------------------------------------------------------- syncs


def test_due_repositories_get_an_incremental_sync_by_priority(world, clock):
    # GIVEN repositories last synced by something else than this job (a backfill, a manual sync): each is
    # due at the last fire before what it read outgrows its interval, since the next fire is an hour away
    high_30m = world.busy(world.repo(workspaces=1, synced=timedelta(minutes=30)))
    high_1h = world.busy(world.repo(workspaces=1, synced=timedelta(hours=1)))
    medium_4h = world.repo(synced=timedelta(hours=4, minutes=50))
    medium_5h = world.repo(synced=timedelta(hours=5))
    low_22h = world.repo(workspaces=1, synced=timedelta(hours=22, minutes=50))
    low_23h = world.repo(workspaces=1, synced=timedelta(hours=23))
    never = world.repo(workspaces=1)
    world.repo(archived=True, workspaces=1)  # never synced, but archived
    world.repo(disabled=True, synced=timedelta(days=30))
    world.repo(active=False, synced=timedelta(days=30))
    world.repo(tracked=False, synced=timedelta(days=30))

    result, sent = run(world, clock)

    assert sorted(queued_ids(sent)) == sorted([high_30m, high_1h, medium_5h, low_23h, never])
    assert medium_4h not in queued_ids(sent)
    assert low_22h not in queued_ids(sent)
    assert queued_ids(sent)[:2] == [high_1h, high_30m]  # highest score first, then the longest waiting
    assert (result["syncsQueued"], result["deferred"]) == (5, 0)
    assert {e["name"] for e in sent} == {"capture/repository.sync-enhanced"}
    by_repo = {e["data"]["repositoryId"]: e["data"] for e in sent}
    # no days and no time range: an incremental sync from the repository's watermark
    assert by_repo[high_1h] == {"repositoryId": high_1h, "reason": "priority", "priority": "high"}
    assert by_repo[medium_5h]["priority"] == "medium"
    assert by_repo[low_23h]["priority"] == "low"


def test_a_repository_is_due_as_of_the_scheduled_time_not_the_clock(world, clock):
    # GIVEN a medium repository synced at NOW (the clock stays at NOW), not at its phase in these fires
    repo = world.repo()
    world.synced(repo, NOW)

    _, four_hours = run(world, clock, scheduled_at=NOW + timedelta(hours=4), event_id="evt-1")
    _, five_hours = run(world, clock, scheduled_at=NOW + timedelta(hours=5), event_id="evt-2")
    world.conn.execute("UPDATE tracked_repositories SET sync_queued_at = NULL")  # as if the run failed to mark
    _, retried = run(world, clock, scheduled_at=NOW + timedelta(hours=5), event_id="evt-2")

    # THEN it is due at the fire of NOW + 5 h, the last before what it read is 6 h old
    assert queued_ids(four_hours) == []
    assert queued_ids(five_hours) == [repo]
    assert [e["id"] for e in retried] == [e["id"] for e in five_hours]  # a retry re-sends the same id


def test_a_queued_sync_is_not_queued_again_until_it_ends(world, clock):
    # GIVEN a high-priority repository due at NOW, whose sync then waits in the queue for hours
    repo = world.busy(world.repo(workspaces=1, synced=timedelta(hours=1)))
    _, first = run(world, clock, event_id="evt-1")
    marked = world.one("SELECT sync_queued_at FROM tracked_repositories WHERE repository_id = %s", repo)

    waiting = [run(world, clock, scheduled_at=NOW + timedelta(hours=h), event_id=f"evt-w{h}") for h in (1, 2, 3)]
    world.synced(repo, NOW + timedelta(hours=3, minutes=20))  # the sync finally ends
    _, after = run(world, clock, scheduled_at=NOW + timedelta(hours=5), event_id="evt-after")

    assert queued_ids(first) == [repo]
    assert marked == NOW
    assert [queued_ids(sent) for _, sent in waiting] == [[], [], []]
    assert [(r["syncsQueued"], r["pending"], r["deferred"]) for r, _ in waiting] == [(0, 1, 0)] * 3
    assert queued_ids(after) == [repo]  # due again an hour after the sync ended


def test_a_pending_sync_is_queued_again_once_it_failed_or_after_six_hours(world, clock):
    failed = world.busy(world.repo(workspaces=1, synced=timedelta(hours=2)))
    lost = world.busy(world.repo(workspaces=1, synced=timedelta(hours=2)))
    run(world, clock, event_id="evt-1")
    world.conn.execute(
        "INSERT INTO function_runs (event_id, event_name, function, attempt, status, started_at, data)"
        " VALUES ('e', 'capture/repository.sync-enhanced', 'CaptureRepositorySyncEnhanced', 3, 'failed', %s, %s)",
        (NOW + timedelta(minutes=5), f'{{"repositoryId": "{failed}"}}'))

    _, next_hour = run(world, clock, scheduled_at=NOW + timedelta(hours=1), event_id="evt-2")
    _, six_hours = run(world, clock, scheduled_at=NOW + priorities.SYNC_PENDING_FOR, event_id="evt-3")

    assert queued_ids(next_hour) == [failed]
    assert lost in queued_ids(six_hours)


def test_a_fire_handled_an_hour_late_is_skipped_for_the_newer_one(world, clock):
    # GIVEN a due repository and a backlog of fires: 12:00 handled at 13:00, and 13:00 itself
    repo = world.busy(world.repo(workspaces=1, synced=timedelta(hours=2)))
    clock.t = NOW + priorities.FIRE_EVERY
    stale, stale_sent = run(world, clock, scheduled_at=NOW, event_id="evt-stale")
    fresh, fresh_sent = run(world, clock, scheduled_at=NOW + priorities.FIRE_EVERY, event_id="evt-fresh")

    assert stale_sent == [] and "newer fire" in stale["skipped"] and stale["asOf"] == NOW.isoformat()
    assert queued_ids(fresh_sent) == [repo] and "skipped" not in fresh
    # a fire handled late but within the hour still runs as of its own time
    clock.t = NOW + timedelta(hours=2, minutes=59)
    late, _ = run(world, clock, scheduled_at=NOW + timedelta(hours=2), event_id="evt-late")
    assert "skipped" not in late and late["asOf"] == (NOW + timedelta(hours=2)).isoformat()


def test_fire_every_is_the_catalogs_schedule():
    assert fires_per_day(catalog.resolve("sync/workspace-priorities").schedule) * priorities.FIRE_EVERY \
        == timedelta(days=1)


@pytest.mark.parametrize(("priority", "ended", "queued", "due"), [
    # the sync the job queued has ended: due again by the fire that queued it
    ("high", timedelta(minutes=30), timedelta(minutes=60), True),
    ("high", timedelta(minutes=30), timedelta(minutes=40), False),
    ("medium", timedelta(hours=5, minutes=30), timedelta(hours=6), True),
    ("medium", timedelta(hours=5), timedelta(hours=5, minutes=20), False),
    ("low", timedelta(hours=1), timedelta(hours=24), True),
    ("low", timedelta(hours=1), timedelta(hours=23), False),
    # it has not ended (this may be it), or the job never queued one: run
    ("high", timedelta(hours=2), timedelta(minutes=5), True),
    ("medium", timedelta(minutes=1), None, True),
    ("medium", None, timedelta(minutes=5), True),
    (None, timedelta(0), timedelta(minutes=1), True),
])
def test_still_due_times_the_last_sync_from_the_fire_that_queued_it(priority, ended, queued, due):
    at = {k: None if v is None else NOW - v for k, v in (("ended", ended), ("queued", queued))}
    assert priorities.still_due(priority, at["ended"], at["queued"], NOW) is due


@pytest.mark.parametrize(("kind", "every"), [("high", 1), ("medium", 6), ("low", 24)])
def test_a_repository_is_synced_every_n_fires_however_long_its_syncs_take(world, clock, kind, every):
    # GIVEN a repository of each priority whose every sync ends 55 minutes after the fire that queued it
    repo = {"high": lambda: world.busy(world.repo(workspaces=1, phase=0)), "medium": lambda: world.repo(phase=0),
            "low": lambda: world.repo(workspaces=1, phase=0)}[kind]()
    world.synced(repo, NOW - timedelta(days=2))
    fired = []

    for hour in range(2 * every + 1):
        fire = NOW + timedelta(hours=hour)
        clock.t = fire
        _, sent = run(world, clock, scheduled_at=fire, event_id=f"evt-{hour}")
        if queued_ids(sent):
            fired.append(hour)
            world.synced(repo, fire + timedelta(minutes=55))

    assert world.tracked(repo)["priority"] == kind
    # timed from their ends, each sync would push the next one fire later (high every second fire)
    assert fired == [0, every, 2 * every]


def test_a_sync_that_finished_after_the_hour_is_due_at_the_next_hour(world, clock):
    # GIVEN a high-priority repository whose queued sync finished five minutes after the cron fired
    repo = world.busy(world.repo(workspaces=1))
    world.synced(repo, NOW - timedelta(minutes=55))

    _, sent = run(world, clock)

    assert queued_ids(sent) == [repo]


def test_syncs_per_run_are_capped_highest_score_first(world, clock):
    # GIVEN one high, MAX_SYNCS tracked-only (medium) and two low repositories, none ever synced
    high = world.busy(world.repo(workspaces=1))
    world.bulk("bulk", priorities.MAX_SYNCS, first_id=900001)
    lows = [world.repo(workspaces=1), world.repo(workspaces=1)]

    result, sent = run(world, clock)

    ids = queued_ids(sent)
    assert len(ids) == len(set(ids)) == priorities.MAX_SYNCS
    assert (result["syncsQueued"], result["deferred"]) == (priorities.MAX_SYNCS, 3)
    assert ids[0] == high
    assert not set(lows) & set(ids)


def test_a_fleet_of_1000_repositories_due_at_once_is_queued_in_one_fire(world, clock):
    # GIVEN the fleet's 1,000 repositories, backfilled together, all due at the same fire (at a cap of 200
    # the fleet's medium repositories fell further behind every hour)
    world.bulk("fleet", 1000, first_id=800001, synced=timedelta(hours=6))

    result, sent = run(world, clock)

    assert (result["syncsQueued"], result["deferred"], len(set(queued_ids(sent)))) == (1000, 0, 1000)


def test_a_priority_backfilled_together_is_spread_over_its_fires(world, clock):
    # GIVEN 600 medium repositories all synced 6 hours ago (a common backfill), whose syncs end 30 minutes
    # after the fire that queues them
    world.bulk("fleet", 600, first_id=700001, synced=timedelta(hours=6))
    per_fire = []

    for hour in range(8):
        fire = NOW + timedelta(hours=hour)
        clock.t = fire
        _, sent = run(world, clock, scheduled_at=fire, event_id=f"evt-{hour}")
        ids = queued_ids(sent)
        per_fire.append(len(ids))
        world.conn.execute("UPDATE repositories SET last_synced_at = %s WHERE id = ANY(%s::uuid[])",
                           (fire + timedelta(minutes=30), ids))

    # all due at once the first time; then each fire takes the sixth at its phase (one early sync each to
    # reach it), and from then on each is synced every 6 fires (without phases, the 600 would come due
    # together at every sixth fire: 600, 0, 0, 0, 0, 0, 600, 0)
    assert per_fire == [600, 100, 100, 100, 100, 100, 100, 100]


# ------------------------------------------------------------------------------------ webhooks' repositories

def test_a_repository_webhooks_keep_fresh_gets_a_safety_sync_a_day_instead(world, clock):
    # GIVEN medium repositories last synced 7 h ago (their priority makes them due), and the App's webhook
    # log reconciled 30 minutes ago
    world.reconciled(timedelta(minutes=30))
    covered = world.repo(synced=timedelta(hours=7))
    world.delivered(covered, timedelta(days=2))
    covered_a_day = world.repo(synced=timedelta(hours=23))
    world.delivered(covered_a_day, timedelta(days=6, hours=23))
    stale_evidence = world.repo(synced=timedelta(hours=7))
    world.delivered(stale_evidence, timedelta(days=7, hours=1))
    ignored_only = world.repo(synced=timedelta(hours=7))
    world.delivered(ignored_only, timedelta(hours=1), status="ignored")
    never_delivered = world.repo(synced=timedelta(hours=7))
    high_covered = world.busy(world.repo(workspaces=1, synced=timedelta(hours=2)))
    world.delivered(high_covered, timedelta(minutes=10))

    result, sent = run(world, clock)

    # THEN those with a handled delivery in the past 7 days wait for the day's interval; the others keep
    # their priority's
    assert sorted(queued_ids(sent)) == sorted([covered_a_day, stale_evidence, ignored_only, never_delivered])
    assert (result["syncsQueued"], result["syncsQueuedCovered"]) == (4, 1)
    assert {e["data"]["repositoryId"]: e["data"]["priority"] for e in sent}[covered_a_day] == "medium"


def test_webhooks_cover_a_repository_only_while_their_log_is_reconciled(world, clock):
    # GIVEN a repository with a recent delivery, whose webhook log was last reconciled 2 h 10 min ago (the
    # hourly reconciliation missed two runs: lost deliveries are not being redelivered)
    world.reconciled(timedelta(hours=2, minutes=10))
    repo = world.repo(synced=timedelta(hours=7))
    world.delivered(repo, timedelta(hours=3))

    _, unreconciled = run(world, clock, event_id="evt-1")
    world.reconciled(timedelta(minutes=5))
    world.conn.execute("UPDATE tracked_repositories SET sync_queued_at = NULL")
    _, reconciled = run(world, clock, event_id="evt-2")

    # THEN its priority's interval holds until a reconciliation runs again
    assert queued_ids(unreconciled) == [repo]
    assert queued_ids(reconciled) == []


def test_a_covered_repository_is_synced_at_its_phase_once_a_day(world, clock):
    # GIVEN a covered repository synced at its phase each time, 55 minutes after the fire
    world.reconciled(timedelta(0))
    repo = world.repo(phase=0)
    world.synced(repo, NOW - timedelta(days=2))
    fired = []

    for hour in range(49):
        fire = NOW + timedelta(hours=hour)
        clock.t = fire
        world.delivered(repo, timedelta(hours=-hour))  # a delivery every hour, and the log reconciled
        world.reconciled(timedelta(hours=-hour))
        _, sent = run(world, clock, scheduled_at=fire, event_id=f"evt-{hour}")
        if queued_ids(sent):
            fired.append(hour)
            world.synced(repo, fire + timedelta(minutes=55))

    assert fired == [0, 24, 48]

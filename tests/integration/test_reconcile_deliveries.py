"""reconcile/webhook-deliveries on the local stack: the simulator's webhook loses deliveries while the
stack's receiver is "down"; the hourly reconciler, run through its SQS queue, gets the recent ones
redelivered to the receiver, syncs the repositories of those GitHub can no longer redeliver, leaves
delivered ones alone, and repeats nothing on its next run. A delivery over the Function URL's 6 MB,
refused at the door, is taken from GitHub's delivery log instead, and applied once."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest

from contribsync.services.reconcile import FALLBACK_REASON, MAX_REDELIVERIES
from contribsync_local.http import FUNCTION_URL_MAX_BYTES
from contribsync_local.stack import LocalStack
from contribsync_sim.dataset import generate
from contribsync_sim.simulator import Simulator

pytestmark = pytest.mark.integration


@dataclass
class World:
    stack: LocalStack
    sim: Simulator

    def __post_init__(self) -> None:
        self.sender = self.sim.sender(f"{self.stack.http.url}/webhook", seed=5)
        self.feed = self.sim.feed(os.environ["GITHUB_WEBHOOK_SECRET"], seed=6)

    def send(self, steps: int, *, drop: float) -> list:
        """``steps`` changes, their deliveries sent with ``drop`` of them lost."""
        self.sender.drop = drop
        produced = []
        for _ in range(steps):
            batch = self.feed.step()
            produced += batch
            self.sender.send(batch)
        return produced

    def lost(self, deliveries: list) -> list:
        return [d for d in deliveries if all(a.status_code == 0 for a in self.sim.deliveries.attempts(guid=d.id))]

    def reconcile(self) -> dict:
        """One run through the reconciler's queue; then GitHub's redeliveries, and what they queued."""
        before = len(completed(self.stack, "ReconcileWebhookDeliveries"))
        self.stack.queues.send_event("reconcile/webhook-deliveries", {})
        assert self.stack.wait_idle(120)
        assert self.sender.wait(30)
        assert self.stack.wait_idle(120)
        runs = completed(self.stack, "ReconcileWebhookDeliveries")
        assert len(runs) == before + 1
        return runs[-1]["result"]

    def repository_ids(self) -> dict[int, str]:
        """GitHub id → repositories.id of the tracked repositories."""
        rows = self.stack.db.connection().execute(
            "SELECT r.id, r.github_id FROM repositories r JOIN tracked_repositories t ON t.repository_id = r.id"
        ).fetchall()
        return {r["github_id"]: str(r["id"]) for r in rows}

    def fallback_syncs(self) -> list[str]:
        """The repositoryId of every incremental sync the reconciler queued (each event once)."""
        rows = self.stack.db.connection().execute(
            "SELECT DISTINCT event_id, data->>'repositoryId' AS repository_id FROM function_runs"
            " WHERE function = 'CaptureRepositorySyncEnhanced' AND data->>'reason' = %s", (FALLBACK_REASON,)
        ).fetchall()
        return sorted(r["repository_id"] for r in rows)

    def stored(self, deliveries: list) -> set[str]:
        rows = self.stack.db.connection().execute(
            "SELECT delivery_id FROM webhook_deliveries WHERE delivery_id = ANY(%s)", ([d.id for d in deliveries],)
        ).fetchall()
        return {r["delivery_id"] for r in rows}


def completed(stack: LocalStack, function: str) -> list[dict]:
    return stack.db.connection().execute(
        "SELECT result FROM function_runs WHERE function = %s AND status = 'completed' ORDER BY ended_at",
        (function,)).fetchall()


@pytest.fixture
def world(request, isolated_database, aws_endpoint):
    """A fresh stack over a simulated organisation of ``repos`` repositories, the first ``tracked`` of
    them discovered (so tracked, each with the simulator's webhook)."""
    repos, tracked = getattr(request, "param", (2, 2))
    simulator = Simulator(dataset=generate(73, repos=repos, prs_per_repo=20))
    with LocalStack(database_url=isolated_database(), port=0, prefix=f"rec{uuid.uuid4().hex[:6]}", cron=False,
                    retry_base_s=1, aws_endpoint=aws_endpoint, simulator=simulator) as stack:
        for repo in sorted(simulator.ds.repos.values(), key=lambda r: r.id)[:tracked]:
            stack.queues.send_event("discover/new-repository", {"owner": repo.owner.login, "repo": repo.name})
        assert stack.wait_idle(180)
        yield World(stack, simulator)


def test_missed_deliveries_are_redelivered_or_synced_and_a_second_run_does_nothing_new(world):
    sim, stack = world.sim, world.stack
    # GIVEN deliveries lost while the receiver was down, too long ago for GitHub to redeliver them with
    # the reconciler's margin (inside a first run's three-day look-back)
    aged = world.send(4, drop=1.0)
    sim.deliveries.age(timedelta(days=3) - timedelta(minutes=30))
    # AND recent ones, about half of them lost
    recent = world.send(14, drop=0.5)
    missed = world.lost(recent)
    assert len(missed) >= 3 and len(missed) < len(recent)
    # AND one that GitHub logged as failed although the receiver stored it (it answered too late)
    stored_late, *to_redeliver = missed
    response = httpx.post(f"{stack.http.url}/webhook", content=stored_late.body, headers=stored_late.headers)
    assert response.status_code == 202
    world.sender.drop = 0.0  # the receiver is back

    # WHEN the reconciler runs
    result = world.reconcile()

    # THEN the recent lost deliveries were redelivered, once each, and the receiver stored them
    redelivered = [a for a in sim.deliveries.attempts() if a.redelivery]
    assert sorted(a.guid for a in redelivered) == sorted(d.id for d in to_redeliver)
    assert {(a.status, a.status_code) for a in redelivered} == {("OK", 202)}
    assert world.stored(recent) == {d.id for d in recent}
    # AND every repository with an aged loss got exactly one incremental sync, and none other did
    ids = world.repository_ids()
    aged_repos = sorted({ids[d.payload["repository"]["id"]] for d in aged})
    assert world.fallback_syncs() == aged_repos
    assert world.stored(aged) == set()
    assert result == {"hooksChecked": 2, "hooksUnreadable": 0, "deliveriesSeen": len(aged) + len(recent),
                      "failedGuids": len(aged) + len(to_redeliver), "redelivered": len(to_redeliver),
                      "recovered": 0, "pending": 0, "fallbackSyncs": len(aged_repos), "skipped": 0}

    # WHEN it runs again
    attempts = len(sim.deliveries.attempts())
    again = world.reconcile()
    # THEN it reads from its watermark (the aged attempts are not read again) and does nothing new
    assert again["deliveriesSeen"] == len(recent) + len(to_redeliver)
    assert (again["failedGuids"], again["redelivered"], again["fallbackSyncs"]) == (0, 0, 0)
    assert len(sim.deliveries.attempts()) == attempts
    assert world.fallback_syncs() == aged_repos


def test_redeliveries_are_bounded_and_then_the_repository_is_synced(world):
    # GIVEN a receiver that stays down
    missed = world.send(3, drop=1.0)
    ids = world.repository_ids()
    repos = sorted({ids[d.payload["repository"]["id"]] for d in missed})
    # WHEN the reconciler runs while it is down: each run asks for one more redelivery, which fails too
    for run in range(1, MAX_REDELIVERIES + 1):
        result = world.reconcile()
        assert (result["redelivered"], result["fallbackSyncs"]) == (len(missed), 0)
        assert all(len(world.sim.deliveries.attempts(guid=d.id)) == run + 1 for d in missed)
    # THEN past the bound it asks no more, and syncs each affected repository once instead
    attempts = len(world.sim.deliveries.attempts())
    result = world.reconcile()
    assert (result["failedGuids"], result["redelivered"], result["fallbackSyncs"]) == (len(missed), 0, len(repos))
    assert len(world.sim.deliveries.attempts()) == attempts
    assert world.fallback_syncs() == repos
    # AND those guids are settled: the next run neither asks nor syncs again
    result = world.reconcile()
    assert (result["failedGuids"], result["redelivered"], result["fallbackSyncs"]) == (0, 0, 0)
    assert world.fallback_syncs() == repos


@pytest.mark.parametrize("world", [(3, 2)], indirect=True)
def test_the_apps_hook_refused_redeliveries_become_syncs_and_untracked_repositories_are_skipped(world, monkeypatch):
    # GIVEN the App's webhook configured (and a repository webhook GitHub does not have), and GitHub
    # refusing every redelivery (422)
    tracked = world.stack.db.connection().execute(
        "SELECT full_name FROM repositories r JOIN tracked_repositories t ON t.repository_id = r.id LIMIT 1").fetchone()
    monkeypatch.setenv("CONTRIBSYNC_WEBHOOK_HOOKS", f"app, {tracked['full_name']}:1")
    world.sim.deliveries.redelivery_window = timedelta(0)
    # AND lost deliveries of tracked repositories and of one that is not tracked
    missed = world.send(12, drop=1.0)
    ids = world.repository_ids()
    untracked = [d for d in missed if d.payload["repository"]["id"] not in ids]
    repos = sorted({ids[d.payload["repository"]["id"]] for d in missed if d not in untracked})
    assert untracked and repos
    # WHEN the reconciler runs
    result = world.reconcile()
    # THEN the App's hook was read (the other counted as unreadable), nothing was redelivered, the tracked
    # repositories were synced and the untracked repository's deliveries were counted as skipped
    assert result == {"hooksChecked": 1, "hooksUnreadable": 1, "deliveriesSeen": len(missed),
                      "failedGuids": len(missed), "redelivered": 0, "recovered": 0, "pending": 0,
                      "fallbackSyncs": len(repos), "skipped": len(untracked)}
    assert not [a for a in world.sim.deliveries.attempts() if a.redelivery]
    assert world.fallback_syncs() == repos
    assert world.reconcile()["failedGuids"] == 0


def test_a_delivery_over_6_mb_is_refused_at_the_door_then_taken_from_the_log_and_applied_once(world):
    sim, stack = world.sim, world.stack
    db = stack.db.connection()
    # GIVEN a pull request whose body is edited twice to a long text: the first edit's delivery fits the
    # Function URL, the second's (its new body, and the first in changes.body.from) is 7 MB
    *fits, big = world.feed.oversized(7 * 1024 * 1024)
    assert len(big.body) >= 7 * 1024 * 1024 > FUNCTION_URL_MAX_BYTES >= max(len(d.body) for d in fits)
    pr = big.payload["pull_request"]
    # WHEN GitHub delivers them
    world.sender.send([*fits, big])
    assert stack.wait_idle(120)
    # THEN the door refused the 7 MB one with 413, as GitHub's log records, and the receiver never saw it
    assert [(a.status_code, a.status) for a in sim.deliveries.attempts(guid=big.id)] == [
        (413, "Invalid HTTP Response: 413")]
    assert world.stored(fits) == {d.id for d in fits} and world.stored([big]) == set()
    assert db.execute("SELECT body FROM pull_requests WHERE github_id = %s", (pr["id"],)).fetchone()["body"] \
        == big.payload["changes"]["body"]["from"]

    # WHEN the reconciler runs
    result = world.reconcile()

    # THEN the delivery was recorded under its delivery id and applied: the PR row holds the 7 MB
    # payload's body
    row = db.execute("SELECT event, action, status FROM webhook_deliveries WHERE delivery_id = %s",
                     (big.id,)).fetchone()
    assert row is not None and dict(row) == {"event": "pull_request", "action": "edited", "status": "processed"}
    stored = db.execute("SELECT title, body FROM pull_requests WHERE github_id = %s", (pr["id"],)).fetchone()
    assert (stored["title"], stored["body"]) == (pr["title"], pr["body"])
    assert len(stored["body"]) > 900_000
    # AND it was taken from the log, not redelivered (the door would refuse a redelivery again)
    assert not [a for a in sim.deliveries.attempts() if a.redelivery]
    assert (result["failedGuids"], result["recovered"], result["redelivered"], result["fallbackSyncs"]) == (1, 1, 0, 0)
    # AND only the delivery's id went through SQS, not its payload
    [run] = applied(stack, big.id)
    assert run["status"] == "completed"
    assert set(run["data"]) == {"deliveryId", "event", "action", "repositoryGithubId"}

    # WHEN the reconciler runs again (its overlap reads the refused attempt again)
    again = world.reconcile()
    # THEN the delivery is known: nothing is taken or applied twice
    assert again["deliveriesSeen"] >= 1
    assert (again["failedGuids"], again["recovered"], again["redelivered"]) == (0, 0, 0)
    assert len(applied(stack, big.id)) == 1


def applied(stack: LocalStack, delivery_id: str) -> list[dict]:
    """The runs of ``webhook/*`` functions that applied ``delivery_id``."""
    return stack.db.connection().execute(
        "SELECT function, status, data FROM function_runs WHERE function LIKE 'Apply%%Webhook'"
        " AND data->>'deliveryId' = %s", (delivery_id,)).fetchall()

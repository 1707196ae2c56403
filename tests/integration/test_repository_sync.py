"""``capture/repository.sync`` as the seeds' manual script uses it: ``{owner, repo}`` for a repository
never seen, then the same event again within the cooldown (on the local stack)."""

from __future__ import annotations

import uuid

import pytest

from contribsync_local.stack import LocalStack
from contribsync_sim.dataset import generate, ground_truth
from contribsync_sim.simulator import Simulator

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def synced(isolated_database, aws_endpoint):
    simulator = Simulator(dataset=generate(67, repos=1, prs_per_repo=260))
    with LocalStack(database_url=isolated_database(), port=0, prefix=f"rs{uuid.uuid4().hex[:6]}", cron=False,
                    retry_base_s=1, aws_endpoint=aws_endpoint, simulator=simulator,
                    poller_concurrency=4) as stack:
        repo = next(iter(simulator.ds.repos.values()))
        stack.queues.send_event("capture/repository.sync", {"owner": repo.owner.login, "repo": repo.name})
        assert stack.wait_idle(240)
        stack.queues.send_event("capture/repository.sync", {"owner": repo.owner.login, "repo": repo.name})
        assert stack.wait_idle(60)
        yield stack, simulator.ds, repo


def rows(stack, query: str, *params) -> list[dict]:
    return stack.db.connection().execute(query, params).fetchall()


def sync_runs(stack) -> list[dict]:
    return rows(stack, "SELECT status, result FROM function_runs WHERE function = 'CaptureRepositorySync'"
                       " ORDER BY started_at")


def test_an_untracked_repository_is_tracked_and_its_whole_history_stored(synced):
    stack, ds, repo = synced
    truth = ground_truth(ds)["repos"][repo.full_name]
    assert truth["pull_requests"]["total"] > 100  # more than the newest 100 the event stores at once
    [tracked] = rows(stack, "SELECT t.tracking_enabled FROM tracked_repositories t JOIN repositories r"
                            " ON r.id = t.repository_id WHERE r.github_id = %s", repo.id)
    assert tracked["tracking_enabled"] is True
    counts = rows(stack, """SELECT (SELECT count(*) FROM pull_requests) AS prs, (SELECT count(*) FROM issues) AS issues,
        (SELECT count(*) FROM reviews) AS reviews, (SELECT count(*) FROM comments) AS comments,
        (SELECT count(*) FROM contributors) AS contributors,
        (SELECT prs_synced_through IS NOT NULL FROM repositories WHERE github_id = %s) AS fully_synced""", repo.id)[0]
    assert counts["prs"] == truth["pull_requests"]["total"]
    assert counts["issues"] == truth["issues"]["total"]
    assert counts["reviews"] == truth["reviews"] and counts["contributors"] > 0
    assert counts["fully_synced"] is True
    assert rows(stack, "SELECT function, error FROM function_runs WHERE status = 'failed'") == []


def test_the_result_names_what_it_queued_with_the_event_ids(synced):
    stack, _, _ = synced
    first = sync_runs(stack)[0]
    assert first["status"] == "completed" and first["result"]["status"] == "synced"
    assert first["result"]["prsFound"] == 100 and first["result"]["tracked"] is True
    queued = first["result"]["jobsQueued"]["fullHistory"]
    assert set(queued) == {"capture/repository.sync-enhanced", "capture/repository.issues"}
    for name, event_id in queued.items():
        [run] = rows(stack, "SELECT event_name, status FROM function_runs WHERE event_id = %s", event_id)
        assert (run["event_name"], run["status"]) == (name, "completed")


def test_a_resend_within_the_cooldown_says_when_the_repository_was_synced(synced):
    stack, _, _ = synced
    first, again = sync_runs(stack)[:2]
    assert again["status"] == "completed" and again["result"]["status"] == "fresh"
    assert again["result"]["lastSyncedAt"] and again["result"]["freshUntil"] > again["result"]["lastSyncedAt"]
    assert again["result"]["skipped"].startswith("synced ") and again["result"]["fullHistoryPending"] is False
    assert "jobsQueued" not in again["result"]
    assert first["result"]["status"] == "synced"


def test_a_priority_sync_of_a_repository_synced_since_it_was_queued_returns_at_once(synced):
    # GIVEN the repository just synced by a copy the hourly job queued 5 minutes before it ended, and
    # another medium-priority sync of it still waiting in the queue
    stack, _, repo = synced
    [stored] = rows(stack, "SELECT id, last_synced_at FROM repositories WHERE full_name = %s", repo.full_name)
    stack.db.connection().execute("UPDATE tracked_repositories SET sync_queued_at = %s - interval '5 minutes'"
                                  " WHERE repository_id = %s", (stored["last_synced_at"], stored["id"]))
    logs = len(rows(stack, "SELECT id FROM sync_logs"))
    event_id = stack.queues.send_event("capture/repository.sync-enhanced", {
        "repositoryId": str(stored["id"]), "reason": "priority", "priority": "medium"})
    assert stack.wait_idle(60)

    [run] = rows(stack, "SELECT status, result FROM function_runs WHERE event_id = %s", event_id)
    assert run["status"] == "completed" and run["result"]["status"] == "fresh"
    assert "not due again" in run["result"]["skipped"] and run["result"]["priority"] == "medium"
    assert len(rows(stack, "SELECT id FROM sync_logs")) == logs  # nothing read from GitHub

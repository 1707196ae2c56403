"""Follow-up capture on the local stack: repository.sync's fan-out (details, events), update/pr.activity,
capture/repository.comments.all and the stars and forks of capture/repository.events."""

from __future__ import annotations

import time
import uuid

import pytest

from contribsync_local.stack import LocalStack
from contribsync_sim.dataset import generate
from contribsync_sim.rest_shapes import Shapes
from contribsync_sim.simulator import Simulator

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stack(isolated_database, aws_endpoint):
    simulator = Simulator(dataset=generate(61, repos=1, prs_per_repo=60))
    with LocalStack(database_url=isolated_database(), port=0, prefix=f"act{uuid.uuid4().hex[:6]}", cron=False,
                    retry_base_s=1, aws_endpoint=aws_endpoint, simulator=simulator,
                    poller_concurrency=4) as running:
        repo = next(iter(simulator.ds.repos.values()))
        running.queues.send_event("capture/repository.sync", {"owner": repo.owner.login, "repo": repo.name})
        assert running.wait_idle(120)
        yield running


def repo_row(stack):
    repo = next(iter(stack.simulator.ds.repos.values()))
    row = stack.db.connection().execute("SELECT id, full_name FROM repositories WHERE github_id = %s",
                                        (repo.id,)).fetchone()
    return repo, row


def completed(stack, function: str) -> list[dict]:
    return stack.db.connection().execute(
        "SELECT data, result FROM function_runs WHERE function = %s AND status = 'completed'"
        " ORDER BY ended_at", (function,)).fetchall()


def test_repository_sync_fans_out_details_and_events(stack):
    repo, _ = repo_row(stack)
    sync = completed(stack, "CaptureRepositorySync")[-1]["result"]
    assert sync["prsFound"] == 60 and sync["jobsQueued"]["events"] == 1
    assert len(completed(stack, "CapturePrDetails")) == sync["jobsQueued"]["details"]
    events = completed(stack, "CaptureRepositoryEvents")[-1]["result"]
    expected = [e for e in Shapes(stack.simulator.ds, "").events(repo) if e["type"] in ("WatchEvent", "ForkEvent")]
    assert events["starsAndForks"] == len(expected) > 0
    stored = stack.db.connection().execute(
        "SELECT event_id, event_type, actor_login FROM github_events_cache WHERE repository_owner = %s"
        " AND repository_name = %s", (repo.owner.login, repo.name)).fetchall()
    assert sorted(r["event_id"] for r in stored) == sorted(e["id"] for e in expected)
    assert {r["event_type"] for r in stored} <= {"WatchEvent", "ForkEvent"}


def test_events_are_stored_once_when_read_again(stack):
    _, row = repo_row(stack)
    before = stack.db.connection().execute("SELECT count(*) AS n FROM github_events_cache").fetchone()["n"]
    stack.queues.send_event("capture/repository.events", {"repositoryId": str(row["id"])})
    assert stack.wait_idle(60)
    result = completed(stack, "CaptureRepositoryEvents")[-1]["result"]
    assert result["stored"] == 0 and result["starsAndForks"] > 0
    assert stack.db.connection().execute("SELECT count(*) AS n FROM github_events_cache").fetchone()["n"] == before


def test_update_pr_activity_queues_details_for_open_and_recently_changed_prs(stack):
    repo, row = repo_row(stack)
    feed = stack.simulator.feed("unused", seed=5)
    for _ in range(2):
        feed.step("edit_pr")
    stack.queues.send_event("capture/repository.sync", {"repositoryId": str(row["id"]), "force": True})
    assert stack.wait_idle(60)
    details_before = len(completed(stack, "CapturePrDetails"))
    stack.queues.send_event("update/pr.activity", {"repositoryId": str(row["id"]), "days": 7})
    assert stack.wait_idle(60)
    result = completed(stack, "UpdatePrActivity")[-1]["result"]
    open_prs = sum(p.state == "OPEN" for p in stack.simulator.ds.prs_by_repo[repo.id])
    assert result["open"] == open_prs and result["queued"] >= open_prs
    # details ran for the queued PRs (the ones already detailed this run are skipped as duplicates)
    assert len(completed(stack, "CapturePrDetails")) >= details_before


def test_comments_all_queues_one_job_per_recently_updated_pr(stack):
    repo, row = repo_row(stack)
    feed = stack.simulator.feed("unused", seed=7)
    edited = set()
    while len(edited) < 3:
        edited.add(feed.step("edit_pr")[0].payload["pull_request"]["number"])
    stack.queues.send_event("capture/repository.sync", {"repositoryId": str(row["id"]), "force": True})
    assert stack.wait_idle(60)
    time.sleep(0.1)
    stack.queues.send_event("capture/repository.comments.all", {"repositoryId": str(row["id"]), "timeRange": 1})
    assert stack.wait_idle(90)
    result = completed(stack, "CaptureRepositoryCommentsAll")[-1]["result"]
    recent = {p.number for p in stack.simulator.ds.prs_by_repo[repo.id]
              if (time.time() - p.updated_at.timestamp()) < 86_400}
    assert result["pullRequests"] == len(recent) >= 3
    jobs = {r["data"]["prNumber"] for r in completed(stack, "CapturePrComments")}
    assert recent <= jobs


def test_discovering_a_repository_github_does_not_have_fails_once_with_a_clear_error(stack):
    stack.queues.send_event("discover/new-repository", {"owner": "simorg", "repo": "no-such-repo"})
    assert stack.wait_idle(60)
    runs = stack.db.connection().execute(
        "SELECT status, error, dead_lettered FROM function_runs WHERE function = 'DiscoverNewRepository'"
        " AND data->>'repo' = 'no-such-repo'").fetchall()
    assert len(runs) == 1  # non-retriable: no retries spent on it
    assert runs[0]["status"] == "failed" and runs[0]["dead_lettered"]
    assert "Could not resolve to a Repository with the name 'simorg/no-such-repo'" in runs[0]["error"]
    assert stack.queues.dead_letters("discover-new-repository-dlq")

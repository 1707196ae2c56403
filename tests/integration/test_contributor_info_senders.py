"""What contributor.info's code sends, posted to the event API of the local stack as its senders post it.

The 55 events of ``tests/fixtures/contributor-info/sender-events.json`` (one per call site of its code,
data shaped as that code builds it) are each accepted with an id, also as one list; each reaches a
function that parses it (no run fails as an invalid or unknown event), and the names no function
handles are recorded by ``NoFunction``. The hybrid queue's ``jobId`` moves its
``progressive_capture_jobs`` row; ``prNumbers`` runs each pull request; ``timeRange`` is honoured.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from contribsync_local.stack import LocalStack
from contribsync_sim.dataset import generate
from contribsync_sim.simulator import Simulator
from tests.fixtures import CONTRIBUTOR_INFO

pytestmark = pytest.mark.integration

SENDERS = json.loads((CONTRIBUTOR_INFO / "sender-events.json").read_text())
NO_FUNCTION = {"capture/commits.update", "capture/commits.initial", "capture/commits.analyze"}
KEY = "contributor-info"


@pytest.fixture(scope="module")
def stack(isolated_database, aws_endpoint):
    simulator = Simulator(dataset=generate(47, repos=1, prs_per_repo=120))
    with LocalStack(database_url=isolated_database(), port=0, prefix=f"ci{uuid.uuid4().hex[:6]}", cron=False,
                    retry_base_s=1, aws_endpoint=aws_endpoint, simulator=simulator) as running:
        repo = next(iter(simulator.ds.repos.values()))
        running.queues.send_event("capture/repository.sync-enhanced", {"owner": repo.owner.login, "repo": repo.name})
        assert running.wait_idle(120)
        yield running


def post(stack: LocalStack, body: object, path: str = f"/e/{KEY}", **headers: str) -> httpx.Response:
    return httpx.post(f"{stack.http.url}{path}", content=json.dumps(body), headers=headers, timeout=30)


def runs(stack: LocalStack, ids: list[str]) -> list[dict]:
    return stack.db.connection().execute(
        "SELECT event_id, event_name, function, status, error_type, error, result FROM function_runs"
        " WHERE event_id = ANY(%s) ORDER BY started_at", (ids,)).fetchall()


def ran(stack: LocalStack, ids: list[str], *, ended: bool = True, timeout_s: float = 120) -> list[dict]:
    """The runs of ``ids`` once each has one (``ended``: one that ended), polling the run history. Not
    ``wait_idle``: contributor.info's events include throttled ones (one workspace aggregation a minute)
    that stay deferred for minutes."""
    statuses = ("completed", "failed", "cancelled", "skipped") if ended else None
    deadline = time.monotonic() + timeout_s
    while True:
        recorded = runs(stack, ids)
        done = {r["event_id"] for r in recorded if statuses is None or r["status"] in statuses}
        if done >= set(ids) or time.monotonic() > deadline:
            return recorded
        time.sleep(0.3)


def repository(stack: LocalStack) -> dict:
    return stack.db.connection().execute("SELECT id, full_name FROM repositories").fetchone()


def test_every_event_its_code_sends_is_accepted_one_by_one(stack):
    for sent in SENDERS:
        response = post(stack, {"name": sent["name"], "data": sent["data"]})
        assert response.status_code == 200, (sent["src"], response.text)
        answer = response.json()
        assert answer["status"] == 200 and len(answer["ids"]) == 1 and answer["ids"][0], sent["src"]
        assert "errors" not in answer


def test_all_of_them_in_one_list_are_accepted_and_each_reaches_a_function_that_parses_it(stack):
    # WHEN the 55 events are posted as one list
    response = post(stack, [{"name": s["name"], "data": s["data"]} for s in SENDERS])
    assert response.status_code == 200, response.text
    ids = response.json()["ids"]
    assert len(ids) == len(SENDERS) == 55 and all(ids) and len(set(ids)) == 55
    # THEN every one reached a function (deferred by a throttle counts: it was parsed first); none was
    # refused there as invalid or unknown
    recorded = ran(stack, ids, ended=False)
    assert {r["event_id"] for r in recorded} == set(ids)
    assert [r for r in recorded if r["error_type"] in ("InvalidEvent", "UnknownEvent")] == []
    # AND the names no function handles (its commit analysis) were recorded by NoFunction, and only they
    no_function = {r["event_name"] for r in recorded if r["function"] == "NoFunction"}
    assert no_function == NO_FUNCTION
    assert all(r["status"] == "completed" and r["result"]["noFunction"] for r in recorded
               if r["function"] == "NoFunction")


def test_one_bad_event_of_a_list_never_refuses_the_others(stack):
    repo = repository(stack)
    body = [{"name": "classify/repository.single", "data": {"repositoryId": str(repo["id"])}},
            {"name": "classify/repository.single", "data": {"repositoryId": "not-a-uuid"}},
            "not an event",
            {"name": "capture/commits.analyze", "data": {"commitSha": "abc"}}]
    response = post(stack, body)
    assert response.status_code == 200
    answer = response.json()
    assert answer["ids"][0] and answer["ids"][3]
    assert answer["ids"][1] is None and answer["ids"][2] is None
    assert [e["index"] for e in answer["errors"]] == [1, 2]
    assert "repositoryId" in answer["errors"][0]["error"]
    assert {r["function"] for r in ran(stack, [answer["ids"][0], answer["ids"][3]])} == {
        "ClassifySingleRepository", "NoFunction"}
    # and a request with no valid event at all is still a 400
    response = post(stack, [{"name": "classify/repository.single", "data": {}}])
    assert response.status_code == 400 and response.json()["errors"][0]["index"] == 0


def test_the_v1_events_route_takes_the_key_as_a_bearer_token(stack):
    event = {"name": "capture/commits.analyze", "data": {"commitSha": "abc"}}
    ok = post(stack, event, "/v1/events", Authorization=f"Bearer {KEY}")
    assert ok.status_code == 200 and ok.json()["ids"][0]
    assert post(stack, event, "/v1/events", Authorization="Bearer wrong-key").status_code == 401
    assert post(stack, event, "/v1/events").status_code == 401
    assert post(stack, event, "/v1/events", Authorization=f"Basic {KEY}").status_code == 401


def _job(stack: LocalStack, repository_id: object, job_type: str) -> str:
    return str(stack.db.connection().execute(
        "INSERT INTO progressive_capture_jobs (job_type, repository_id, status, processor_type)"
        " VALUES (%s, %s, 'processing', 'inngest') RETURNING id", (job_type, repository_id)).fetchone()["id"])


def _job_row(stack: LocalStack, job_id: str) -> dict:
    return stack.db.connection().execute(
        "SELECT status, started_at, completed_at, error FROM progressive_capture_jobs WHERE id = %s",
        (job_id,)).fetchone()


def test_a_hybrid_job_runs_each_of_its_pull_requests_and_its_row_ends_completed(stack):
    repo = repository(stack)
    numbers = [r["number"] for r in stack.db.connection().execute(
        "SELECT number FROM pull_requests WHERE repository_id = %s ORDER BY number LIMIT 3", (repo["id"],))]
    job_id = _job(stack, repo["id"], "pr-details")
    # WHEN the hybrid queue sends one job for three pull requests
    response = post(stack, {"name": "capture/pr.details.graphql", "data": {
        "repositoryId": str(repo["id"]), "priority": "medium", "jobId": job_id, "metadata": {},
        "prNumbers": numbers, "reason": "automatic"}})
    event_id = response.json()["ids"][0]
    # THEN one run handled each of them, and the job's row ended completed
    [run] = ran(stack, [event_id])
    assert run["status"] == "completed", run
    assert run["result"]["prNumbers"] == numbers
    assert [r["prNumber"] for r in run["result"]["results"]] == numbers
    row = _job_row(stack, job_id)
    assert row["status"] == "completed" and row["completed_at"] is not None and row["error"] is None


def test_a_job_that_fails_for_good_leaves_its_row_failed_with_the_error(stack):
    repo = repository(stack)
    job_id = _job(stack, repo["id"], "pr-details")
    missing = 999_999
    response = post(stack, {"name": "capture/pr.details.graphql", "data": {
        "repositoryId": str(repo["id"]), "prNumber": str(missing), "jobId": job_id}})
    assert response.status_code == 200
    assert [r["status"] for r in ran(stack, response.json()["ids"])][-1] == "failed"
    row = _job_row(stack, job_id)
    assert row["status"] == "failed", row
    assert str(missing) in row["error"]


def test_comment_jobs_without_a_number_cover_the_repositorys_recent_activity(stack):
    repo = repository(stack)
    response = post(stack, {"name": "capture/pr.comments", "data": {
        "repositoryId": str(repo["id"]), "priority": "medium", "metadata": {}, "repositoryName": repo["full_name"],
        "days": 3650, "maxPRs": 50}})
    [run] = ran(stack, response.json()["ids"])
    assert run["status"] == "completed", run
    assert run["result"]["pullRequests"] > 0  # capture/repository.comments.all's work, one job per PR
    assert _logged(stack, repo["id"], "repository_comments_all")  # as contributor.info's SyncLogger has it


def _logged(stack: LocalStack, repository_id: object, sync_type: str, timeout_s: float = 60) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if stack.db.connection().execute(
                "SELECT 1 FROM sync_logs WHERE repository_id = %s AND sync_type = %s AND status = 'completed'",
                (repository_id, sync_type)).fetchone():
            return True
        time.sleep(0.3)
    return False


def _range_boundary(created: list[datetime], now: datetime) -> tuple[int, int]:
    """A whole number of days whose cut falls well between two pull requests' creation (newest first),
    and how many pull requests are newer than it."""
    day, margin = timedelta(days=1), timedelta(minutes=10)
    for k in range(3, len(created) - 1):
        days = int((now - created[k] + margin) / day) + 1  # the first whole day past created[k]
        if now - days * day > created[k + 1] + margin:
            return days, k + 1
    raise AssertionError("no clean cut in the dataset")


def test_time_range_on_github_repository_sync_keeps_the_pull_requests_created_in_range(stack):
    repo = repository(stack)
    created = sorted((pr.created_at for pr in next(iter(stack.simulator.ds.prs_by_repo.values()))), reverse=True)
    days, in_range = _range_boundary(created, datetime.now(UTC))
    owner, name = repo["full_name"].split("/")
    # contributor.info's aggressive backfill script's shape, with force (the repository was just synced)
    response = post(stack, {"name": "github/repository.sync", "data": {
        "repositoryId": str(repo["id"]), "owner": owner, "name": name, "timeRange": days, "priority": "high",
        "source": "aggressive-backfill", "force": True}})
    [run] = ran(stack, response.json()["ids"])
    assert run["status"] == "completed", run
    assert run["result"]["prsFound"] == in_range < len(created)
    # and the stars and forks job it queued logs under its own sync type
    assert _logged(stack, repo["id"], "repository_events")

"""capture/repository.discussions on the local stack against the GitHub simulator and the fake OpenAI
server, its cron, and the catalog's concurrency and throttle as the runtime enforces them."""

from __future__ import annotations

import json
import threading
import time
import uuid

import pytest

from contribsync import catalog
from contribsync.history import RunHistory
from contribsync.runtime import Runtime, Waits
from contribsync_local.openai_fake import FakeOpenAI
from contribsync_local.poller import FunctionPoller, lambda_sqs_event
from contribsync_local.stack import LocalStack
from contribsync_sim.dataset import generate
from contribsync_sim.simulator import Simulator
from tests.fakes import clients

pytestmark = pytest.mark.integration

EVENT = catalog.resolve("capture/repository.discussions")
README_QUERIES = (
    "SELECT * FROM sync_logs WHERE entity_type = 'repository_discussions' ORDER BY started_at DESC LIMIT 10",
    """SELECT r.owner, r.name, COUNT(d.id) AS discussions, COUNT(d.summary) AS with_summary,
              MAX(d.created_at) AS latest_discussion
         FROM repositories r LEFT JOIN discussions d ON d.repository_id = r.id
        WHERE r.has_discussions
        GROUP BY r.id, r.owner, r.name ORDER BY discussions DESC""",
)


@pytest.fixture(scope="module")
def openai():
    with FakeOpenAI() as server:
        yield server


@pytest.fixture(scope="module")
def stack(isolated_database, aws_endpoint, openai):
    openai_env = {"OPENAI_API_KEY": "sk-test-not-a-real-key", "OPENAI_BASE_URL": openai.base_url}
    simulator = Simulator(dataset=generate(97, repos=3, prs_per_repo=20))
    with LocalStack(database_url=isolated_database(), port=0, prefix=f"disc{uuid.uuid4().hex[:6]}", cron=False,
                    retry_base_s=1, aws_endpoint=aws_endpoint, simulator=simulator,
                    poller_concurrency=2,
                    environment=openai_env) as running:
        for repo in simulator.ds.repos.values():
            running.queues.send_event("discover/new-repository", {"owner": repo.owner.login, "repo": repo.name})
        assert running.wait_idle(180)
        yield running


def rows(stack, query: str, *params) -> list[dict]:
    return stack.db.connection().execute(query, params).fetchall()


def runs(stack, function: str) -> list[dict]:
    return rows(stack, "SELECT status, attempt, data, result, error FROM function_runs WHERE function = %s"
                       " ORDER BY started_at", function)


def chats(openai) -> int:
    return openai.counters.endpoints.get("POST /v1/chat/completions", 0)


def with_discussions(stack) -> list:
    return [r for r in stack.simulator.ds.repos.values() if r.has_discussions]


def test_discovery_syncs_discussions_with_summaries_within_limits(stack, openai):
    repos = with_discussions(stack)
    assert repos, "the dataset must have repositories with discussions"
    done = [r for r in runs(stack, "CaptureRepositoryDiscussions") if r["status"] == "completed"]
    assert len(done) == len(repos)
    for repo in repos:
        expected = stack.simulator.ds.discussions_by_repo.get(repo.id, [])[:100]
        [result] = [r["result"] for r in done if r["result"]["repositoryId"] == str(rows(
            stack, "SELECT id FROM repositories WHERE github_id = %s", repo.id)[0]["id"])]
        assert result["success"] is True
        assert result["discussionsProcessed"] == result["discussionsStored"] == len(expected)
        stored = {r["number"]: r for r in rows(stack, "SELECT d.* FROM discussions d JOIN repositories r"
                                                      " ON r.id = d.repository_id WHERE r.github_id = %s", repo.id)}
        assert sorted(stored) == sorted(d.number for d in expected)
        for discussion in expected:
            row = stored[discussion.number]
            assert (row["title"], row["github_id"]) == (discussion.title, discussion.id)
            assert row["summary"] and len(row["summary"]) <= 150
            assert row["summary_content_hash"] and row["summary_generated_at"] is not None
    assert chats(openai) >= sum(len(stack.simulator.ds.discussions_by_repo.get(r.id, [])[:100])
                                          for r in repos)
    logs = rows(stack, "SELECT status, records_processed, github_api_calls_used FROM sync_logs"
                       " WHERE entity_type = 'repository_discussions'")
    assert len(logs) == len(repos) and {r["status"] for r in logs} == {"completed"}
    assert all(r["github_api_calls_used"] >= 1 for r in logs)


def test_a_second_run_regenerates_no_unchanged_summary(stack, openai):
    repo = with_discussions(stack)[0]
    repository_id = rows(stack, "SELECT id FROM repositories WHERE github_id = %s", repo.id)[0]["id"]
    before = chats(openai)
    stack.queues.send_event("capture/repository.discussions", {"repositoryId": str(repository_id)})
    assert stack.wait_idle(60)
    assert runs(stack, "CaptureRepositoryDiscussions")[-1]["result"]["summariesGenerated"] == 0
    assert chats(openai) == before


def test_missing_repository_and_disabled_discussions_fail_once_without_retries(stack):
    disabled = next(r for r in stack.simulator.ds.repos.values() if not r.has_discussions)
    disabled_id = rows(stack, "SELECT id FROM repositories WHERE github_id = %s", disabled.id)[0]["id"]
    missing_id = str(uuid.uuid4())
    for repository_id in (missing_id, str(disabled_id)):
        stack.queues.send_event("capture/repository.discussions", {"repositoryId": repository_id, "maxItems": 10})
    assert stack.wait_idle(60)
    failed = [r for r in runs(stack, "CaptureRepositoryDiscussions") if r["status"] == "failed"]
    errors = {r["data"]["repositoryId"]: r for r in failed}
    assert "repository not found" in errors[missing_id]["error"]
    assert "discussions disabled" in errors[str(disabled_id)]["error"]
    assert {r["attempt"] for r in errors.values()} == {1}  # non-retriable: no retry spent
    dead = stack.queues.dead_letters(EVENT.dlq)
    assert {json.loads(m["body"])["data"]["repositoryId"] for m in dead} >= {missing_id, str(disabled_id)}


def test_an_invalid_payload_is_a_clear_non_retriable_failure(stack):
    stack.queues.send_raw(EVENT.queue, json.dumps({"name": EVENT.name, "data": {"repositoryId": "not-a-uuid"}}))
    assert stack.wait_idle(60)
    dead = [m for m in stack.queues.dead_letters(EVENT.dlq) if "not-a-uuid" in m["body"]]
    assert dead and "repositoryId" in (dead[0]["error"] or "")


def test_openai_down_stores_without_summaries_and_succeeds(stack, openai):
    repo = with_discussions(stack)[-1]
    repository_id = str(rows(stack, "SELECT id FROM repositories WHERE github_id = %s", repo.id)[0]["id"])
    stack.db.connection().execute("UPDATE discussions SET summary = NULL, summary_content_hash = NULL"
                                  " WHERE repository_id = %s", (repository_id,))
    openai.down = True
    try:
        stack.queues.send_event("capture/repository.discussions", {"repositoryId": repository_id})
        assert stack.wait_idle(120)
    finally:
        openai.down = False
    last = runs(stack, "CaptureRepositoryDiscussions")[-1]
    assert last["status"] == "completed" and last["result"]["success"] is True
    assert last["result"]["discussionsStored"] == last["result"]["discussionsProcessed"] > 0
    assert last["result"]["summariesFailed"] == last["result"]["discussionsProcessed"]
    assert rows(stack, "SELECT count(summary) AS n FROM discussions WHERE repository_id = %s",
                repository_id)[0]["n"] == 0
    logged = json.dumps(runs(stack, "CaptureRepositoryDiscussions"))
    assert "sk-test-not-a-real-key" not in logged


def test_the_cron_sends_one_sync_per_active_repository_with_discussions(stack):
    stack.queues.send_event("sync/discussions-cron", {})
    assert stack.wait_idle(120)
    [result] = [r["result"] for r in runs(stack, "SyncDiscussionsCron")]
    expected = rows(stack, "SELECT count(*) AS n FROM repositories WHERE has_discussions AND is_active")[0]["n"]
    assert result == {"syncedRepos": expected} and expected == len(with_discussions(stack))


def test_the_readme_monitoring_queries_run_as_written(stack):
    recent, stats = (rows(stack, q) for q in README_QUERIES)
    assert recent and all(r["entity_type"] == r["sync_type"] == "repository_discussions" for r in recent)
    assert {(r["owner"], r["name"]) for r in stats} == {(r.owner.login, r.name) for r in with_discussions(stack)}
    assert all(r["with_summary"] <= r["discussions"] for r in stats)


# -- the catalog's limits, enforced by the runtime -------------------------------------------------------

def _send(queues, data: dict) -> str:
    event_id = str(uuid.uuid4())
    queues.send_raw(EVENT.queue, json.dumps({"name": EVENT.name, "data": data, "id": event_id}))
    return event_id


def test_five_events_for_one_repository_never_run_more_than_two_at_once(isolated_db, queues):
    db = isolated_db  # a bucket and leases of its own
    active, peak, lock = [0], [0], threading.Lock()

    def slow(data, ctx):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.4)
        with lock:
            active[0] -= 1
        return {"success": True}

    runtime = Runtime(EVENT, clients(db, queues), service=slow, waits=Waits((1, 1)))
    repository_id = str(uuid.uuid4())
    ids = [_send(queues, {"repositoryId": repository_id}) for _ in range(5)]
    poller = FunctionPoller(queues.sqs, function=EVENT.function, queue_url=queues.url(EVENT.queue),
                            handler=runtime.handle, batch_size=1, concurrency=5, timeout_s=30, wait_s=1)
    poller.start()
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and sum(
                any(r["status"] == "completed" for r in RunHistory(db).recent(limit=500) if r["event_id"] == i)
                for i in ids) < len(ids):
            time.sleep(0.2)
    finally:
        poller.stop()
    assert peak[0] == 2  # the limit was reached, never passed
    assert EVENT.concurrency is not None and EVENT.concurrency.n == 2 and EVENT.retries == 2


def test_forty_events_at_once_start_at_most_twenty_a_minute(isolated_db, queues, fake_clock):
    db = isolated_db  # a throttle bucket no other test has taken from
    started: list[str] = []
    runtime = Runtime(EVENT, clients(db, queues, clock=fake_clock),
                      service=lambda data, ctx: started.append(ctx.event_id) or {"success": True})
    ids = [_send(queues, {"repositoryId": str(uuid.uuid4())}) for _ in range(40)]
    messages: list = []
    while len(messages) < 40:
        messages += queues.sqs.receive_message(QueueUrl=queues.url(EVENT.queue), MaxNumberOfMessages=10,
                                               AttributeNames=["All"], MessageAttributeNames=["All"]
                                               ).get("Messages", [])

    def deliver() -> None:
        for start in range(0, 40, 10):
            runtime.handle(lambda_sqs_event(messages[start:start + 10], queue_arn="arn:x", region="us-east-1"), None)

    deliver()
    assert len(started) == 20  # the first minute: the throttle's 20
    fake_clock.advance(60)
    deliver()  # the deferred twenty come back a minute later (SQS would redeliver them delayed)
    assert len(started) == 40 and len(set(started)) == 40 and set(started) == set(ids)


def test_the_backfill_command_runs_the_service_with_a_progress_bar(isolated_database):
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "OPENAI_"))}
    env["DATABASE_URL"] = isolated_database()
    cli = [sys.executable, "-m", "contribsync_cli.main"]
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([*cli, "backfill-discussions", "simorg", "repo-0", "--max-items", "5"], cwd=root,
                          env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "simorg/repo-0 discussions" in done.stdout  # the progress bar's label
    result = json.loads(done.stdout[done.stdout.index("{"):])
    assert result["success"] is True and result["discussionsStored"] == result["discussionsProcessed"] == 5
    assert result["summariesGenerated"] == result["summariesFailed"] == 0  # no OpenAI configured
    refused = subprocess.run([*cli, "backfill-discussions", "simorg", "repo-1"], cwd=root, env=env,
                             capture_output=True, text=True, timeout=120, check=False)
    assert refused.returncode == 1 and "discussions disabled for simorg/repo-1" in refused.stdout

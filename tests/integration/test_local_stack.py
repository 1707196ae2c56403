"""The local stack end to end: HTTP event API → SQS → pollers → real handlers → run history."""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from contribsync import catalog
from contribsync.history import RunHistory
from contribsync_local.http import ACCESS_LOG_FILE
from contribsync_local.scheduler import CronDriver
from contribsync_local.stack import LocalStack
from contribsync_sim.changes import WebhookSender
from tests.polling import wait_for

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stack(pg_dsn, aws_endpoint):
    with LocalStack(database_url=pg_dsn, port=0, prefix=f"ls{uuid.uuid4().hex[:6]}", cron=False,
                    retry_base_s=1, aws_endpoint=aws_endpoint) as running:
        yield running


def test_healthz(stack):
    r = httpx.get(f"{stack.http.url}/healthz")
    assert r.status_code == 200
    assert r.json()["status"] == "ok"


def test_the_event_api_rejects_a_bad_key(stack):
    r = httpx.post(f"{stack.http.url}/e/not-the-key", json={"name": "cancel/function", "data": {"event": "x"}})
    assert r.status_code == 401
    assert r.json()["status"] == 401


def test_the_event_api_refuses_each_invalid_event_and_sends_the_others(stack):
    good = {"name": "cancel/function", "data": {"event": "capture/pr.details", "match": {"prNumber": 0}}}
    bad = {"name": "classify/single-repository", "data": {"repositoryId": "nope"}}
    before = stack.depth("cancel-function")
    # one invalid event alone: 400, nothing sent
    r = httpx.post(f"{stack.http.url}/e/contributor-info", json=bad)
    assert r.status_code == 400
    assert "classify/single-repository" in r.json()["error"]
    assert httpx.post(f"{stack.http.url}/e/contributor-info", content=b"{nope").status_code == 400
    assert stack.depth("cancel-function") == before
    # beside a valid one, it never refuses the other (contributor.info sends lists)
    r = httpx.post(f"{stack.http.url}/e/contributor-info", json=[good, bad])
    assert r.status_code == 200
    assert r.json()["ids"][0] and r.json()["ids"][1] is None
    assert [e["index"] for e in r.json()["errors"]] == [1]
    assert wait_for(lambda: RunHistory(stack.db).completed(event_id=r.json()["ids"][0], function="CancelFunction"))


def test_the_documents_curl_example_works_unchanged(stack):
    """`curl -X POST http://localhost:8288/e/contributor-info -d '{"name":...}'` (no content type)."""
    body = json.dumps({"name": "capture/repository.sync", "data": {"owner": "octo", "repo": "demo"}})
    r = httpx.post(f"{stack.http.url}/e/contributor-info", content=body,
                   headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 200
    assert r.json()["status"] == 200
    assert len(r.json()["ids"]) == 1


def test_single_and_batch_sends_run_their_functions(stack):
    history = RunHistory(stack.db)
    single = httpx.post(f"{stack.http.url}/e/contributor-info",
                        json={"name": "workspace.metrics.aggregate.scheduled", "data": {}})
    batch = httpx.post(f"{stack.http.url}/e/contributor-info", json=[
        {"name": "capture/commits.analyze", "data": {"commitSha": "abc"}},
        {"name": "cancel/function", "data": {"event": "capture/pr.details", "match": {"prNumber": 1}}},
    ])
    assert single.status_code == batch.status_code == 200
    ids = single.json()["ids"] + batch.json()["ids"]
    assert len(ids) == 3

    def completed() -> set[str]:
        return {r["event_id"] for r in history.recent(status="completed", limit=200)}

    assert wait_for(lambda: set(ids) <= completed())
    ran = {r["event_id"]: r["function"] for r in history.recent(status="completed", limit=200)}
    assert [ran[i] for i in ids] == ["ScheduledWorkspaceAggregation", "NoFunction", "CancelFunction"]


def test_internal_events_are_refused_with_403(stack):
    # the metrics cleanup, posted with a retention of a day, once deleted history rows
    r = httpx.post(f"{stack.http.url}/e/contributor-info",
                   json={"name": "cleanup/workspace-metrics", "data": {"retentionDays": 1}})
    assert r.status_code == 403 and r.json()["errors"][0]["status"] == 403
    assert stack.depth("cleanup-workspace-metrics") == 0


def test_every_function_polls_its_high_priority_queue_too_and_wait_idle_counts_it(stack):
    assert set(stack.high_pollers) == set(stack.pollers) == {e.function for e in catalog.EVENTS}
    for function, poller in stack.high_pollers.items():
        assert poller.queue_url == stack.queues.url(catalog.by_function(function).high_queue)
        assert poller.batch_size == 1
    # WHEN a high-priority event is sent: it lands on the high queue, and the stack is busy until it ran
    r = httpx.post(f"{stack.http.url}/e/contributor-info",
                   json={"name": "cancel/function", "data": {"event": "capture/pr.details", "priority": "high"}})
    (event_id,) = r.json()["ids"]
    assert stack.wait_idle(30)
    assert RunHistory(stack.db).completed(event_id=event_id, function="CancelFunction")
    assert stack.backlog("CancelFunction") == 0


def test_cron_fast_forward_sends_each_schedule_once_per_fire(stack):
    start = datetime(2026, 1, 1, tzinfo=UTC)
    driver = CronDriver(stack.queues, start=start, only=("sync/discussions-cron", "cleanup/workspace-metrics",
                                                         "scheduled/workspace-aggregation"))
    fired = driver.tick(start + timedelta(days=7))
    counts: dict[str, int] = {}
    for name, _ in fired:
        counts[name] = counts.get(name, 0) + 1
    assert counts == {"sync/discussions-cron": 14, "scheduled/workspace-aggregation": 7,
                      "cleanup/workspace-metrics": 1}
    assert driver.tick(start + timedelta(days=7)) == []  # nothing fires twice
    history = RunHistory(stack.db)
    assert wait_for(lambda: sum(1 for r in history.recent(function="SyncDiscussionsCron", limit=100)
                                if r["event_id"].startswith("cron:") and r["status"] == "completed") >= 14)


def test_the_simulator_is_the_default_github(stack):
    assert stack.simulator is not None
    assert os.environ["GITHUB_API_URL"] == stack.simulator.url
    repo = min(stack.simulator.ds.repos.values(), key=lambda r: r.id)
    response = httpx.get(f"{os.environ['GITHUB_API_URL']}/repos/{repo.full_name}",
                         headers={"authorization": f"token {os.environ['GITHUB_TOKEN']}"})
    assert response.status_code == 200 and response.json()["id"] == repo.id


def test_a_configured_github_is_used_instead_of_the_simulator(monkeypatch):
    monkeypatch.setenv("GITHUB_API_URL", "http://127.0.0.1:9/api/v3")
    assert LocalStack(github="auto", aws_endpoint="http://127.0.0.1:9").simulator is None
    assert LocalStack(github="sim", aws_endpoint="http://127.0.0.1:9").simulator is not None
    monkeypatch.delenv("GITHUB_API_URL")
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_real")
    assert LocalStack(github="auto", aws_endpoint="http://127.0.0.1:9").simulator is None


def test_change_mode_webhooks_land_in_the_stack(stack):
    feed = stack.simulator.feed(os.environ["GITHUB_WEBHOOK_SECRET"], seed=9)
    sender = WebhookSender(f"{stack.http.url}/webhook")
    deliveries = feed.step("open_pr") + feed.step("add_review")
    sender.send(deliveries)
    assert sender.result.statuses == {202: len(deliveries)}
    stored = stack.db.connection().execute(
        "SELECT count(*) AS n FROM webhook_deliveries WHERE delivery_id = ANY(%s)",
        ([d.id for d in deliveries],)).fetchone()
    assert stored["n"] == len(deliveries)


def test_the_http_endpoint_in_a_process_of_its_own_serves_and_feeds_the_stack(pg_dsn, aws_endpoint):
    # GIVEN a stack whose HTTP endpoint (receiver, event API, dashboard) runs in its own process
    with LocalStack(database_url=pg_dsn, port=0, prefix=f"lsp{uuid.uuid4().hex[:6]}", cron=False,
                    retry_base_s=1, aws_endpoint=aws_endpoint, github="sim", http_process=True,
                    access_log="file") as stack:
        marker = uuid.uuid4().hex
        health = httpx.get(f"{stack.http.url}/healthz?probe={marker}").json()
        # the child writes its request lines to the log file, as `contribsync dev` has it
        assert wait_for(lambda: ACCESS_LOG_FILE.exists() and marker in ACCESS_LOG_FILE.read_text())
        assert health["status"] == "ok"
        assert health["pid"] != os.getpid()
        assert health["functions"] == len(stack.pollers) > 0
        assert httpx.get(f"{stack.http.url}/").status_code == 200  # the dashboard
        # WHEN GitHub delivers to its /webhook
        feed = stack.simulator.feed(os.environ["GITHUB_WEBHOOK_SECRET"], seed=21)
        sender = WebhookSender(f"{stack.http.url}/webhook")
        deliveries = feed.step("open_pr")
        sender.send(deliveries)
        assert sender.result.statuses == {202: len(deliveries)}

        # THEN this process's pollers apply what the other process received
        def applied() -> bool:
            row = stack.db.connection().execute(
                "SELECT count(*) FILTER (WHERE status = 'processed') AS n FROM webhook_deliveries"
                " WHERE delivery_id = ANY(%s)", ([d.id for d in deliveries],)).fetchone()
            return row["n"] == len(deliveries)

        assert wait_for(applied)
        url = stack.http.url
    # and the endpoint ends with the stack
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/healthz", timeout=2)

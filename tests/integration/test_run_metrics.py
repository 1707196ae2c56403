"""The metrics a function publishes, as CloudWatch would read them: the EMF lines Powertools prints when a
handler (``lambda_entry`` around the runtime) is invoked with real SQS messages from moto, against the
embedded Postgres and, for GitHub's spend, the simulator. The template's alarms and dashboard name these
metrics and dimensions."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from contribsync import catalog, lambda_entry, services
from contribsync.catalog import Event
from contribsync.errors import NonRetriable, RateLimited
from contribsync.event_api import EventApi
from contribsync.payloads import RepositoryIssues
from contribsync.runtime import Runtime
from contribsync_local.poller import LambdaContext, lambda_sqs_event
from contribsync_sim.simulator import Simulator
from tests.fakes import clients

pytestmark = pytest.mark.integration

FUNCTION = "CaptureRepositoryIssues"  # test events ride on this function's real queues


@pytest.fixture
def emf(capsys, monkeypatch):
    """``emf()``: the EMF documents printed since the last call (the log lines are skipped)."""
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    monkeypatch.delenv("POWERTOOLS_DEV", raising=False)
    capsys.readouterr()

    def read() -> list[dict]:
        lines = capsys.readouterr().out.splitlines()
        return [doc for line in lines if line.startswith("{") and "_aws" in (doc := json.loads(line))]

    return read


def only(documents: list[dict]) -> dict:
    assert len(documents) == 1, documents
    return documents[0]


def dimensions(doc: dict) -> dict[str, str]:
    (directive,) = doc["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "contribsync"
    (names,) = directive["Dimensions"]
    return {name: doc[name] for name in names}


def values(doc: dict) -> dict[str, list[float]]:
    """Each metric's values (Powertools prints a list, one value per ``add_metric``)."""
    (directive,) = doc["_aws"]["CloudWatchMetrics"]
    return {m["Name"]: doc[m["Name"]] for m in directive["Metrics"]}


def make_event(**overrides) -> Event:
    base = {"name": "test/job", "model": RepositoryIssues, "function": FUNCTION, "service": None}
    return Event(**{**base, **overrides})


def send(queues, event: Event, data: dict | None = None, *, body: str | None = None) -> None:
    payload = {"name": event.name, "data": data or {"repositoryId": str(uuid.uuid4())}, "id": str(uuid.uuid4()),
               "ts": int(time.time() * 1000)}
    queues.send_raw(event.queue, body if body is not None else json.dumps(payload))


def invoke(runtime: Runtime, queues, *, receive_count: int | None = None) -> dict:
    """The function's ``lambda_handler`` on the one message waiting in its queue."""
    url = queues.url(runtime.event.queue)
    messages: list = []
    deadline = time.monotonic() + 10
    while not messages and time.monotonic() < deadline:
        messages = queues.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"],
                                              MessageAttributeNames=["All"], WaitTimeSeconds=1).get("Messages", [])
    assert len(messages) == 1
    event = lambda_sqs_event(messages, queue_arn="arn:aws:sqs:us-east-1:123456789012:x", region="us-east-1")
    if receive_count is not None:  # as SQS counts a message handed out again after its earlier attempts
        event["Records"][0]["attributes"]["ApproximateReceiveCount"] = str(receive_count)
    handler = lambda_entry(runtime.handle, function=runtime.event.function)
    return handler(event, LambdaContext(runtime.event.function))


def run_once(db, queues, service, *, receive_count: int | None = None, data: dict | None = None,
             body: str | None = None, **event_options) -> dict:
    event = make_event(**event_options)
    runtime = Runtime(event, clients(db, queues, retry_base_s=1), service=service)
    send(queues, event, data, body=body)
    invoke(runtime, queues, receive_count=receive_count)
    return runtime.event.__dict__


SERVICE_DIMENSIONS = {"service": "contribsync", "function": FUNCTION}


def test_a_completed_run_counts_under_its_function(db, queues, emf):
    run_once(db, queues, lambda data, ctx: {"ok": True})
    doc = only(emf())
    assert dimensions(doc) == SERVICE_DIMENSIONS
    assert values(doc) == {"RecordsReceived": [1.0], "RunCompleted": [1.0]}


def test_a_run_that_fails_for_good_counts_as_failed_and_dead_lettered(db, queues, emf):
    def refuses(data, ctx):
        raise NonRetriable("this repository is gone")

    def breaks(data, ctx):
        raise RuntimeError("still broken")

    # GIVEN a run that is not retriable, and one whose last attempt fails
    run_once(db, queues, refuses)
    not_retriable = only(emf())
    run_once(db, queues, breaks, retries=2, receive_count=3)
    retries_spent = only(emf())
    # THEN each is one failed run and one dead letter, under the function
    for doc in (not_retriable, retries_spent):
        assert dimensions(doc) == SERVICE_DIMENSIONS
        assert values(doc) == {"RecordsReceived": [1.0], "DeadLettered": [1.0], "RunFailed": [1.0]}


def test_a_failed_attempt_with_retries_left_counts_as_retried_not_failed(db, queues, emf):
    def breaks(data, ctx):
        raise RuntimeError("transient")

    run_once(db, queues, breaks, retries=2)
    doc = only(emf())
    assert dimensions(doc) == SERVICE_DIMENSIONS
    assert values(doc) == {"RecordsReceived": [1.0], "RunRetried": [1.0]}


def test_a_run_deferred_by_its_service_counts_as_deferred(db, queues, emf):
    def rate_limited(data, ctx):
        raise RateLimited("GitHub graphql budget below the reserve",
                          defer_until=datetime.now(UTC) + timedelta(minutes=5))

    run_once(db, queues, rate_limited)
    doc = only(emf())
    assert dimensions(doc) == SERVICE_DIMENSIONS
    assert values(doc) == {"RecordsReceived": [1.0], "Deferred": [1.0]}


def test_a_message_no_run_can_take_is_dead_lettered_as_a_failure(db, queues, emf):
    run_once(db, queues, lambda data, ctx: pytest.fail("an invalid message must not run"), body="{not json")
    doc = only(emf())
    assert dimensions(doc) == SERVICE_DIMENSIONS
    assert values(doc) == {"RecordsReceived": [1.0], "DeadLettered": [1.0], "RunFailed": [1.0]}


def test_dimensions_do_not_leak_from_one_invocation_to_the_next(db, queues, emf):
    # GIVEN a warm container that ran a function, then an invocation that published nothing
    run_once(db, queues, lambda data, ctx: None)
    first = only(emf())
    with pytest.warns(UserWarning, match="No application metrics"):
        lambda_entry(lambda event, context: {}, function="Quiet")({}, LambdaContext("Quiet"))
    assert emf() == []
    # WHEN the event API is invoked next in the same process
    api = lambda_entry(EventApi(clients(db, queues, local_stack=True)).handle, function="EventApi")
    sample = json.loads((Path(__file__).parents[2] / "events" / "event_api.json").read_text())
    response = api(sample, LambdaContext("EventApi"))
    # THEN each invocation's metrics carry its own function only, and only its own counts
    assert response["statusCode"] == 200
    assert dimensions(first) == SERVICE_DIMENSIONS
    doc = only(emf())
    assert dimensions(doc) == {"service": "contribsync", "function": "EventApi"}
    assert values(doc) == {"EventApiRequests": [1.0], "EventsAccepted": [2.0]}  # the sample posts two


def test_a_run_that_calls_github_publishes_the_points_it_spent_and_the_lowest_budget_left(
        isolated_db, queues, emf):
    pr_reviews = catalog.by_function("CapturePrReviews")
    with Simulator(seed=7, repos=1, prs_per_repo=30) as sim:
        repo = next(iter(sim.ds.repos.values()))
        pr = max(sim.ds.prs_by_repo[repo.id], key=lambda p: len(sim.ds.reviews_by_pr.get(p.id, [])))
        runtime = Runtime(pr_reviews, clients(isolated_db, queues, github_api_url=sim.url,
                                              github_tokens=(f"metrics-{uuid.uuid4().hex}",)),
                          service=services.load(pr_reviews))
        counters = sim.app.counters
        data = {"repository": {"owner": repo.owner.login, "name": repo.name}, "pr_number": pr.number}
        try:
            # WHEN the repository is read by GraphQL, then the pull request and its reviews by REST
            send(queues, pr_reviews, data)
            invoke(runtime, queues)
            first = only(emf())
            spent = dict(counters.points_by_resource)
            lowest = dict(counters.lowest_remaining)
            # and a second run finds all of it unchanged (REST answers 304, which GitHub does not charge)
            send(queues, pr_reviews, data)
            invoke(runtime, queues)
            second = only(emf())
        finally:
            runtime.close()
    # THEN the first run's points are what the simulator charged, GraphQL and REST together
    assert dimensions(first) == {"service": "contribsync", "function": "CapturePrReviews"}
    assert set(spent) == {"graphql", "core"}
    assert values(first)["RunCompleted"] == [1.0]
    assert values(first)["GitHubPointsUsed"] == [spent["graphql"] + spent["core"]]
    assert values(first)["GitHubBudgetRemaining"] == [min(lowest.values())]
    # and the second spent nothing, and saw the REST budget where the first left it
    assert counters.points_by_resource == spent
    assert counters.not_modified >= 2
    assert values(second)["GitHubPointsUsed"] == [0.0]
    assert values(second)["GitHubBudgetRemaining"] == [lowest["core"]]

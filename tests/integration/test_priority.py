"""Priority: a high-priority event never waits behind its function's normal backlog.

Every sender routes ``priority: high`` (or ``critical``) to the function's high queue (``Queues``, a
service's follow-ups, the event API); the runtime treats a message from it as any other, except that its
re-queues, backoffs and forwards stay high, its throttle is a bucket of its own, and over a concurrency
limit it comes back sooner; its dead letters go to the function's one DLQ. On the local stack, the
issue's check: with 500 normal events queued for a function, a high-priority one starts within seconds.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from contribsync import catalog
from contribsync.catalog import Event, Limit, Throttle
from contribsync.errors import NonRetriable, RateLimited
from contribsync.flow_control import FlowControl, SystemClock
from contribsync.history import RunHistory
from contribsync.payloads import RepositoryIssues
from contribsync.runtime import RunContext, Runtime
from contribsync_local import faults
from contribsync_local.poller import FunctionPoller, lambda_sqs_event
from contribsync_local.stack import LocalStack
from tests.fakes import clients
from tests.polling import wait_for

pytestmark = pytest.mark.integration

FUNCTION = "CaptureRepositoryIssues"  # test events ride on a real catalog function's two queues


def make_event(**overrides) -> Event:
    base = {"name": "test/job", "model": RepositoryIssues, "function": FUNCTION, "service": None}
    return Event(**{**base, **overrides})


def runs_of(db, event_id: str) -> list[dict]:
    return sorted((r for r in RunHistory(db).recent(limit=500) if r["event_id"] == event_id),
                  key=lambda r: r["started_at"])


def depth(queues, queue: str) -> int:
    """Messages on a queue: visible, in flight or delayed."""
    attributes = queues.sqs.get_queue_attributes(QueueUrl=queues.url(queue), AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed"])["Attributes"]
    return sum(int(v) for v in attributes.values())


def arn(queues, queue: str) -> str:
    return queues.sqs.get_queue_attributes(QueueUrl=queues.url(queue), AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]


def send(queues, event: Event, data: dict, *, queue: str | None = None) -> str:
    """Put an event on ``queue``, by default where a sender would (``Event.queue_for``)."""
    event_id = str(uuid.uuid4())
    body = {"name": event.name, "data": data, "id": event_id, "ts": int(time.time() * 1000)}
    queues.send_raw(queue or event.queue_for(data), json.dumps(body))
    return event_id


def receive(queues, queue: str, n: int) -> list[dict]:
    got: list[dict] = []
    while len(got) < n:
        got += queues.sqs.receive_message(QueueUrl=queues.url(queue), MaxNumberOfMessages=min(10, n - len(got)),
                                          AttributeNames=["All"], MessageAttributeNames=["All"],
                                          WaitTimeSeconds=2).get("Messages", [])
    return got


def handle(runtime: Runtime, queues, queue: str, n: int = 1) -> dict:
    """Receive ``n`` messages from ``queue`` and hand them to the runtime as that queue's mapping would."""
    return runtime.handle(lambda_sqs_event(receive(queues, queue, n), queue_arn=arn(queues, queue),
                                           region="us-east-1"), None)


def repo_data(**more) -> dict:
    return {"repositoryId": str(uuid.uuid4()), **more}


# -- routing ------------------------------------------------------------------------------------------


def test_events_marked_high_or_critical_go_to_the_high_queue_whoever_sends_them(queues):
    event = catalog.resolve("capture/pr.details")
    data = {"repositoryId": str(uuid.uuid4()), "prNumber": 1}
    # WHEN the CLI's and the event API's path sends contributor.info's priorities, by both names
    queues.send_events([{"name": "capture/pr.details.graphql", "data": {**data, "priority": p}}
                        for p in ("high", "critical")])
    queues.send_events([{"name": "capture/pr.details", "data": {**data, "priority": p}}
                        for p in ("medium", "low", "normal", 100)] + [{"name": "capture/pr.details", "data": data}])
    # THEN high and critical are on the high queue, the rest on the normal one
    assert (depth(queues, event.queue), depth(queues, event.high_queue)) == (5, 2)
    # a service's follow-ups take the same route (update/pr.activity marks open pull requests high)
    ctx = RunContext.outside_a_run(clients(None, queues), catalog.resolve("update/pr.activity"))
    ctx.send_many("capture/pr.details", [{**data, "prNumber": 2, "priority": "high"},
                                         {**data, "prNumber": 3, "priority": "medium"}])
    assert (depth(queues, event.queue), depth(queues, event.high_queue)) == (6, 3)


# -- the runtime on the high queue --------------------------------------------------------------------


def test_a_high_priority_message_is_retried_and_deferred_on_the_high_queue(db, queues):
    # GIVEN a service that fails once, then is rate limited once, then completes
    calls: list[int] = []

    def service(data, ctx):
        calls.append(ctx.attempt)
        if len(calls) == 1:
            raise RuntimeError("transient failure")
        if len(calls) == 2:
            raise RateLimited("budget below reserve", defer_until=datetime.now(UTC) + timedelta(seconds=1))
        return {"ok": True}

    event = make_event(retries=2)
    runtime = Runtime(event, clients(db, queues, retry_base_s=1), service=service, rng=lambda: 0.0)
    event_id = send(queues, event, repo_data(priority="high"))
    # WHEN only the high queue is polled (a backoff or a re-queue on the normal queue would never come back)
    poller = FunctionPoller(queues.sqs, function=FUNCTION, queue_url=queues.url(event.high_queue),
                            handler=runtime.handle, batch_size=1, concurrency=1, timeout_s=30, wait_s=1)
    poller.start()
    try:
        assert wait_for(lambda: any(r["status"] == "completed" for r in runs_of(db, event_id)))
    finally:
        poller.stop()
    # THEN the backoff and the deferral both came back on the high queue, the retry budget intact
    assert [(r["status"], r["attempt"]) for r in runs_of(db, event_id)] == [
        ("retrying", 1), ("deferred", 2), ("completed", 2)]
    assert depth(queues, event.queue) == depth(queues, event.high_queue) == 0


def test_dead_letters_of_the_high_queue_go_to_the_functions_one_dlq(db, queues):
    event = make_event(retries=0)

    def service(data, ctx):
        raise NonRetriable("repository not found")

    runtime = Runtime(event, clients(db, queues), service=service)
    # the runtime's own dead letter
    send(queues, event, repo_data(priority="high"))
    assert handle(runtime, queues, event.high_queue) == {"batchItemFailures": []}
    assert [d["error"] for d in queues.dead_letters(event.dlq)] == ["NonRetriable: repository not found"]
    # and SQS's redrive policy: a message received maxReceiveCount times without a delete moves there too
    declared = catalog.by_function(FUNCTION)
    policy = json.loads(queues.sqs.get_queue_attributes(QueueUrl=queues.url(event.high_queue), AttributeNames=[
        "RedrivePolicy"])["Attributes"]["RedrivePolicy"])
    assert policy == {"deadLetterTargetArn": arn(queues, event.dlq), "maxReceiveCount": declared.max_receive_count}
    lost = send(queues, event, repo_data(priority="high"))
    url = queues.url(event.high_queue)
    for _ in range(declared.max_receive_count):
        (message,) = queues.sqs.receive_message(QueueUrl=url, VisibilityTimeout=0, WaitTimeSeconds=2)["Messages"]
        assert lost in message["Body"]
    assert "Messages" not in queues.sqs.receive_message(QueueUrl=url, VisibilityTimeout=0, WaitTimeSeconds=1)
    assert any(lost in d["body"] for d in queues.dead_letters(event.dlq))


def test_a_forwarded_high_priority_message_stays_high(db, queues):
    # GIVEN classify events on another function's queues: one whose data says high (on the normal queue),
    # one on the high queue whose data says nothing, one plain
    event = make_event()
    runtime = Runtime(event, clients(db, queues), service=lambda d, ctx: None)
    target = catalog.resolve("classify/single-repository")
    marked = send(queues, target, repo_data(priority="high"), queue=event.queue)
    plain = send(queues, target, repo_data(), queue=event.queue)
    on_high = send(queues, target, repo_data(), queue=event.high_queue)
    # WHEN they are handled
    handle(runtime, queues, event.queue, 2)
    handle(runtime, queues, event.high_queue)
    # THEN the high ones went to the target's high queue, the plain one to its normal queue

    def ids(queue: str, n: int) -> set[str]:
        return {json.loads(m["Body"])["id"] for m in receive(queues, queue, n)}

    assert ids(target.high_queue, 2) == {marked, on_high}
    assert ids(target.queue, 1) == {plain}


def test_the_high_queue_takes_its_throttle_from_a_bucket_of_its_own(db, queues, fake_clock):
    # GIVEN one start a minute per repository, and a repository whose normal events spent it
    event = make_event(throttle=Throttle(1, 60, "repository_key"))
    ran: list[str] = []
    runtime = Runtime(event, clients(db, queues, clock=fake_clock), service=lambda d, ctx: ran.append(ctx.event_id))
    data = repo_data()
    normal = [send(queues, event, data) for _ in range(2)]
    handle(runtime, queues, event.queue, 2)
    assert len(ran) == 1
    assert {r["status"] for i in normal for r in runs_of(db, i)} == {"completed", "deferred"}
    # WHEN a high-priority event for that repository arrives, then another
    first, second = (send(queues, event, {**data, "priority": "high"}) for _ in range(2))
    handle(runtime, queues, event.high_queue)
    handle(runtime, queues, event.high_queue)
    # THEN the first starts at once; the second is held by the high bucket, as the first normal one was
    assert ran[1:] == [first]
    assert [r["status"] for r in runs_of(db, second)] == ["deferred"]
    delayed = queues.sqs.get_queue_attributes(QueueUrl=queues.url(event.high_queue),
                                              AttributeNames=["ApproximateNumberOfMessagesDelayed"])
    assert delayed["Attributes"]["ApproximateNumberOfMessagesDelayed"] == "1"  # re-queued on the high queue


def test_over_a_concurrency_limit_a_high_priority_run_comes_back_sooner(db, queues):
    # GIVEN a limit of one run per repository, held by another run
    event = make_event(concurrency=Limit(1, "repository_key"))
    runtime = Runtime(event, clients(db, queues), service=lambda d, ctx: None)
    data = repo_data()
    flow = FlowControl(db, SystemClock())
    lease = flow.acquire(scope=FUNCTION, key=data["repositoryId"], limit=1, ttl_s=60)
    assert lease is not None
    try:
        # WHEN a normal and a high-priority event for that repository arrive
        normal = send(queues, event, data)
        high = send(queues, event, {**data, "priority": "high"})
        handle(runtime, queues, event.queue)
        handle(runtime, queues, event.high_queue)
    finally:
        flow.release(lease, scope=FUNCTION)

    # THEN both wait (the limit holds across both queues), the high one 1-3 s where the normal one waits 5-15 s
    def wait_s(event_id: str) -> float:
        (run,) = runs_of(db, event_id)
        assert run["status"] == "deferred"
        return (run["next_attempt_at"] - run["started_at"]).total_seconds()

    assert 1 <= wait_s(high) <= 3.1
    assert 5 <= wait_s(normal) <= 15.1


# -- the issue's check, on the local stack --------------------------------------------------------------

BACKLOG = 500
START_WITHIN_S = 10.0  # the issue's "within a few seconds", with room for a loaded 2-core CI machine
PRIORITY_FUNCTION = "CapturePrDetails"  # contributor.info marks an open PR's details high
RUN_S = 0.2  # each run of the stand-in service


@pytest.fixture(scope="module")
def stack(isolated_database, aws_endpoint):
    with LocalStack(database_url=isolated_database(), port=0, prefix=f"prio{uuid.uuid4().hex[:6]}", cron=False,
                    retry_base_s=1, aws_endpoint=aws_endpoint) as running:
        yield running


def test_a_high_priority_event_starts_within_seconds_ahead_of_a_backlog_of_500(stack, report):
    # GIVEN a function whose runs take 0.2 s each (a stand-in service: nothing else is measured), and 500
    # normal events queued for one repository; its throttle (50 starts a minute) keeps most of them waiting
    event = catalog.by_function(PRIORITY_FUNCTION)
    started_runs: list[str] = []
    lock = threading.Lock()

    def slow(data, ctx):
        with lock:
            started_runs.append(ctx.event_id)
        time.sleep(RUN_S)
        return {"prNumber": data.pr_number}

    repository = str(uuid.uuid4())
    stand_in = faults.replace(stack.handlers[PRIORITY_FUNCTION].RUNTIME, slow)
    try:
        backlog = stack.queues.send_events([
            {"name": "capture/pr.details", "data": {"repositoryId": repository, "prNumber": n, "priority": "medium"}}
            for n in range(1, BACKLOG + 1)])
        assert wait_for(lambda: len(started_runs) >= 10)  # the backlog is being worked through

        # WHEN a high-priority event for the same repository is posted to the event API
        queued = stack.depth(event.queue)
        sent_at = datetime.now(UTC)
        response = httpx.post(f"{stack.http.url}/e/contributor-info", json={
            "name": "capture/pr.details.graphql",
            "data": {"repositoryId": repository, "prNumber": BACKLOG + 1, "priority": "high"}})
        assert response.status_code == 200
        (urgent,) = response.json()["ids"]
        history = RunHistory(stack.db)
        assert wait_for(lambda: history.completed(event_id=urgent, function=PRIORITY_FUNCTION), timeout=60)
    finally:
        stand_in.remove()

    # THEN it started within seconds, while most of the backlog, sent before it, was still waiting
    (run,) = [r for r in runs_of(stack.db, urgent) if r["status"] == "completed"]
    delay_s = (run["started_at"] - sent_at).total_seconds()
    ahead = stack.db.connection().execute(
        "SELECT count(DISTINCT event_id) AS n FROM function_runs WHERE function = %s AND event_id = ANY(%s)"
        " AND status IN ('running', 'completed', 'failed', 'retrying') AND started_at < %s",
        (PRIORITY_FUNCTION, backlog, run["started_at"])).fetchone()["n"]
    jumped = BACKLOG - ahead
    report(f"priority: a high-priority {PRIORITY_FUNCTION} event started {delay_s:.2f} s after it was posted, "
           f"ahead of {jumped} of the {BACKLOG} normal events queued before it ({ahead} had started; "
           f"{queued} messages on the normal queue when it was posted)")
    assert delay_s <= START_WITHIN_S, f"started {delay_s:.1f} s after it was sent"
    assert jumped >= BACKLOG // 2, f"only {jumped} of the backlog were still waiting"
    # the backlog is dropped, not drained (its throttle would take ten minutes)
    for queue in event.queues:
        stack.sqs.purge_queue(QueueUrl=stack.queues.url(queue))

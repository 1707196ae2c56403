"""The runtime against real parts: moto's SQS server, the embedded Postgres, real pollers."""

from __future__ import annotations

import json
import threading
import time
import uuid

import pytest

from contribsync import catalog, services
from contribsync.catalog import Event, Limit, Throttle
from contribsync.envelope import ORIGIN_ATTR
from contribsync.errors import NonRetriable, RateLimited
from contribsync.flow_control import FlowControl, SystemClock
from contribsync.history import RunHistory
from contribsync.observability import logger
from contribsync.payloads import Empty, RepositoryIssues
from contribsync.runtime import Runtime, Waits
from contribsync_local.poller import FunctionPoller, LambdaContext, lambda_sqs_event
from devtools.log_capture import captured_logs
from tests.fakes import clients
from tests.polling import wait_for

pytestmark = pytest.mark.integration

# Test events ride on real catalog functions' queues (created from template.yaml by the fixture).
FUNCTION = "CaptureRepositoryIssues"


def make_event(**overrides) -> Event:
    base = {"name": "test/job", "model": RepositoryIssues, "function": FUNCTION, "service": None}
    return Event(**{**base, **overrides})


def runs_of(db, event_id: str) -> list[dict]:
    return [r for r in RunHistory(db).recent(limit=500) if r["event_id"] == event_id]


def poll(runtime: Runtime, queues, *, concurrency: int = 1, batch_size: int = 10) -> FunctionPoller:
    poller = FunctionPoller(queues.sqs, function=FUNCTION, queue_url=queues.url(runtime.event.queue),
                            handler=runtime.handle, batch_size=batch_size, concurrency=concurrency,
                            timeout_s=30, wait_s=1)
    poller.start()
    return poller


def send(queues, event: Event, data: dict, *, event_id: str | None = None, ts: int | None = None) -> str:
    event_id = event_id or str(uuid.uuid4())
    body = {"name": event.name, "data": data, "id": event_id, "ts": ts or int(time.time() * 1000)}
    queues.send_raw(event.queue, json.dumps(body))
    return event_id


def repo_data() -> dict:
    return {"repositoryId": str(uuid.uuid4())}


def test_a_message_that_fails_twice_then_succeeds_is_retried_with_backoff(db, queues):
    # GIVEN a service that fails on its first two attempts
    attempts: list[int] = []

    def flaky(data, ctx):
        attempts.append(ctx.attempt)
        if ctx.attempt < 3:
            raise RuntimeError(f"transient failure {ctx.attempt}")
        return {"ok": True}

    event = make_event(retries=3)
    runtime = Runtime(event, clients(db, queues, retry_base_s=1), service=flaky, rng=lambda: 1.0)
    # WHEN it is polled like Lambda's event source mapping
    event_id = send(queues, event, repo_data())
    poller = poll(runtime, queues)
    try:
        assert wait_for(lambda: any(r["status"] == "completed" for r in runs_of(db, event_id)))
    finally:
        poller.stop()
    # THEN three attempts ran, the first two were retried, and each retry waited out its backoff
    runs = sorted(runs_of(db, event_id), key=lambda r: r["attempt"])
    assert [(r["attempt"], r["status"]) for r in runs] == [(1, "retrying"), (2, "retrying"), (3, "completed")]
    assert attempts == [1, 2, 3]
    assert runs[0]["error"] == "transient failure 1"
    for before, after, expected_s in ((runs[0], runs[1], 1), (runs[1], runs[2], 2)):
        gap = (after["started_at"] - before["ended_at"]).total_seconds()
        assert gap >= expected_s - 0.25, f"retried after {gap:.2f}s, backoff was {expected_s}s"
        planned = (before["next_attempt_at"] - before["ended_at"]).total_seconds()
        assert planned == pytest.approx(expected_s, abs=0.1)
    assert runs[2]["result"] == {"ok": True}


def test_poison_messages_go_to_the_dlq_while_the_rest_of_the_batch_succeeds(db, queues):
    seen: list[str] = []
    event = make_event()
    runtime = Runtime(event, clients(db, queues), service=lambda d, ctx: seen.append(ctx.event_id))
    good = [send(queues, event, repo_data()) for _ in range(3)]
    bad_data = send(queues, event, {"repositoryId": "not-a-uuid"})
    queues.send_raw(event.queue, "{this is not json")
    unknown = send(queues, make_event(name="no/such-event"), repo_data())
    # WHEN one batch holding all six is handled
    messages = []
    while len(messages) < 6:
        got = queues.sqs.receive_message(QueueUrl=queues.url(event.queue), MaxNumberOfMessages=10,
                                         AttributeNames=["All"], MessageAttributeNames=["All"], WaitTimeSeconds=1)
        messages += got.get("Messages", [])
    lambda_event = lambda_sqs_event(messages, queue_arn="arn:aws:sqs:us-east-1:123456789012:x", region="us-east-1")
    response = runtime.handle(lambda_event, LambdaContext(FUNCTION))
    # THEN no record is reported failed (nothing to retry), the good ones ran, the bad ones are in the DLQ
    assert response == {"batchItemFailures": []}
    assert sorted(seen) == sorted(good)
    dead = queues.dead_letters(event.dlq)
    assert len(dead) == 3
    errors = " | ".join(d["error"] for d in dead)
    assert "InvalidEvent" in errors and "UnknownEvent" in errors and "no/such-event" in errors
    failed = RunHistory(db).recent(function=FUNCTION, status="failed", limit=50)
    recorded = {r["event_id"] for r in failed if r["dead_lettered"]}
    assert {bad_data, unknown} <= recorded
    assert any(r["event_name"] == "(unparsable)" for r in failed)


def test_non_retriable_errors_dead_letter_at_once_and_spent_retries_dead_letter_too(db, queues):
    event = make_event(retries=1)

    def service(data, ctx):
        if data.time_range == 7:
            raise NonRetriable("repository not found")
        raise RuntimeError("always broken")

    runtime = Runtime(event, clients(db, queues, retry_base_s=1), service=service, rng=lambda: 0.0)
    fatal = send(queues, event, {**repo_data(), "timeRange": 7})
    broken = send(queues, event, repo_data())
    poller = poll(runtime, queues)
    try:
        assert wait_for(lambda: len(queues.dead_letters(event.dlq)) == 2)
    finally:
        poller.stop()
    fatal_runs = runs_of(db, fatal)
    assert [(r["attempt"], r["status"], r["dead_lettered"]) for r in fatal_runs] == [(1, "failed", True)]
    broken_runs = sorted(runs_of(db, broken), key=lambda r: r["attempt"])
    assert [(r["attempt"], r["status"]) for r in broken_runs] == [(1, "retrying"), (2, "failed")]
    assert broken_runs[-1]["dead_lettered"]


def test_rate_limited_defers_without_spending_an_attempt(db, queues):
    from datetime import UTC, datetime, timedelta

    calls: list[int] = []

    def service(data, ctx):
        calls.append(ctx.attempt)
        if len(calls) == 1:
            raise RateLimited("budget below reserve", defer_until=datetime.now(UTC) + timedelta(seconds=1))
        return {"done": True}

    event = make_event(retries=0)  # one attempt only: a deferral must not use it up
    runtime = Runtime(event, clients(db, queues), service=service)
    event_id = send(queues, event, repo_data())
    poller = poll(runtime, queues)
    try:
        assert wait_for(lambda: any(r["status"] == "completed" for r in runs_of(db, event_id)))
    finally:
        poller.stop()
    statuses = sorted((r["started_at"], r["status"], r["attempt"]) for r in runs_of(db, event_id))
    assert [(s, a) for _, s, a in statuses] == [("deferred", 1), ("completed", 1)]
    assert calls == [1, 1]


def test_the_concurrency_limit_holds_with_four_pollers(db, queues):
    # GIVEN a limit of 2 per repository, and 12 slow jobs for one repository
    active: dict[str, int] = {}
    peak: dict[str, int] = {}
    lock = threading.Lock()

    def slow(data, ctx):
        key = data.repository_key
        with lock:
            active[key] = active.get(key, 0) + 1
            peak[key] = max(peak.get(key, 0), active[key])
        time.sleep(0.3)
        with lock:
            active[key] -= 1

    event = make_event(concurrency=Limit(2, "repository_key"))
    runtime = Runtime(event, clients(db, queues), service=slow, waits=Waits((1, 1)))
    repo = str(uuid.uuid4())
    other = str(uuid.uuid4())
    ids = [send(queues, event, {"repositoryId": repo}) for _ in range(12)]
    ids += [send(queues, event, {"repositoryId": other}) for _ in range(4)]
    # WHEN four pollers take batches of one
    poller = poll(runtime, queues, concurrency=4, batch_size=1)
    try:
        assert wait_for(lambda: sum(
            1 for i in ids if any(r["status"] == "completed" for r in runs_of(db, i))) == len(ids), timeout=90)
    finally:
        poller.stop()
    # THEN never more than two ran at once for one repository, and every job completed
    assert peak[repo] == 2
    assert peak[other] <= 2
    deferred = [r for i in ids for r in runs_of(db, i) if r["status"] == "deferred"]
    assert deferred, "with 4 pollers and a limit of 2, some runs must have waited"


def test_the_throttle_holds_on_an_injected_clock(db, fake_clock):
    flow = FlowControl(db, fake_clock)
    scope = f"throttle-{uuid.uuid4().hex[:6]}"
    grants = [flow.take(scope=scope, key="", limit=3, period_s=60) for _ in range(4)]
    assert [g.granted for g in grants] == [True, True, True, False]
    assert grants[3].wait_s == pytest.approx(20.0)
    fake_clock.advance(19)
    assert not flow.take(scope=scope, key="", limit=3, period_s=60).granted
    fake_clock.advance(21)  # 40 s after the 4th take: two tokens refilled, minus the denied take
    assert flow.take(scope=scope, key="", limit=3, period_s=60).granted
    # keys are independent
    assert flow.take(scope=scope, key="other", limit=3, period_s=60).granted


def test_throttled_runs_are_deferred_not_dropped(db, queues, fake_clock):
    event = make_event(throttle=Throttle(2, 60))
    ran: list[str] = []
    runtime = Runtime(event, clients(db, queues, clock=fake_clock), service=lambda d, ctx: ran.append(ctx.event_id))
    ids = [send(queues, event, repo_data()) for _ in range(5)]
    messages = []
    while len(messages) < 5:
        got = queues.sqs.receive_message(QueueUrl=queues.url(event.queue), MaxNumberOfMessages=10,
                                         AttributeNames=["All"], MessageAttributeNames=["All"])
        messages += got.get("Messages", [])
    runtime.handle(lambda_sqs_event(messages, queue_arn="arn:x", region="us-east-1"), None)
    assert len(ran) == 2
    deferred = [r for i in ids for r in runs_of(db, i) if r["status"] == "deferred"]
    assert len(deferred) == 3
    assert all(r["next_attempt_at"] > fake_clock.now() for r in deferred)
    # the deferred three are back on the queue, delayed
    attrs = queues.sqs.get_queue_attributes(QueueUrl=queues.url(event.queue),
                                            AttributeNames=["ApproximateNumberOfMessagesDelayed"])
    assert int(attrs["Attributes"]["ApproximateNumberOfMessagesDelayed"]) == 3


def test_cancel_skips_queued_runs_and_stops_running_ones_at_a_checkpoint(db, queues):
    started = threading.Event()
    release = threading.Event()
    outcomes: list[str] = []

    def long_job(data, ctx):
        started.set()
        release.wait(10)
        ctx.checkpoint()
        outcomes.append(ctx.event_id)

    event = make_event(name="capture/repository.issues")
    runtime = Runtime(event, clients(db, queues), service=long_job)
    target, spared = str(uuid.uuid4()), str(uuid.uuid4())
    running = send(queues, event, {"repositoryId": target})
    poller = poll(runtime, queues, batch_size=1)
    try:
        assert started.wait(15)
        queued = send(queues, event, {"repositoryId": target}, ts=int(time.time() * 1000) - 1000)
        other = send(queues, event, {"repositoryId": spared})
        # WHEN a cancel/function arrives for that repository while one run is running and one is queued
        canceller = Runtime(catalog.by_function("CancelFunction"), clients(db, queues),
                            service=services.load(catalog.by_function("CancelFunction")))
        queues.send_event("cancel/function", {"event": "capture/repository.issues",
                                              "match": {"repositoryId": target}, "reason": "user_requested"})
        got = queues.sqs.receive_message(QueueUrl=queues.url("cancel-function"), AttributeNames=["All"],
                                         WaitTimeSeconds=2)
        assert canceller.handle(lambda_sqs_event(got["Messages"], queue_arn="arn:x", region="us-east-1"),
                                None) == {"batchItemFailures": []}
        release.set()
        assert wait_for(lambda: all(runs_of(db, i) and runs_of(db, i)[0]["status"] != "running"
                                    for i in (running, queued, other)))
    finally:
        release.set()
        poller.stop()
    # THEN the running one stopped at its checkpoint, the queued one never ran, the other repo ran
    assert runs_of(db, running)[0]["status"] == "cancelled"
    assert runs_of(db, running)[0]["error"] == "user_requested"
    assert runs_of(db, queued)[0]["status"] == "cancelled"
    assert runs_of(db, other)[0]["status"] == "completed"
    assert outcomes == [other]


def test_a_cancel_whose_condition_is_not_met_cancels_nothing_and_says_so(db, queues):
    from contribsync.runtime import RunContext

    cancel = catalog.by_function("CancelFunction")
    target = str(uuid.uuid4())
    mine = clients(db, queues)
    for reason, cancelled in (("repo removed", False), (None, False), ("user_requested", True)):
        data = {"event": "capture/repository.issues", "match": {"repositoryId": target}, "reason": reason}
        result = services.load(cancel)(cancel.model.model_validate(data),
                                       RunContext.outside_a_run(mine, cancel, data))
        assert result["cancelled"] is cancelled
        if not cancelled:
            assert result["reason"] == "CaptureRepositoryIssues is cancelled only when data.reason == 'user_requested'"
        rows = db.connection().execute("SELECT count(*) AS n FROM cancellations WHERE match->>'repositoryId' = %s",
                                       (target,)).fetchone()
        assert rows["n"] == (1 if cancelled else 0)


def test_a_redelivered_event_that_completed_is_skipped(db, queues):
    count: list[int] = []
    event = make_event()
    runtime = Runtime(event, clients(db, queues), service=lambda d, ctx: count.append(1))
    event_id = str(uuid.uuid4())
    data = repo_data()
    send(queues, event, data, event_id=event_id)
    send(queues, event, data, event_id=event_id)
    poller = poll(runtime, queues, batch_size=1)
    try:
        assert wait_for(lambda: len(runs_of(db, event_id)) == 2)
    finally:
        poller.stop()
    assert sorted(r["status"] for r in runs_of(db, event_id)) == ["completed", "skipped"]
    assert count == [1]


def test_a_message_on_the_wrong_queue_is_forwarded(db, queues):
    event = make_event()
    runtime = Runtime(event, clients(db, queues), service=lambda d, ctx: None)
    body = {"name": "classify/single-repository", "data": repo_data(), "id": str(uuid.uuid4())}
    queues.send_raw(event.queue, json.dumps(body))
    got = queues.sqs.receive_message(QueueUrl=queues.url(event.queue), MaxNumberOfMessages=1,
                                     AttributeNames=["All"], WaitTimeSeconds=2)
    runtime.handle(lambda_sqs_event(got["Messages"], queue_arn="arn:x", region="us-east-1"), None)
    target = queues.sqs.receive_message(QueueUrl=queues.url("classify-single-repository"), WaitTimeSeconds=2)
    assert json.loads(target["Messages"][0]["Body"])["id"] == body["id"]


def test_empty_model_events_accept_scheduler_bodies(db, queues):
    """EventBridge Scheduler sends {"name", "data"} with no id: the SQS message id stands in."""
    event = make_event(name="test/cron", model=Empty)
    seen: list[str] = []
    runtime = Runtime(event, clients(db, queues), service=lambda d, ctx: seen.append(ctx.event_id))
    queues.send_raw(event.queue, json.dumps({"name": "test/cron", "data": {}}))
    got = queues.sqs.receive_message(QueueUrl=queues.url(event.queue), MaxNumberOfMessages=1,
                                     AttributeNames=["All"], WaitTimeSeconds=2)
    runtime.handle(lambda_sqs_event(got["Messages"], queue_arn="arn:x", region="us-east-1"), None)
    assert seen == [got["Messages"][0]["MessageId"]]


def test_a_run_whose_outcome_cannot_be_recorded_comes_back_after_its_backoff(pg_dsn, queues):
    """The database goes away just after the service succeeded: the message is back after the retry
    backoff (1 s here), not after its visibility timeout (6 x the function's timeout, 3 minutes here)."""
    from contribsync.db import Database
    from contribsync.errors import StoreError

    class LosesOneFinish(Database):
        lost = False

        def query(self, name, params=None, **options):
            if name == "run_finish" and not self.lost:
                self.lost = True
                raise StoreError("database error: terminating connection due to administrator command")
            return super().query(name, params, **options)

    db = LosesOneFinish(pg_dsn)
    ran: list[int] = []
    event = make_event()
    runtime = Runtime(event, clients(db, queues, retry_base_s=1),
                      service=lambda d, ctx: ran.append(ctx.attempt), rng=lambda: 0.0)
    event_id = send(queues, event, repo_data())
    poller = poll(runtime, queues)
    try:
        assert wait_for(lambda: any(r["status"] == "completed" for r in runs_of(db, event_id)), timeout=20)
    finally:
        poller.stop()
        db.close()
    assert ran == [1, 2]  # the service is idempotent; the first outcome was never recorded


def test_a_rejected_message_whose_record_was_lost_once_is_dead_lettered_once(pg_dsn, queues):
    """The connection drops between the DLQ send and the run history's record of it: the record is made
    again on a new connection, so the message is not dead-lettered a second time when it comes back."""
    from contribsync.db import Database
    from contribsync.errors import StoreError

    class LosesOneRecord(Database):
        lost = False

        def query(self, name, params=None, **options):
            if name == "run_record" and not self.lost:
                self.lost = True
                raise StoreError("database error: terminating connection due to administrator command")
            return super().query(name, params, **options)

    db = LosesOneRecord(pg_dsn)
    event = make_event()
    runtime = Runtime(event, clients(db, queues, retry_base_s=1), service=lambda d, ctx: None)
    queues.send_raw(event.queue, "{poison, not json")
    poller = poll(runtime, queues)
    try:
        def drained() -> bool:
            attributes = queues.sqs.get_queue_attributes(QueueUrl=queues.url(event.queue), AttributeNames=[
                "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
            return not any(int(v) for v in attributes.values())

        assert wait_for(drained, timeout=20)
    finally:
        poller.stop()
        db.close()
    assert db.lost
    assert [d["body"] for d in queues.dead_letters(event.dlq)] == ["{poison, not json"]


def test_a_worker_killed_after_its_handler_is_replaced_and_its_batch_is_skipped_when_it_comes_back(db, queues):
    seen: list[str] = []
    event = make_event()
    runtime = Runtime(event, clients(db, queues), service=lambda d, ctx: seen.append(ctx.event_id))
    ids = [send(queues, event, repo_data()) for _ in range(3)]
    poller = FunctionPoller(queues.sqs, function=FUNCTION, queue_url=queues.url(event.queue), handler=runtime.handle,
                            concurrency=1, timeout_s=30, wait_s=1)
    poller.kill(reappear_after_s=1)  # the first batch's worker dies after its handler, before the delete
    poller.start()
    try:
        assert wait_for(lambda: all(any(r["status"] == "completed" for r in runs_of(db, i)) for i in ids)
                        and any(r["status"] == "skipped" for i in ids for r in runs_of(db, i)))
    finally:
        poller.stop()
    # THEN a new worker took over, got the killed batch back and skipped what had completed: each event
    # ran once
    assert poller.killed == 1
    assert sorted(seen) == sorted(ids)
    assert all([r["status"] for r in runs_of(db, i)].count("completed") == 1 for i in ids)


def test_a_poison_message_redelivered_after_its_worker_died_is_dead_lettered_once(db, queues):
    # GIVEN poison (not JSON, and invalid data) whose worker dies after moving it to the DLQ, before the
    # batch is deleted: SQS delivers it again
    event = make_event()
    runtime = Runtime(event, clients(db, queues), service=lambda d, ctx: None)
    queues.send_raw(event.queue, "{poison, not json")
    bad = send(queues, event, {"repositoryId": "not-a-uuid"})
    poller = FunctionPoller(queues.sqs, function=FUNCTION, queue_url=queues.url(event.queue), handler=runtime.handle,
                            concurrency=1, timeout_s=30, wait_s=1)
    poller.kill(reappear_after_s=1)
    poller.start()
    try:
        # WHEN the new worker gets them back
        def drained() -> bool:
            attributes = queues.sqs.get_queue_attributes(QueueUrl=queues.url(event.queue), AttributeNames=[
                "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
            return poller.killed == 1 and not any(int(v) for v in attributes.values())

        assert wait_for(drained, timeout=30)
    finally:
        poller.stop()
    # THEN each is in the DLQ once, and recorded dead-lettered once
    dead = queues.dead_letters(event.dlq)
    assert sorted(d["body"][:17] for d in dead) == sorted(["{poison, not json", json.dumps({"name": event.name})[:17]])
    assert [r["dead_lettered"] for r in runs_of(db, bad)] == [True]


def test_a_message_forwarded_twice_is_dead_lettered_once(db, queues):
    # GIVEN invalid data sent to the wrong function's queue, whose worker forwarded it to its own queue and
    # died before the delete, so the original was forwarded again: two copies of one message
    event = make_event()
    body = json.dumps({"name": event.name, "data": {"repositoryId": "not-a-uuid"}})
    for _ in range(2):
        queues.send_raw(event.queue, body, attributes={ORIGIN_ATTR: "the-message-first-sent"})
    runtime = Runtime(event, clients(db, queues), service=lambda d, ctx: None)
    poller = FunctionPoller(queues.sqs, function=FUNCTION, queue_url=queues.url(event.queue), handler=runtime.handle,
                            concurrency=1, timeout_s=30, wait_s=1)
    poller.start()
    try:
        # WHEN the function's worker gets both
        def drained() -> bool:
            attributes = queues.sqs.get_queue_attributes(QueueUrl=queues.url(event.queue), AttributeNames=[
                "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
            return not any(int(v) for v in attributes.values())

        assert wait_for(drained, timeout=30)
    finally:
        poller.stop()
    # THEN the DLQ holds it once, and the run history names it by the message first sent
    assert [d["body"] for d in queues.dead_letters(event.dlq)] == [body]
    rows = db.connection().execute("SELECT event_id, dead_lettered FROM function_runs WHERE message_id = %s",
                                   ("the-message-first-sent",)).fetchall()
    assert rows == [{"event_id": "the-message-first-sent", "dead_lettered": True}]


def test_the_precheck_answers_what_the_duplicate_and_cancel_checks_answer(db):
    flow, history = FlowControl(db, SystemClock()), RunHistory(db)
    done, fresh, target = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    before = SystemClock().now()
    run = history.start(event_id=done, event_name="test/job", function=FUNCTION, key=None, attempt=1,
                        data={}, message_id=None, now=before)
    history.finish(run, status="completed", now=before)
    # a cancellation without a reason, for one repository's runs of this function
    flow.cancel(function=FUNCTION, event_name=None, match={"repositoryId": target}, reason=None, event_id=None)

    def both(event_id: str, data: dict) -> tuple[tuple[bool, str | None], tuple[bool, str | None]]:
        args = {"function": FUNCTION, "event_names": ["test/job"], "event_time": before, "data": data}
        check = flow.precheck(event_id=event_id, **args)
        assert check.claimed
        flow.release_run(event_id=event_id, function=FUNCTION)
        return ((check.completed, check.cancelled),
                (history.completed(event_id=event_id, function=FUNCTION), flow.cancellation(**args)))

    assert both(done, {"repositoryId": str(uuid.uuid4())}) == ((True, None),) * 2
    assert both(fresh, {"repositoryId": target}) == ((False, "cancelled by cancel/function"),) * 2
    assert both(fresh, {"repositoryId": str(uuid.uuid4())}) == ((False, None),) * 2


def test_log_lines_carry_their_own_records_keys_when_runs_overlap(db, queues):
    # GIVEN two runs of one function in two threads at once (as the local stack runs them)
    both_in = threading.Barrier(2)

    def service(data, ctx):
        both_in.wait(10)  # each run's keys are set before either logs
        logger.info("inside the run", extra={"own_event_id": ctx.event_id})
        both_in.wait(10)

    event = make_event()
    runtime = Runtime(event, clients(db, queues), service=service)
    ids = [send(queues, event, repo_data()) for _ in range(2)]
    got: list[dict] = []
    while len(got) < 2:
        got += queues.sqs.receive_message(QueueUrl=queues.url(event.queue), MaxNumberOfMessages=2,
                                          AttributeNames=["All"], MessageAttributeNames=["All"],
                                          WaitTimeSeconds=2).get("Messages", [])
    batches = [lambda_sqs_event([m], queue_arn="arn:x", region="us-east-1") for m in got]
    # WHEN both run
    with captured_logs() as lines:
        threads = [threading.Thread(target=runtime.handle, args=(b, None)) for b in batches]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    # THEN each line names its own run's event, message and run
    inside = [json.loads(line) for line in lines if '"inside the run"' in line]
    assert sorted(line["own_event_id"] for line in inside) == sorted(ids)
    assert all(line["event_id"] == line["own_event_id"] for line in inside)
    assert {line["message_id"] for line in inside} == {m["MessageId"] for m in got}
    assert len({line["run_id"] for line in inside}) == 2


def test_two_copies_of_one_message_never_run_at_once(db, queues):
    # GIVEN two copies of one event (SQS delivers at least once, and copies may arrive together)
    started, release = threading.Event(), threading.Event()
    runs: list[str] = []

    def service(data, ctx):
        runs.append(ctx.event_id)
        started.set()
        release.wait(10)

    event = make_event()
    runtime = Runtime(event, clients(db, queues), service=service, waits=Waits((1.0, 1.0)))
    event_id, data = str(uuid.uuid4()), repo_data()
    send(queues, event, data, event_id=event_id)
    send(queues, event, data, event_id=event_id)
    got: list[dict] = []
    while len(got) < 2:
        got += queues.sqs.receive_message(QueueUrl=queues.url(event.queue), MaxNumberOfMessages=2,
                                          AttributeNames=["All"], MessageAttributeNames=["All"],
                                          WaitTimeSeconds=2).get("Messages", [])
    first, second = (lambda_sqs_event([m], queue_arn="arn:x", region="us-east-1") for m in got)
    # WHEN the second is handled while the first runs (each on its own thread and connection)
    running = threading.Thread(target=runtime.handle, args=(first, None))
    running.start()
    assert started.wait(10)
    assert runtime.handle(second, None) == {"batchItemFailures": []}
    release.set()
    running.join(15)
    # THEN the second waits its turn instead of running, and when it comes back the history skips it
    assert runs == [event_id]
    assert sorted(r["status"] for r in runs_of(db, event_id)) == ["completed", "deferred"]
    assert [r["error"] for r in runs_of(db, event_id) if r["status"] == "deferred"] == [
        "a run of this event is under way"]
    poller = poll(runtime, queues)
    try:
        assert wait_for(lambda: len(runs_of(db, event_id)) == 3, timeout=20)
    finally:
        poller.stop()
    assert sorted(r["status"] for r in runs_of(db, event_id)) == ["completed", "deferred", "skipped"]
    assert runs == [event_id]

"""Operator controls on the local stack: a failed run replayed once its fault is gone, failures since a
time replayed once, dead letters redriven, cancel, and status (also through the CLI)."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from contribsync import catalog
from contribsync.errors import ContribsyncError, NonRetriable, UnknownEvent
from contribsync.history import RunHistory
from contribsync_cli.main import main
from contribsync_local import faults
from contribsync_local.stack import LocalStack
from contribsync_ops import operations

pytestmark = pytest.mark.integration

FUNCTION = "ClassifySingleRepository"


@pytest.fixture(scope="module")
def stack(isolated_database, aws_endpoint):
    with LocalStack(database_url=isolated_database(), port=0, prefix=f"ops{uuid.uuid4().hex[:6]}", cron=False,
                    retry_base_s=1, aws_endpoint=aws_endpoint, github="sim") as running:
        yield running


@pytest.fixture
def fault(stack):
    """Every run of FUNCTION fails for good until the test clears it (``fault.on = False``)."""

    class Fault:
        on = True

        def __call__(self, ctx):
            if self.on:
                raise NonRetriable("injected fault")

    injected = Fault()
    in_place = faults.inject(stack.handlers[FUNCTION].RUNTIME, injected)
    yield injected
    in_place.remove()


def repository(stack) -> str:
    n = int(uuid.uuid4().int % 10**9)
    return str(stack.db.connection().execute(
        "INSERT INTO repositories (github_id, full_name, owner, name) VALUES (%s, %s, 'ops', %s) RETURNING id",
        (n, f"ops/r{n}", f"r{n}")).fetchone()["id"])


def runs(stack, **match) -> list[dict]:
    rows = RunHistory(stack.db).recent(function=FUNCTION, limit=200)
    return [r for r in rows if all((r["data"] or {}).get(k) == v for k, v in match.items())]


def wait(stack, predicate, timeout: float = 30.0) -> bool:
    return stack.wait_idle(timeout, until=predicate)


def classify(stack, repository_id: str) -> str:
    return stack.queues.send_event("classify/single-repository", {"repositoryId": repository_id})


def size(stack, repository_id: str) -> str | None:
    row = stack.db.connection().execute("SELECT size FROM tracked_repositories WHERE repository_id = %s",
                                        (repository_id,)).fetchone()
    return row["size"] if row else None


def drain_dlq(stack) -> None:
    dlq = stack.queues.url("classify-single-repository-dlq")
    while messages := stack.sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10).get("Messages", []):
        for m in messages:
            stack.sqs.delete_message(QueueUrl=dlq, ReceiptHandle=m["ReceiptHandle"])


def test_a_failed_run_is_replayed_with_its_data_once_the_fault_is_gone(stack, fault):
    repo = repository(stack)
    classify(stack, repo)
    assert wait(stack, lambda: any(r["status"] == "failed" for r in runs(stack, repositoryId=repo)))
    failed = next(r for r in runs(stack, repositoryId=repo) if r["status"] == "failed")
    assert size(stack, repo) is None

    fault.on = False
    sent = operations.replay(stack.db, stack.queues, run_id=str(failed["id"]))
    assert sent == [{"runId": str(failed["id"]), "function": FUNCTION, "event": "classify/single-repository",
                     "eventId": f"replay:{failed['id']}"}]
    assert wait(stack, lambda: size(stack, repo) is not None)
    replayed = [r for r in runs(stack, repositoryId=repo) if r["event_id"] == f"replay:{failed['id']}"]
    assert [r["status"] for r in replayed] == ["completed"]

    # replaying the same run again, by the 8 characters `contribsync runs` prints, is harmless: the
    # runtime skips an id that completed
    again = operations.replay(stack.db, stack.queues, run_id=str(failed["id"])[:8])
    assert [s["runId"] for s in again] == [str(failed["id"])]
    assert wait(stack, lambda: len([r for r in runs(stack, repositoryId=repo)
                                    if r["event_id"] == f"replay:{failed['id']}"]) == 2)
    again = [r["status"] for r in runs(stack, repositoryId=repo) if r["event_id"] == f"replay:{failed['id']}"]
    assert sorted(again) == ["completed", "skipped"]
    drain_dlq(stack)


def test_an_unknown_run_id_is_refused(stack):
    with pytest.raises(ContribsyncError, match="no run"):
        operations.replay(stack.db, stack.queues, run_id="ffffffff")


def test_failures_since_a_time_are_replayed_once(stack, fault):
    since = datetime.now(UTC) - timedelta(seconds=1)
    repos = [repository(stack), repository(stack)]
    for repo in repos:
        classify(stack, repo)
    assert wait(stack, lambda: all(any(r["status"] == "failed" for r in runs(stack, repositoryId=repo))
                                   for repo in repos))
    fault.on = False
    sent = operations.replay(stack.db, stack.queues, failed_since=since)
    assert sorted(s["runId"] for s in sent) == sorted(
        str(r["id"]) for repo in repos for r in runs(stack, repositoryId=repo) if r["status"] == "failed")
    assert wait(stack, lambda: all(size(stack, repo) for repo in repos))
    time.sleep(0.5)
    assert operations.replay(stack.db, stack.queues, failed_since=since) == []  # they completed as replays
    drain_dlq(stack)


def test_dead_letters_are_redriven_with_fresh_attempts(stack, fault):
    repo = repository(stack)
    event_id = classify(stack, repo)
    dlq = "classify-single-repository-dlq"
    assert wait(stack, lambda: len(stack.queues.dead_letters(dlq)) >= 1)
    assert json.loads(stack.queues.dead_letters(dlq)[0]["body"])["id"] == event_id

    fault.on = False
    assert operations.redrive(stack.queues, FUNCTION) == {FUNCTION: 1}
    assert wait(stack, lambda: size(stack, repo) is not None)

    def statuses() -> list[str]:
        return sorted(r["status"] for r in runs(stack, repositoryId=repo) if r["event_id"] == event_id)

    # the same event, run again from its first attempt (its run is recorded just after the size is stored)
    assert wait(stack, lambda: statuses() == ["completed", "failed"]), statuses()
    assert stack.queues.dead_letters(dlq) == []
    assert operations.redrive(stack.queues, FUNCTION) == {}


def test_cancel_refuses_an_unknown_event_and_sends_a_known_one(stack):
    with pytest.raises(UnknownEvent):
        operations.cancel(stack.queues, "no/such.event", {})
    event_id = operations.cancel(stack.queues, "capture/repository.sync", {"repositoryId": "x"}, "test")
    assert wait(stack, lambda: any(r["event_id"] == event_id and r["status"] == "completed"
                                   for r in RunHistory(stack.db).recent(function="CancelFunction", limit=20)))


def test_status_shows_dead_letters_and_failures_also_through_the_cli(stack, fault, capsys):
    repo = repository(stack)
    classify(stack, repo)
    assert wait(stack, lambda: len(stack.queues.dead_letters("classify-single-repository-dlq")) >= 1)
    state = operations.status(stack.db, stack.queues)
    row = next(f for f in state["functions"] if f["function"] == FUNCTION)
    assert row["deadLettered"] >= 1 and row["failedLastHour"] >= 1 and row["running"] == 0
    assert state["totals"]["deadLettered"] >= 1
    assert {f["function"] for f in state["functions"] if f["schedule"]} >= {"ScheduledWorkspaceAggregation"}

    capsys.readouterr()
    main(["status", "--json"])
    printed = json.loads(capsys.readouterr().out)
    cli_row = next(f for f in printed["functions"] if f["function"] == FUNCTION)
    assert cli_row["deadLettered"] == row["deadLettered"]
    drain_dlq(stack)


def bodies(queues, queue: str) -> list[str]:
    messages = queues.sqs.receive_message(QueueUrl=queues.url(queue), MaxNumberOfMessages=10, WaitTimeSeconds=1)
    return sorted(m["Body"] for m in messages.get("Messages", []))


def test_status_counts_both_queues_and_the_high_priority_one_apart(db, queues):
    event = catalog.by_function(FUNCTION)
    body = json.dumps({"name": event.name, "data": {"repositoryId": str(uuid.uuid4())}})
    queues.send_raw(event.queue, body)
    for _ in range(2):
        queues.send_raw(event.high_queue, body)
    state = operations.status(db, queues, function=FUNCTION)
    (row,) = state["functions"]
    assert (row["queued"], row["highQueued"]) == (3, 2)
    assert (state["totals"]["queued"], state["totals"]["highQueued"]) == (3, 2)


def test_redrive_sends_each_dead_letter_back_to_the_queue_its_priority_asks_for(queues):
    # GIVEN the function's one DLQ holding dead letters of both its queues, and one that is no event
    event = catalog.by_function(FUNCTION)
    high = json.dumps({"name": event.name, "data": {"repositoryId": str(uuid.uuid4()), "priority": "high"}})
    plain = json.dumps({"name": event.name, "data": {"repositoryId": str(uuid.uuid4()), "priority": "low"}})
    for body in (high, plain, "{not json"):
        queues.send_raw(event.dlq, body)
    # WHEN they are redriven
    assert operations.redrive(queues, FUNCTION) == {FUNCTION: 3}
    # THEN each is back where a sender would have put it
    assert bodies(queues, event.high_queue) == [high]
    assert bodies(queues, event.queue) == sorted([plain, "{not json"])

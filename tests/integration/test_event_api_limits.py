"""The event API against moto's SQS when SQS refuses part of a post, and the metrics cleanup's retention
floor on a real database."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime

import pytest

from contribsync import catalog
from contribsync.errors import PartialSend
from contribsync.event_api import EventApi
from contribsync.payloads import MIN_METRICS_RETENTION_DAYS, CleanupWorkspaceMetrics
from contribsync.queues import Queues
from contribsync.runtime import RunContext
from contribsync.services.maintenance import cleanup_workspace_metrics
from tests.fakes import clients
from tests.unit.test_event_api import KEY, url_event

pytestmark = pytest.mark.integration

NO_FUNCTION = catalog.route("capture/commits.analyze")


def received(queues: Queues, queue: str) -> list[dict]:
    bodies = []
    while messages := queues.sqs.receive_message(QueueUrl=queues.url(queue), MaxNumberOfMessages=10,
                                                 VisibilityTimeout=60).get("Messages", []):
        bodies += [json.loads(m["Body"]) for m in messages]
    return bodies


def post(queues: Queues, body: object) -> tuple[int, dict]:
    response = EventApi(clients(queues=queues, event_keys=(KEY,))).handle(url_event(json.dumps(body)), None)
    return response["statusCode"], json.loads(response["body"])


def test_sqs_refusing_the_second_batch_is_503_with_the_ten_ids_it_queued(queues):
    # GIVEN the queue of the catch-all takes messages of at most 1 KB (SQS's floor for the attribute)
    queues.sqs.set_queue_attributes(QueueUrl=queues.url(NO_FUNCTION.queue), Attributes={"MaximumMessageSize": "1024"})
    events = [{"name": "capture/commits.analyze", "data": {"n": i}} for i in range(15)]
    events[12]["data"]["note"] = "x" * 2000  # its batch (events 10-14) is refused whole
    # WHEN the 15 events are posted at once
    status, answer = post(queues, events)
    # THEN the answer is 503, with the ids of the 10 events queued and the 5 others named as not queued
    assert status == 503, answer
    assert all(answer["ids"][:10]) and answer["ids"][10:] == [None] * 5
    assert [(e["index"], e["status"]) for e in answer["errors"]] == [(i, 503) for i in range(10, 15)]
    assert "not queued" in answer["errors"][0]["error"] and "shorter than 1024" in answer["errors"][0]["error"]
    # AND exactly those 10 are on the queue
    assert sorted(b["id"] for b in received(queues, NO_FUNCTION.queue)) == sorted(answer["ids"][:10])


def test_a_missing_queue_refuses_its_events_and_the_others_are_queued(queues):
    classify = catalog.resolve("classify/single-repository")
    queues.sqs.delete_queue(QueueUrl=queues.url(classify.queue))
    events = [{"name": "classify/repository.single", "data": {"repositoryId": str(uuid.uuid4())}},
              {"name": "classify/repository.single", "data": {"repositoryId": "not-a-uuid"}},
              {"name": "capture/commits.analyze", "data": {}}]
    status, answer = post(queues, events)
    assert status == 503
    assert answer["ids"][0] is None and answer["ids"][1] is None and answer["ids"][2]
    assert {e["index"]: e["status"] for e in answer["errors"]} == {0: 503, 1: 400}
    assert [b["id"] for b in received(queues, NO_FUNCTION.queue)] == [answer["ids"][2]]


def test_send_envelopes_tries_every_batch_and_names_what_was_sent_and_refused(queues):
    queues.sqs.set_queue_attributes(QueueUrl=queues.url(NO_FUNCTION.queue), Attributes={"MaximumMessageSize": "1024"})
    envelopes = [Queues.validate({"name": "capture/commits.analyze", "data": {"x": "y" * (2000 if i < 10 else 1)}},
                                 accept_unknown=True) for i in range(25)]
    with pytest.raises(PartialSend) as raised:
        queues.send_envelopes(envelopes)
    ids = [str(e.id) for e in envelopes]
    assert raised.value.failed == ids[:10] and raised.value.sent == ids[10:]
    assert len(received(queues, NO_FUNCTION.queue)) == 15


def test_the_cleanup_keeps_30_days_whatever_the_configured_retention(isolated_db):
    # GIVEN daily metrics 2, 29, 30 and 31 days before the run, and a retention configured at 1 day
    conn = isolated_db.connection()
    ws = conn.execute("INSERT INTO workspaces (name, slug) VALUES ('floor', 'floor') RETURNING id").fetchone()["id"]
    for day in (date(2026, 2, 27), date(2026, 1, 31), date(2026, 1, 30), date(2026, 1, 29)):
        conn.execute("INSERT INTO workspace_metrics_history (workspace_id, metric_date) VALUES (%s, %s)", (ws, day))
    conn.commit()
    mine = clients(isolated_db, metrics_retention_days=1)
    event = catalog.resolve("cleanup/workspace-metrics")
    data = CleanupWorkspaceMetrics.model_validate({"scheduledAt": datetime(2026, 3, 1, 3, tzinfo=UTC)})
    # WHEN the cleanup runs
    result = cleanup_workspace_metrics(data, RunContext.outside_a_run(mine, event, {}))
    # THEN only the row older than 30 days went
    assert result["retentionDays"] == MIN_METRICS_RETENTION_DAYS and result["deleted"] == 1
    kept = {r["metric_date"] for r in isolated_db.connection().execute(
        "SELECT metric_date FROM workspace_metrics_history WHERE workspace_id = %s", (ws,))}
    assert kept == {date(2026, 2, 27), date(2026, 1, 31), date(2026, 1, 30)}

"""The webhook receiver against a real Postgres: a delivery is stored once and queued once; a
redelivery is acknowledged, not queued again; a delivery the queue refused is claimed by its redelivery."""

from __future__ import annotations

import json
import uuid

import pytest

from contribsync.webhook_receiver import WebhookReceiver, signature
from tests.fakes import RecordingQueues, clients
from tests.fixtures import WEBHOOKS

pytestmark = pytest.mark.integration

PAYLOAD = (WEBHOOKS / "pull_request" / "opened.payload.json").read_bytes()


def delivery(delivery_id: str, body: bytes = PAYLOAD, event: str = "pull_request") -> dict:
    return {"headers": {"X-GitHub-Event": event, "X-GitHub-Delivery": delivery_id,
                        "X-Hub-Signature-256": signature("s3cret", body),
                        "X-GitHub-Hook-Installation-Target-ID": "4242"},
            "body": body.decode(), "isBase64Encoded": False}


def stored(db, delivery_id: str) -> list[dict]:
    return db.connection().execute(
        "SELECT event, action, status, error, installation_target_id, repository_github_id FROM webhook_deliveries"
        " WHERE delivery_id = %s", (delivery_id,)).fetchall()


def test_a_redelivered_delivery_is_acknowledged_once_stored_once_and_queued_once(db):
    queues = RecordingQueues()
    receiver = WebhookReceiver(clients(db, queues, webhook_secrets=("old", "s3cret")))
    delivery_id = str(uuid.uuid4())
    first = receiver.handle(delivery(delivery_id), None)
    again = receiver.handle(delivery(delivery_id), None)
    assert first["statusCode"] == again["statusCode"] == 202
    assert json.loads(first["body"])["duplicate"] is False
    assert json.loads(again["body"])["duplicate"] is True
    payload = json.loads(PAYLOAD)
    [row] = stored(db, delivery_id)
    assert (row["event"], row["action"], row["installation_target_id"], row["status"]) == (
        "pull_request", "opened", 4242, "queued")
    assert row["repository_github_id"] == payload["repository"]["id"]
    assert queues.sent == [("webhook/pull_request", {"deliveryId": delivery_id, "event": "pull_request",
                                                     "action": "opened",
                                                     "repositoryGithubId": payload["repository"]["id"]},
                            f"webhook:{delivery_id}")]


def test_an_unknown_event_type_is_recorded_and_acknowledged_not_queued(db):
    queues = RecordingQueues()
    delivery_id = str(uuid.uuid4())
    body = b'{"action": "created", "sponsorship": {}}'
    receiver = WebhookReceiver(clients(db, queues, webhook_secrets=("s3cret",)))
    response = receiver.handle(delivery(delivery_id, body, "sponsorship"), None)
    assert response["statusCode"] == 202
    assert json.loads(response["body"])["handled"] is False
    assert [r["status"] for r in stored(db, delivery_id)] == ["ignored"]
    assert queues.sent == []


def test_a_delivery_the_queue_refused_is_503_and_its_redelivery_is_queued(db):
    delivery_id = str(uuid.uuid4())
    refusing = WebhookReceiver(clients(db, RecordingQueues(refuse=True), webhook_secrets=("s3cret",)))
    refused = refusing.handle(delivery(delivery_id), None)
    assert refused["statusCode"] == 503
    [row] = stored(db, delivery_id)
    assert row["status"] == "unsent" and "SQS refused" in row["error"]
    queues = RecordingQueues()
    redelivered = WebhookReceiver(clients(db, queues, webhook_secrets=("s3cret",))).handle(delivery(delivery_id), None)
    assert redelivered["statusCode"] == 202 and json.loads(redelivered["body"])["duplicate"] is False
    assert [r["status"] for r in stored(db, delivery_id)] == ["queued"]
    assert [name for name, _, _ in queues.sent] == ["webhook/pull_request"]


def test_a_repository_described_unchanged_is_not_rewritten_and_an_older_description_never_wins(db):
    from contribsync.capture.repos import rest_params

    repository = {**json.loads(PAYLOAD)["repository"], "id": 7_000_000_000 + uuid.uuid4().int % 1_000_000}
    repository["full_name"] = f"octo/{uuid.uuid4().hex[:8]}"
    repository["name"] = repository["full_name"].split("/")[1]

    def apply(**changes) -> tuple[dict, dict]:
        returned = db.query_one("repository_upsert", rest_params({**repository, **changes}))
        row = db.connection().execute("SELECT xmin::text AS version, description, last_webhook_event_at"
                                      " FROM repositories WHERE github_id = %s", (repository["id"],)).fetchone()
        return returned, row

    first, stored = apply()
    assert first["inserted"] and first["github_id"] == repository["id"]
    # the same description again: the stored row comes back as it is, no new row version
    again, unchanged = apply()
    assert (again["id"], again["inserted"]) == (first["id"], False)
    assert unchanged == stored
    # a newer description is written
    newer, changed = apply(description="now with a description", updated_at="2099-01-01T00:00:00Z")
    assert (newer["id"], changed["description"]) == (first["id"], "now with a description")
    assert changed["version"] != stored["version"]
    # an older one is not, and the stored row still comes back
    older, kept = apply(description="stale", updated_at="2001-01-01T00:00:00Z")
    assert (older["id"], older["inserted"], kept) == (first["id"], False, changed)

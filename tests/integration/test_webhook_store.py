"""The webhook receiver against a real Postgres: a redelivery is acknowledged, not stored twice."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from contribsync.webhooks import WebhookReceiver, signature

pytestmark = pytest.mark.integration

PAYLOAD = (Path(__file__).resolve().parents[3] / "shared" / "corpus" / "webhooks" / "pull_request"
           / "opened.payload.json").read_bytes()


def delivery(delivery_id: str, body: bytes = PAYLOAD, event: str = "pull_request") -> dict:
    return {"headers": {"X-GitHub-Event": event, "X-GitHub-Delivery": delivery_id,
                        "X-Hub-Signature-256": signature("s3cret", body),
                        "X-GitHub-Hook-Installation-Target-ID": "4242"},
            "body": body.decode(), "isBase64Encoded": False}


def test_a_redelivered_delivery_is_acknowledged_once_and_stored_once(db):
    receiver = WebhookReceiver(db, ("old", "s3cret"))
    delivery_id = str(uuid.uuid4())
    first = receiver.handle(delivery(delivery_id), None)
    again = receiver.handle(delivery(delivery_id), None)
    assert first["statusCode"] == again["statusCode"] == 202
    assert json.loads(first["body"])["duplicate"] is False
    assert json.loads(again["body"])["duplicate"] is True
    rows = db.connection().execute(
        "SELECT event, action, installation_target_id, repository_github_id, payload->>'action' AS a"
        " FROM webhook_deliveries WHERE delivery_id = %s", (delivery_id,)).fetchall()
    payload = json.loads(PAYLOAD)
    assert len(rows) == 1
    assert (rows[0]["event"], rows[0]["action"], rows[0]["installation_target_id"]) == ("pull_request", "opened", 4242)
    assert rows[0]["repository_github_id"] == payload["repository"]["id"]


def test_an_unknown_event_type_is_recorded_and_acknowledged(db):
    body = b'{"action": "created", "sponsorship": {}}'
    response = WebhookReceiver(db, ("s3cret",)).handle(delivery(str(uuid.uuid4()), body, "sponsorship"), None)
    assert response["statusCode"] == 202

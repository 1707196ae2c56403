"""Webhook signature checks against GitHub's published vectors, and the receiver's error answers."""

from __future__ import annotations

import json

import pytest

from contribsync.webhook_receiver import MAX_BODY_BYTES, WebhookReceiver, signature, verify
from tests.fakes import clients
from tests.fixtures import GITHUB

CORPUS = GITHUB
VECTORS = json.loads((CORPUS / "webhooks" / "signature-vectors.json").read_text())["vectors"]


def _body(vector: dict) -> bytes:
    if "payload_file" in vector:
        return (CORPUS / vector["payload_file"]).read_bytes()
    return vector["payload"].encode()


@pytest.mark.parametrize("vector", [v for v in VECTORS if v["expected_valid"] is not None], ids=lambda v: v["id"])
def test_github_signature_vectors(vector):
    header = vector["headers"].get("X-Hub-Signature-256")
    assert verify((vector["secret"],), _body(vector), header) is vector["expected_valid"]


def test_any_of_several_secrets_verifies_for_rotation():
    body = b'{"zen":"x"}'
    assert verify(("old", "new"), body, signature("new", body))
    assert not verify(("old", "other"), body, signature("new", body))
    assert not verify((), body, signature("new", body))


class NoDb:
    """Fails loudly if the receiver touches the database on a path that must not."""

    def query_one(self, *a, **k):
        raise AssertionError("no storage expected on this path")


def url_event(body: bytes, headers: dict) -> dict:
    return {"headers": headers, "body": body.decode(), "isBase64Encoded": False}


def test_unsigned_bad_json_oversized_and_ping_answers():
    receiver = WebhookReceiver(clients(NoDb(), None, webhook_secrets=("s3cret",)))
    ping = (CORPUS / "webhooks" / "ping" / "payload.json").read_bytes()
    ok = {"x-github-event": "ping", "x-github-delivery": "d1", "x-hub-signature-256": signature("s3cret", ping)}
    assert receiver.handle(url_event(ping, ok), None)["statusCode"] == 200
    assert receiver.handle(url_event(ping, {**ok, "x-hub-signature-256": "sha256=00"}), None)["statusCode"] == 401
    assert receiver.handle(url_event(ping, {"x-github-event": "ping"}), None)["statusCode"] == 401
    junk = b"not json"
    assert receiver.handle(url_event(junk, {**ok, "x-hub-signature-256": signature("s3cret", junk)}),
                           None)["statusCode"] == 400
    huge = b"x" * (MAX_BODY_BYTES + 1)
    assert receiver.handle(url_event(huge, ok), None)["statusCode"] == 413


def test_a_storage_failure_is_503_never_500():
    from contribsync.errors import StoreError

    class DownDb:
        def query_one(self, *a, **k):
            raise StoreError("connection refused")

    receiver = WebhookReceiver(clients(DownDb(), None, webhook_secrets=("s",)))
    body = (CORPUS / "webhooks" / "pull_request" / "opened.payload.json").read_bytes()
    headers = {"x-github-event": "pull_request", "x-github-delivery": "d2", "x-hub-signature-256": signature("s", body)}
    response = receiver.handle(url_event(body, headers), None)
    assert response["statusCode"] == 503
    assert "redeliver" in json.loads(response["body"])["error"]

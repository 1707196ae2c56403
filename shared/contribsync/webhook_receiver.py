"""The GitHub webhook receiver (a Function URL Lambda; ``/webhook`` on ``contribsync dev``).

It verifies ``X-Hub-Signature-256`` (HMAC-SHA256 over the raw body, compared in constant time,
against every configured secret so secrets can be rotated), stores the delivery once per
``X-GitHub-Delivery`` (the table is the idempotency record: a redelivery is acknowledged, not
processed again) and puts ``webhook/<X-GitHub-Event>`` with the delivery's id on the queue of the
function that handles that event type, then answers 202. The payload stays in Postgres, so a
delivery of any size fits an SQS message. ``ping`` answers 200; an event type no function handles is
recorded as ``ignored`` and acknowledged. Everything after the signature check is
``webhook_intake.WebhookIntake``, which ``reconcile/webhook-deliveries`` also uses for a delivery that
never got here: the Function URL refuses a request over 6 MB with 413 before this code runs, and the
reconciler reads such a delivery from GitHub's delivery log instead.

No error path answers 500: a bad signature is 401, an oversized body 413, a body that is not JSON
400, a storage or queue failure 503 (GitHub then shows the delivery as failed; its redelivery, or
the hourly reconciler's, claims the stored delivery again). A 503 is only for failures that a
redelivery can outlast: a body that is not base64 when it says it is, or JSON that ``jsonb`` refuses
though Python's ``json`` reads it (NaN, a byte order mark, UTF-16, an unpaired ``\\ud800``), is a 400.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit

from contribsync.observability import logger, metrics
from contribsync.webhook_intake import MAX_HEADER_CHARS, WEBHOOK_EVENT_PREFIX, WebhookIntake, handled_events

if TYPE_CHECKING:
    from collections.abc import Mapping

    from aws_lambda_powertools.utilities.typing import LambdaContext

    from contribsync.clients import Clients
    from contribsync.webhook_intake import Intake

MAX_BODY_BYTES = 25 * 1024 * 1024  # GitHub caps payloads at 25 MB


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secrets: tuple[str, ...], body: bytes, header: str | None) -> bool:
    """True when ``header`` is the HMAC of ``body`` under any of ``secrets`` (constant-time compare)."""
    if not header or not secrets:
        return False
    return any(hmac.compare_digest(signature(s, body).encode(), header.encode()) for s in secrets)


def _response(status: int, body: Mapping[str, Any]) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"content-type": "application/json"}, "body": json.dumps(body)}


# The answers that say the same whatever the delivery: 400 for what fails on every redelivery, 503 for
# what a redelivery may outlast.
_FIXED_ANSWERS: dict[str, tuple[int, dict[str, str]]] = {
    "not_json": (400, {"error": "body is not JSON"}),
    "not_stored": (503, {"error": "could not record the delivery; redeliver it"}),
    "not_queued": (503, {"error": "could not queue the delivery; redeliver it"}),
}


def _answer(intake: Intake) -> dict[str, Any]:
    """The receiver's answer for what became of a delivery."""
    if fixed := _FIXED_ANSWERS.get(intake.outcome):
        return _response(*fixed)
    if intake.outcome == "invalid":
        return _response(400, intake.detail)
    if intake.outcome == "ping":
        return _response(200, {"ok": True, **intake.detail})
    if intake.outcome == "duplicate":
        return _response(202, {"delivery": intake.delivery, "duplicate": True})
    return _response(202, {"delivery": intake.delivery, "duplicate": False, "handled": intake.outcome == "queued"})


class WebhookReceiver:
    """Answers GitHub's deliveries with ``clients``' database and queues, under ``settings.webhook_secrets``."""

    def __init__(self, clients: Clients) -> None:
        self.clients = clients
        self.intake = WebhookIntake(clients)
        self.handled = self.intake.handled

    def close(self) -> None:
        self.clients.close()

    def handle(self, event: Mapping[str, Any], context: LambdaContext | None) -> dict[str, Any]:
        metrics.add_metric(name="WebhookRequests", unit=MetricUnit.Count, value=1)
        try:
            return self._handle(event)
        except Exception:  # never a 500: GitHub retries nothing by itself, so say "redeliver"
            logger.exception("webhook receiver error")
            return _response(503, {"error": "internal error; redeliver the delivery"})

    def _handle(self, event: Mapping[str, Any]) -> dict[str, Any]:
        headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
        raw = event.get("body") or ""
        try:
            body = base64.b64decode(raw) if event.get("isBase64Encoded") else str(raw).encode()
        except ValueError:  # binascii.Error: the same body fails the same way on every redelivery
            return _response(400, {"error": "body is not base64"})
        if (refusal := self._refusal(body, headers)) is not None:
            return refusal
        return _answer(self.intake.take(headers, body))

    def _refusal(self, body: bytes, headers: Mapping[str, str]) -> dict[str, Any] | None:
        """413 for a body over GitHub's cap, 401 for one no configured secret signed; else None."""
        if len(body) > MAX_BODY_BYTES:
            return _response(413, {"error": "payload over 25 MB"})
        if not verify(self.clients.settings.webhook_secrets, body, headers.get("x-hub-signature-256")):
            logger.warning("webhook signature rejected", extra={"delivery": headers.get("x-github-delivery")})
            return _response(401, {"error": "missing or invalid X-Hub-Signature-256"})
        return None


__all__ = ["MAX_BODY_BYTES", "MAX_HEADER_CHARS", "WEBHOOK_EVENT_PREFIX", "WebhookReceiver", "handled_events",
           "signature", "verify"]

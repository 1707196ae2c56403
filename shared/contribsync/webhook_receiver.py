"""The GitHub webhook receiver (a Function URL Lambda; ``/webhook`` on ``contribsync dev``).

It verifies ``X-Hub-Signature-256`` (HMAC-SHA256 over the raw body, compared in constant time,
against every configured secret so secrets can be rotated), stores the delivery once per
``X-GitHub-Delivery`` (the table is the idempotency record: a redelivery is acknowledged, not
processed again) and puts ``webhook/<X-GitHub-Event>`` with the delivery's id on the queue of the
function that handles that event type, then answers 202. The payload stays in Postgres, so a
delivery of any size fits an SQS message. ``ping`` answers 200; an event type no function handles is
recorded as ``ignored`` and acknowledged.

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
import re
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit

from contribsync.errors import StoreError
from contribsync.observability import logger, metrics

if TYPE_CHECKING:
    from collections.abc import Mapping

    from aws_lambda_powertools.utilities.typing import LambdaContext

    from contribsync.clients import Clients

MAX_BODY_BYTES = 25 * 1024 * 1024  # GitHub caps payloads at 25 MB
MAX_HEADER_CHARS = 100
WEBHOOK_EVENT_PREFIX = "webhook/"
# A ``\u0000`` escape, unless its backslash is itself escaped (``\\u0000`` is the text "\u0000").
_NUL_ESCAPE = re.compile(r"(?<!\\)((?:\\\\)*)\\u0000")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secrets: tuple[str, ...], body: bytes, header: str | None) -> bool:
    """True when ``header`` is the HMAC of ``body`` under any of ``secrets`` (constant-time compare)."""
    if not header or not secrets:
        return False
    return any(hmac.compare_digest(signature(s, body).encode(), header.encode()) for s in secrets)


def _response(status: int, body: Mapping[str, Any]) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"content-type": "application/json"}, "body": json.dumps(body)}


def handled_events() -> frozenset[str]:
    """GitHub event types that some function handles (catalog names ``webhook/<type>``)."""
    from contribsync import catalog

    return frozenset(name.removeprefix(WEBHOOK_EVENT_PREFIX) for name in catalog.names()
                     if name.startswith(WEBHOOK_EVENT_PREFIX))


class WebhookReceiver:
    """Answers GitHub's deliveries with ``clients``' database and queues, under ``settings.webhook_secrets``."""

    def __init__(self, clients: Clients) -> None:
        self.clients = clients
        self.handled = handled_events()

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
        try:
            text, payload = _parse(body)
        except (ValueError, RecursionError):  # RecursionError: nesting deeper than the parser allows
            return _response(400, {"error": "body is not JSON"})
        if (problem := _header_problem(headers, payload)) is not None:
            return _response(400, {"error": problem})
        name, delivery = headers["x-github-event"], headers["x-github-delivery"]
        if name == "ping":
            return _response(200, {"ok": True, "zen": payload.get("zen"), "hook_id": payload.get("hook_id")})
        return self._store(name, delivery, headers, payload, text)

    def _refusal(self, body: bytes, headers: Mapping[str, str]) -> dict[str, Any] | None:
        """413 for a body over GitHub's cap, 401 for one no configured secret signed; else None."""
        if len(body) > MAX_BODY_BYTES:
            return _response(413, {"error": "payload over 25 MB"})
        if not verify(self.clients.settings.webhook_secrets, body, headers.get("x-hub-signature-256")):
            logger.warning("webhook signature rejected", extra={"delivery": headers.get("x-github-delivery")})
            return _response(401, {"error": "missing or invalid X-Hub-Signature-256"})
        return None

    def _store(self, name: str, delivery: str, headers: Mapping[str, str], payload: dict[str, Any],
               text: str) -> dict[str, Any]:
        target = headers.get("x-github-hook-installation-target-id")
        repository = payload.get("repository")
        repo: dict[str, Any] = repository if isinstance(repository, dict) else {}
        repo_id = _bigint(repo.get("id"))
        handled = name in self.handled
        log = {"delivery": delivery, "event": name, "action": payload.get("action")}
        try:
            stored = self.clients.db.query_one("webhook_delivery_insert", {
                "delivery_id": delivery, "event": name, "action": _text(payload.get("action")),
                "installation_target_id": _bigint(target),
                "repository_github_id": repo_id,
                "payload": text,
                "status": "queued" if handled else "ignored",
            })
        except StoreError:
            logger.exception("webhook delivery not stored", extra=log)
            return _response(503, {"error": "could not record the delivery; redeliver it"})
        if stored is None:
            logger.info("duplicate webhook delivery", extra=log)
            return _response(202, {"delivery": delivery, "duplicate": True})
        if not handled:
            logger.info("webhook delivery recorded; no function handles its event type", extra=log)
            return _response(202, {"delivery": delivery, "duplicate": False, "handled": False})
        try:
            self.clients.queues.send_event(f"{WEBHOOK_EVENT_PREFIX}{name}", {
                "deliveryId": delivery, "event": name, "action": _text(payload.get("action")),
                "repositoryGithubId": repo_id}, id=f"webhook:{delivery}")
        except Exception as exc:  # the queue refused it: GitHub must redeliver, and the row must let it
            logger.exception("webhook delivery not queued", extra=log)
            self.clients.db.query("webhook_delivery_unsent", {"delivery_id": delivery,
                                                            "error": self.clients.mask(str(exc))[:2000]})
            return _response(503, {"error": "could not queue the delivery; redeliver it"})
        metrics.add_metric(name="WebhookDeliveriesQueued", unit=MetricUnit.Count, value=1)
        logger.info("webhook delivery queued", extra=log)
        return _response(202, {"delivery": delivery, "duplicate": False, "handled": True})


def _parse(body: bytes) -> tuple[str, Any]:
    """The body as the text to store in ``jsonb``, and its payload; ValueError for what ``jsonb`` refuses.

    ``json.loads(bytes)`` would also read UTF-16, UTF-32 and a byte order mark, and ``json.loads`` takes
    NaN, Infinity and unpaired surrogate escapes: Postgres refuses each, on every redelivery. jsonb also
    refuses ``\\u0000``, which GitHub sends for a NUL in a text: that one is dropped, not refused.
    """
    text = body.decode()  # GitHub sends UTF-8
    payload = json.loads(text, parse_constant=_not_json)
    if _SURROGATE_ESCAPE.search(text):  # json.loads joins a pair and keeps an unpaired one, which can't encode
        json.dumps(payload, ensure_ascii=False).encode()
    if "\\u0000" in text:
        text = _NUL_ESCAPE.sub(r"\1", text)
    return text, payload


def _not_json(constant: str) -> None:
    raise ValueError(f"{constant} is not JSON")


def _header_problem(headers: Mapping[str, str], payload: object) -> str | None:
    name, delivery = headers.get("x-github-event", ""), headers.get("x-github-delivery", "")
    if not name or not delivery or not isinstance(payload, dict):
        return "X-GitHub-Event and X-GitHub-Delivery are required, and the body must be a JSON object"
    if len(delivery) > MAX_HEADER_CHARS or len(name) > MAX_HEADER_CHARS:  # GitHub's: a UUID and a short word
        return "X-GitHub-Event or X-GitHub-Delivery is too long"
    return None


def _bigint(value: object) -> int | None:
    """A GitHub id that fits Postgres' bigint, else None (headers carry ids as text)."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= MAX_HEADER_CHARS:
        value = int(value)  # bounded: int() refuses more than 4300 digits
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**63 else None


def _text(value: object) -> str | None:
    return value.replace("\x00", "") if isinstance(value, str) else None  # text columns refuse NUL too


__all__ = ["MAX_BODY_BYTES", "WEBHOOK_EVENT_PREFIX", "WebhookReceiver", "handled_events", "signature", "verify"]

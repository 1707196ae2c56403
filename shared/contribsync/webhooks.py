"""The GitHub webhook receiver (a Function URL Lambda; ``/webhook`` on ``contribsync dev``).

It verifies ``X-Hub-Signature-256`` (HMAC-SHA256 over the raw body, compared in constant time,
against every configured secret so secrets can be rotated), then stores the delivery once per
``X-GitHub-Delivery`` and answers quickly. No error path answers 500: a bad signature is 401, an
oversized body 413, a body that is not JSON 400, a storage failure 503 (GitHub then shows the
delivery as failed and it can be redelivered).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit

from contribsync.errors import StoreError
from contribsync.observability import logger, metrics

if TYPE_CHECKING:
    from collections.abc import Mapping

    from aws_lambda_powertools.utilities.typing import LambdaContext

    from contribsync.db import Database

MAX_BODY_BYTES = 25 * 1024 * 1024  # GitHub caps payloads at 25 MB
# Event types whose incremental handlers are wired; others are stored as "ignored" (issue 6 adds more).
HANDLED_EVENTS: frozenset[str] = frozenset()


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secrets: tuple[str, ...], body: bytes, header: str | None) -> bool:
    """True when ``header`` is the HMAC of ``body`` under any of ``secrets`` (constant-time compare)."""
    if not header or not secrets:
        return False
    return any(hmac.compare_digest(signature(s, body).encode(), header.encode()) for s in secrets)


def _response(status: int, body: Mapping[str, Any]) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"content-type": "application/json"}, "body": json.dumps(body)}


class WebhookReceiver:
    def __init__(self, db: Database | None, secrets: tuple[str, ...]) -> None:
        self._db = db
        self.secrets = secrets
        self._lock = threading.Lock()  # the local HTTP server answers deliveries in several threads

    @classmethod
    def from_env(cls) -> WebhookReceiver:
        from contribsync.settings import Settings

        return cls(None, Settings.from_env().webhook_secrets)

    @property
    def db(self) -> Database:
        with self._lock:
            if self._db is None:
                from contribsync.db import Database
                from contribsync.settings import Settings

                self._db = Database(Settings.from_env().database_url, application_name="contribsync-webhooks")
            return self._db

    def close(self) -> None:
        if self._db is not None:
            self._db.close()

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
        body = base64.b64decode(raw) if event.get("isBase64Encoded") else str(raw).encode()
        if len(body) > MAX_BODY_BYTES:
            return _response(413, {"error": "payload over 25 MB"})
        if not verify(self.secrets, body, headers.get("x-hub-signature-256")):
            logger.warning("webhook signature rejected", extra={"delivery": headers.get("x-github-delivery")})
            return _response(401, {"error": "missing or invalid X-Hub-Signature-256"})
        try:
            payload = json.loads(body)
        except ValueError:
            return _response(400, {"error": "body is not JSON"})
        name = headers.get("x-github-event", "")
        delivery = headers.get("x-github-delivery", "")
        if not name or not delivery or not isinstance(payload, dict):
            return _response(400, {"error": "X-GitHub-Event and X-GitHub-Delivery are required"})
        if name == "ping":
            return _response(200, {"ok": True, "zen": payload.get("zen"), "hook_id": payload.get("hook_id")})
        return self._store(name, delivery, headers, payload, body)

    def _store(self, name: str, delivery: str, headers: Mapping[str, str], payload: dict[str, Any],
               body: bytes) -> dict[str, Any]:
        target = headers.get("x-github-hook-installation-target-id")
        repository = payload.get("repository")
        repo: dict[str, Any] = repository if isinstance(repository, dict) else {}
        try:
            stored = self.db.query_one("webhook_delivery_insert", {
                "delivery_id": delivery, "event": name, "action": payload.get("action"),
                "installation_target_id": int(target) if target and target.isdigit() else None,
                "repository_github_id": repo.get("id"), "payload": body.decode("utf-8", "replace"),
                "status": "received" if name in HANDLED_EVENTS else "ignored",
            })
        except StoreError:
            logger.exception("webhook delivery not stored", extra={"delivery": delivery, "event": name})
            return _response(503, {"error": "could not record the delivery; redeliver it"})
        if stored is None:
            logger.info("duplicate webhook delivery", extra={"delivery": delivery, "event": name})
            return _response(202, {"delivery": delivery, "duplicate": True})
        logger.info("webhook delivery accepted", extra={"delivery": delivery, "event": name,
                                                        "action": payload.get("action")})
        return _response(202, {"delivery": delivery, "duplicate": False})


__all__ = ["MAX_BODY_BYTES", "WebhookReceiver", "signature", "verify"]

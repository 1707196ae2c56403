"""What happens to a GitHub webhook delivery once it is known to come from GitHub: parse it, store it once
per ``X-GitHub-Delivery`` in ``webhook_deliveries`` (the idempotency record) and put
``webhook/<X-GitHub-Event>`` with the delivery's id on the queue of the function that handles it.

Two callers, one path: the receiver (``webhook_receiver``), after it verified the signature, and
``reconcile/webhook-deliveries``, for a delivery that never reached the receiver (refused at the
Function URL's 6 MB door) and that it read from GitHub's delivery log. Only the delivery's id travels on
SQS: the payload stays in Postgres, so a delivery of any size fits a 256 KB message.

The outcome is named, not an HTTP status: the receiver turns it into its answer, the reconciler into
its counts.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from aws_lambda_powertools.metrics import MetricUnit

from contribsync.errors import StoreError
from contribsync.observability import logger, metrics

if TYPE_CHECKING:
    from collections.abc import Mapping

    from contribsync.clients import Clients

MAX_HEADER_CHARS = 100
WEBHOOK_EVENT_PREFIX = "webhook/"
# A ``\u0000`` escape, unless its backslash is itself escaped (``\\u0000`` is the text "\u0000").
_NUL_ESCAPE = re.compile(r"(?<!\\)((?:\\\\)*)\\u0000")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")

Outcome = Literal["queued", "ignored", "duplicate", "ping", "not_json", "invalid", "not_stored", "not_queued"]


@dataclass(frozen=True)
class Intake:
    """What became of one delivery: ``queued`` (stored and on its function's queue), ``ignored`` (stored;
    no function handles its type), ``duplicate`` (stored before), ``ping``; ``not_json`` and ``invalid``
    (the same on every redelivery); ``not_stored`` and ``not_queued`` (a redelivery may outlast them)."""

    outcome: Outcome
    delivery: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def recorded(self) -> bool:
        """True when ``webhook_deliveries`` holds the delivery and it needs nothing more from GitHub."""
        return self.outcome in ("queued", "ignored", "duplicate")


def handled_events() -> frozenset[str]:
    """GitHub event types that some function handles (catalog names ``webhook/<type>``)."""
    from contribsync import catalog

    return frozenset(name.removeprefix(WEBHOOK_EVENT_PREFIX) for name in catalog.names()
                     if name.startswith(WEBHOOK_EVENT_PREFIX))


class WebhookIntake:
    """Takes in deliveries with ``clients``' database and queues. The caller vouches for where the
    delivery came from: nothing here checks a signature."""

    def __init__(self, clients: Clients) -> None:
        self.clients = clients
        self.handled = handled_events()

    def take(self, headers: Mapping[str, str], body: bytes) -> Intake:
        """Take one delivery: ``headers`` with lower-case names, ``body`` the payload's bytes."""
        try:
            text, payload = _parse(body)
        except (ValueError, RecursionError):  # RecursionError: nesting deeper than the parser allows
            return Intake("not_json")
        if (problem := _header_problem(headers, payload)) is not None:
            return Intake("invalid", detail={"error": problem})
        name, delivery = headers["x-github-event"], headers["x-github-delivery"]
        if name == "ping":
            return Intake("ping", delivery, {"zen": payload.get("zen"), "hook_id": payload.get("hook_id")})
        return self._store(name, delivery, headers, payload, text)

    def _store(self, name: str, delivery: str, headers: Mapping[str, str], payload: dict[str, Any],
               text: str) -> Intake:
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
                "received_at": self.clients.clock.now(),
            })
        except StoreError:
            logger.exception("webhook delivery not stored", extra=log)
            return Intake("not_stored", delivery)
        if stored is None:
            logger.info("duplicate webhook delivery", extra=log)
            return Intake("duplicate", delivery)
        if not handled:
            logger.info("webhook delivery recorded; no function handles its event type", extra=log)
            return Intake("ignored", delivery)
        try:
            self.clients.queues.send_event(f"{WEBHOOK_EVENT_PREFIX}{name}", {
                "deliveryId": delivery, "event": name, "action": _text(payload.get("action")),
                "repositoryGithubId": repo_id}, id=f"webhook:{delivery}")
        except Exception as exc:  # the queue refused it: GitHub must redeliver, and the row must let it
            logger.exception("webhook delivery not queued", extra=log)
            self.clients.db.query("webhook_delivery_unsent",
                                  {"delivery_id": delivery, "error": self.clients.mask(str(exc))[:2000]})
            return Intake("not_queued", delivery)
        metrics.add_metric(name="WebhookDeliveriesQueued", unit=MetricUnit.Count, value=1)
        logger.info("webhook delivery queued", extra=log)
        return Intake("queued", delivery)


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


__all__ = ["MAX_HEADER_CHARS", "WEBHOOK_EVENT_PREFIX", "Intake", "WebhookIntake", "handled_events"]

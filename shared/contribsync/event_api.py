"""The Inngest-compatible event API: ``POST /e/{event_key}`` with one event or a list, and
``POST /v1/events`` with ``Authorization: Bearer <event_key>`` (the seeds' form).

Existing senders of contributor.info's events change only the base URL. Answers ``{"ids": [...],
"status": 200}`` like Inngest. What else it answers:

- 401: a wrong key. The keys are ``CONTRIBSYNC_EVENT_KEYS``; one shorter than ``MIN_EVENT_KEY_LENGTH``
  is never accepted, and with no usable key the API serves nothing (``ConfigurationError`` on every
  request, which fails the invocation). The local stack's public key ``contributor-info`` is accepted only
  in the local stack (``Settings.local_stack``) and only from a loopback address.
- 400: a body that is not UTF-8 JSON (bad base64, invalid UTF-8, nesting deeper than the parser allows),
  or no event in it. 413: a body over Inngest's 512 KB.
- Per event, without refusing the others of a list: its place in ``ids`` is null and ``errors`` gives
  its index, reason and status: 400 for an event that does not validate (GitHub's name rules included),
  403 for one senders may not post (``catalog.sendable``: internal and destructive events, and a
  ``cancel/function`` aimed at a function that runs only internal events). The request
  is 400 (403 when every refusal is a 403) only when no event of it is valid.
- 503: SQS refused some events after others were queued. ``ids`` holds the ids that were queued (null
  for the others), ``errors`` says which were not, with status 503; resend those only.

A name no function handles is accepted, as Inngest accepts it, and recorded in the run history by
``NoFunction``.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import LambdaFunctionUrlResolver, Response, content_types
from aws_lambda_powertools.metrics import MetricUnit
from pydantic import ValidationError

from contribsync import catalog
from contribsync.errors import ConfigurationError, NonRetriable, PartialSend, UnknownEvent
from contribsync.observability import logger, metrics
from contribsync.payloads import CancelFunction
from contribsync.queues import Queues
from contribsync.settings import LOCAL_EVENT_KEY, MIN_EVENT_KEY_LENGTH

if TYPE_CHECKING:
    from collections.abc import Mapping

    from aws_lambda_powertools.utilities.typing import LambdaContext

    from contribsync.clients import Clients
    from contribsync.envelope import EventEnvelope
    from contribsync.settings import Settings

MAX_BODY_BYTES = 512 * 1024  # Inngest's own limit for one request
MAX_EVENTS = 5_000


def _json_response(status: int, body: Mapping[str, Any]) -> Response[str]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=json.dumps(body))


def _error(status: int, message: str, **more: object) -> Response[str]:
    return _json_response(status, {"error": message, **more, "status": status})


def usable_event_keys(settings: Settings) -> tuple[str, ...]:
    """The configured event keys the API accepts: those of ``MIN_EVENT_KEY_LENGTH`` characters or more.
    ``ConfigurationError`` when there is none, outside the local stack."""
    keys = tuple(k for k in settings.event_keys if len(k) >= MIN_EVENT_KEY_LENGTH)
    if len(keys) < len(settings.event_keys):
        logger.warning("event keys too short, never accepted",
                       extra={"ignored": len(settings.event_keys) - len(keys), "min_length": MIN_EVENT_KEY_LENGTH})
    if not keys and not settings.local_stack:
        raise ConfigurationError(
            "CONTRIBSYNC_EVENT_KEYS (or CONTRIBSYNC_EVENT_KEYS_PARAMETER / _SECRET) holds no usable event key: "
            f"set at least one key of {MIN_EVENT_KEY_LENGTH} characters or more (comma-separated); the event "
            "API serves nothing without one")
    return keys


def _loopback(source_ip: str | None) -> bool:
    try:
        return source_ip is not None and ipaddress.ip_address(source_ip).is_loopback
    except ValueError:
        return False


def _refused(raw: Mapping[str, Any]) -> tuple[HTTPStatus, str] | None:
    """The status and reason senders may not post this event with, or None. 403: its name is internal
    (``catalog.sendable``), or it is a ``cancel/function`` aimed at a function that runs only internal events
    (contribsync's own to cancel). 400: a cancel/function aimed at a name no function handles (its function
    would dead-letter it)."""
    name = raw.get("name")
    if not isinstance(name, str):
        return None  # Queues.validate says what is wrong with it
    if not catalog.sendable(name):
        return HTTPStatus.FORBIDDEN, f"event {name[:200]!r} is internal: senders may not post it"
    if catalog.route(name).model is CancelFunction:
        try:
            target = catalog.cancel_target(CancelFunction.model_validate(raw.get("data") or {}))
        except ValidationError:
            return None  # refused with its reason by Queues.validate
        except UnknownEvent as exc:
            return HTTPStatus.BAD_REQUEST, f"{name}: {exc}"
        if not target.sendable_names:
            return HTTPStatus.FORBIDDEN, f"{target.function} runs only internal events: senders may not cancel them"
    return None


class _BadBody(Exception):
    """The request's body is not what the API takes: answered with ``status`` and the message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class EventApi:
    """Routes ``/e/{key}`` requests to ``Queues.send_envelopes``, under the usable ``settings.event_keys``."""

    def __init__(self, clients: Clients) -> None:
        self.clients = clients
        self._keys: tuple[str, ...] | None = None
        self.app = LambdaFunctionUrlResolver()
        self.app.post("/e/<key>")(self._send)
        self.app.post("/v1/events")(self._send_bearer)

    def close(self) -> None:
        self.clients.close()

    def keys(self) -> tuple[str, ...]:
        """The keys accepted (``usable_event_keys``), read with the settings on the first request."""
        if self._keys is None:
            self._keys = usable_event_keys(self.clients.settings)
        return self._keys

    def handle(self, event: Mapping[str, Any], context: LambdaContext | None) -> dict[str, Any]:
        self.keys()  # with no usable key every request fails here, loudly (ConfigurationError), unserved
        metrics.add_metric(name="EventApiRequests", unit=MetricUnit.Count, value=1)
        return self.app.resolve(dict(event), context)  # type: ignore[arg-type]

    def authorised(self, key: str, *, source_ip: str | None = None) -> bool:
        """A configured key, or the local stack's public one from a loopback address."""
        given = key.encode()
        if any(hmac.compare_digest(given, k.encode()) for k in self.keys()):
            return True
        return (self.clients.settings.local_stack and hmac.compare_digest(given, LOCAL_EVENT_KEY.encode())
                and _loopback(source_ip))

    def _send_bearer(self) -> Response[str]:
        scheme, _, key = (self.app.current_event.headers.get("authorization") or "").partition(" ")
        return self._send(key.strip() if scheme.lower() == "bearer" else "")

    def _send(self, key: str) -> Response[str]:
        if not self.authorised(key, source_ip=self.app.current_event.request_context.http.source_ip):
            logger.warning("event key rejected")
            return _error(401, "Event key not found")
        try:
            events = self._events()
        except _BadBody as exc:
            return _error(exc.status, str(exc))
        envelopes, errors = self._validated(events)
        if not envelopes:
            forbidden = all(e["status"] == HTTPStatus.FORBIDDEN for e in errors)
            status = HTTPStatus.FORBIDDEN if forbidden else HTTPStatus.BAD_REQUEST
            error = errors[0]["error"] if len(errors) == 1 else f"no valid event: {errors[0]['error']}"
            return _error(status, error, errors=errors)
        valid = [e for e in envelopes if e is not None]
        refused: dict[str, str] = {}  # event id -> why SQS refused it
        try:
            self.clients.queues.send_envelopes(valid)
        except PartialSend as exc:
            refused = exc.reasons
            logger.error("events not queued", extra={"refused": len(exc.failed), "queued": len(exc.sent)})
        ids = [str(e.id) if e is not None and str(e.id) not in refused else None for e in envelopes]
        accepted = sum(1 for i in ids if i is not None)
        metrics.add_metric(name="EventsAccepted", unit=MetricUnit.Count, value=accepted)
        logger.info("events accepted", extra={"count": accepted, "names": sorted({e.name for e in valid})})
        if refused:
            metrics.add_metric(name="EventsNotQueued", unit=MetricUnit.Count, value=len(refused))
            errors += [{"index": index, "error": f"not queued: {refused[str(e.id)]}", "status": 503}
                       for index, e in enumerate(envelopes) if e is not None and str(e.id) in refused]
            errors.sort(key=lambda error: error["index"])
            return _error(503, f"SQS refused {len(refused)} of {len(valid)} event(s); those with an id were "
                               "queued, resend the others", ids=ids, errors=errors)
        return _json_response(200, {"ids": ids, "status": 200, **({"errors": errors} if errors else {})})

    def _events(self) -> list[Any]:
        """The request's events, or ``_BadBody``: whatever the body holds, never an exception of its own."""
        try:
            raw = self.app.current_event.decoded_body or ""
            size = len(raw.encode())
        except ValueError as exc:  # bad base64 (binascii.Error), invalid UTF-8, an unpaired surrogate
            raise _BadBody(400, "body is not UTF-8 text") from exc
        if size > MAX_BODY_BYTES:
            raise _BadBody(413, f"body over {MAX_BODY_BYTES} bytes")
        try:
            payload = json.loads(raw)
        except (ValueError, RecursionError) as exc:  # RecursionError: nesting deeper than the parser allows
            raise _BadBody(400, "body is not JSON") from exc
        events = payload if isinstance(payload, list) else [payload]
        if not events or len(events) > MAX_EVENTS:
            raise _BadBody(400, "send an event object or a list of them")
        return events

    @staticmethod
    def _validated(events: list[Any]) -> tuple[list[EventEnvelope | None], list[dict[str, Any]]]:
        """Each event validated on its own: its envelope, or None and an entry in the errors (400 for an
        invalid event, 403 for one senders may not post)."""
        envelopes: list[EventEnvelope | None] = []
        errors: list[dict[str, Any]] = []
        for index, raw in enumerate(events):
            try:
                if not isinstance(raw, dict):
                    raise NonRetriable("an event is an object with a name and data")
                if refusal := _refused(raw):
                    errors.append({"index": index, "status": refusal[0], "error": refusal[1]})
                    envelopes.append(None)
                    continue
                envelopes.append(Queues.validate(raw, accept_unknown=True))
            except NonRetriable as exc:
                envelopes.append(None)
                errors.append({"index": index, "status": HTTPStatus.BAD_REQUEST, "error": str(exc)[:1000]})
        for error in errors:
            logger.warning("event refused", extra={"index": error["index"], "status": error["status"],
                                                   "error": error["error"][:500]})
        if errors:
            metrics.add_metric(name="EventsRefused", unit=MetricUnit.Count, value=len(errors))
        return (envelopes if any(e is not None for e in envelopes) else []), errors


__all__ = ["EventApi", "usable_event_keys"]

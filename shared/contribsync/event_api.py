"""The Inngest-compatible event API: ``POST /e/{event_key}`` with one event or a list, and
``POST /v1/events`` with ``Authorization: Bearer <event_key>`` (the seeds' form).

Existing senders of contributor.info's events change only the base URL. Answers ``{"ids": [...],
"status": 200}`` like Inngest. A name no function handles is accepted, as Inngest accepts it, and
recorded in the run history by ``NoFunction``. A wrong key is 401; a body that is not JSON is 400.
One event of a list that does not validate never refuses the others: they are sent, its place in
``ids`` is null, and ``errors`` says why (400 when no event of the request is valid).
"""

from __future__ import annotations

import hmac
import json
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import LambdaFunctionUrlResolver, Response, content_types
from aws_lambda_powertools.metrics import MetricUnit

from contribsync.errors import NonRetriable
from contribsync.observability import logger, metrics
from contribsync.queues import Queues

if TYPE_CHECKING:
    from collections.abc import Mapping

    from aws_lambda_powertools.utilities.typing import LambdaContext

    from contribsync.clients import Clients
    from contribsync.envelope import EventEnvelope

MAX_BODY_BYTES = 512 * 1024  # Inngest's own limit for one request
MAX_EVENTS = 5_000


def _json_response(status: int, body: Mapping[str, Any]) -> Response[str]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=json.dumps(body))


class EventApi:
    """Routes ``/e/{key}`` requests to ``Queues.send_events``, under ``settings.event_keys``."""

    def __init__(self, clients: Clients) -> None:
        self.clients = clients
        self.app = LambdaFunctionUrlResolver()
        self.app.post("/e/<key>")(self._send)
        self.app.post("/v1/events")(self._send_bearer)

    def close(self) -> None:
        self.clients.close()

    def handle(self, event: Mapping[str, Any], context: LambdaContext | None) -> dict[str, Any]:
        metrics.add_metric(name="EventApiRequests", unit=MetricUnit.Count, value=1)
        return self.app.resolve(dict(event), context)  # type: ignore[arg-type]

    def authorised(self, key: str) -> bool:
        given = key.encode()
        return any(hmac.compare_digest(given, k.encode()) for k in self.clients.settings.event_keys)

    def _send_bearer(self) -> Response[str]:
        scheme, _, key = (self.app.current_event.headers.get("authorization") or "").partition(" ")
        return self._send(key.strip() if scheme.lower() == "bearer" else "")

    def _send(self, key: str) -> Response[str]:
        if not self.authorised(key):
            logger.warning("event key rejected")
            return _json_response(401, {"error": "Event key not found", "status": 401})
        raw = self.app.current_event.decoded_body or ""
        if len(raw.encode()) > MAX_BODY_BYTES:
            return _json_response(413, {"error": f"body over {MAX_BODY_BYTES} bytes", "status": 413})
        try:
            payload = json.loads(raw)
        except ValueError:
            return _json_response(400, {"error": "body is not JSON", "status": 400})
        events = payload if isinstance(payload, list) else [payload]
        if not events or len(events) > MAX_EVENTS:
            return _json_response(400, {"error": "send an event object or a list of them", "status": 400})
        envelopes, errors = self._validated(events)
        if not envelopes:
            error = errors[0]["error"] if len(errors) == 1 else f"no valid event: {errors[0]['error']}"
            return _json_response(400, {"error": error, "errors": errors, "status": 400})
        sent = iter(self.clients.queues.send_envelopes([e for e in envelopes if e is not None]))
        ids = [next(sent) if envelope is not None else None for envelope in envelopes]
        metrics.add_metric(name="EventsAccepted", unit=MetricUnit.Count, value=len(ids) - len(errors))
        logger.info("events accepted", extra={"count": len(ids) - len(errors),
                                              "names": sorted({e.name for e in envelopes if e is not None})})
        return _json_response(200, {"ids": ids, "status": 200, **({"errors": errors} if errors else {})})

    @staticmethod
    def _validated(events: list[Any]) -> tuple[list[EventEnvelope | None], list[dict[str, Any]]]:
        """Each event validated on its own: its envelope, or None and an entry in the errors."""
        envelopes: list[EventEnvelope | None] = []
        errors: list[dict[str, Any]] = []
        for index, raw in enumerate(events):
            try:
                if not isinstance(raw, dict):
                    raise NonRetriable("an event is an object with a name and data")
                envelopes.append(Queues.validate(raw, accept_unknown=True))
            except NonRetriable as exc:
                envelopes.append(None)
                errors.append({"index": index, "error": str(exc)[:1000]})
                logger.warning("event refused", extra={"index": index, "error": str(exc)[:500]})
        if errors:
            metrics.add_metric(name="EventsRefused", unit=MetricUnit.Count, value=len(errors))
        return (envelopes if any(e is not None for e in envelopes) else []), errors


__all__ = ["EventApi"]

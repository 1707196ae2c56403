"""The Inngest-compatible event API: ``POST /e/{event_key}`` with one event or a list.

Existing senders of contributor.info's events change only the base URL. Answers ``{"ids": [...],
"status": 200}`` like Inngest. A wrong key is 401; a body that is not JSON, or an event that does not
validate against its model, is 400 and nothing of that request is sent.
"""

from __future__ import annotations

import hmac
import json
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import LambdaFunctionUrlResolver, Response, content_types
from aws_lambda_powertools.metrics import MetricUnit

from contribsync.errors import NonRetriable
from contribsync.observability import logger, metrics

if TYPE_CHECKING:
    from collections.abc import Mapping

    from aws_lambda_powertools.utilities.typing import LambdaContext

    from contribsync.queues import Queues

MAX_BODY_BYTES = 512 * 1024  # Inngest's own limit for one request
MAX_EVENTS = 5_000


def _json_response(status: int, body: Mapping[str, Any]) -> Response[str]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=json.dumps(body))


class EventApi:
    """Routes ``/e/{key}`` requests to ``Queues.send_events``."""

    def __init__(self, queues: Queues | None, event_keys: tuple[str, ...]) -> None:
        self._queues = queues
        self._keys = tuple(k.encode() for k in event_keys)
        self.app = LambdaFunctionUrlResolver()
        self.app.post("/e/<key>")(self._send)

    @classmethod
    def from_env(cls) -> EventApi:
        from contribsync.settings import Settings

        settings = Settings.from_env()
        return cls(None, settings.event_keys)

    @property
    def queues(self) -> Queues:
        if self._queues is None:
            import boto3

            from contribsync.queues import Queues
            from contribsync.settings import Settings

            settings = Settings.from_env()
            self._queues = Queues(boto3.client("sqs", region_name=settings.region), prefix=settings.queue_prefix)
        return self._queues

    def handle(self, event: Mapping[str, Any], context: LambdaContext | None) -> dict[str, Any]:
        metrics.add_metric(name="EventApiRequests", unit=MetricUnit.Count, value=1)
        return self.app.resolve(dict(event), context)  # type: ignore[arg-type]

    def authorised(self, key: str) -> bool:
        given = key.encode()
        return any(hmac.compare_digest(given, k) for k in self._keys)

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
        if not events or len(events) > MAX_EVENTS or not all(isinstance(e, dict) for e in events):
            return _json_response(400, {"error": "send an event object or a list of them", "status": 400})
        try:
            ids = self.queues.send_events(events)
        except NonRetriable as exc:
            return _json_response(400, {"error": str(exc), "status": 400})
        metrics.add_metric(name="EventsAccepted", unit=MetricUnit.Count, value=len(ids))
        logger.info("events accepted", extra={"count": len(ids), "names": sorted({e.get("name") for e in events})})
        return _json_response(200, {"ids": ids, "status": 200})


__all__ = ["EventApi"]

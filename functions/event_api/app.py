"""EventApi: the Inngest-compatible event API, `POST /e/{event_key}`.

Wiring only: the Function URL event goes to `contribsync.EventApi`, built once per container with the
container's clients (read from the environment when the first request arrives).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from contribsync import Clients, EventApi, logger, metrics, tracer

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

EVENT_API = EventApi(Clients.from_env())


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return EVENT_API.handle(event, context)

"""WebhookReceiver: verifies, deduplicates and records GitHub webhook deliveries.

Wiring only: the Function URL event goes to `contribsync.WebhookReceiver`, built once per container with
the container's clients (read from the environment when the first delivery arrives).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from contribsync import Clients, WebhookReceiver, logger, metrics, tracer

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

WEBHOOK_RECEIVER = WebhookReceiver(Clients.from_env(application_name="contribsync-webhooks"))


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return WEBHOOK_RECEIVER.handle(event, context)

"""ApplyIssueWebhook: handles `webhook/issues` and `webhook/issue_comment` - issues and issue or PR
comments from webhook payloads.

Wiring only. The runtime parses the SQS batch (Powertools BatchProcessor + Parser), enforces the
catalog's retries, records the run, and calls the service the catalog names
(`contribsync.services.webhooks.apply_delivery`), which reads the stored delivery and upserts from it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from contribsync import Clients, Runtime, catalog, logger, metrics, tracer
from contribsync.services.webhooks import apply_delivery

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

EVENT = catalog.by_function("ApplyIssueWebhook")
RUNTIME = Runtime(EVENT, Clients.from_env(), service=apply_delivery)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return RUNTIME.handle(event, context)

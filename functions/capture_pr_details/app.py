"""CapturePrDetails: handles `capture/pr.details` (aliases: `capture/pr.details.graphql`) - one PR with
files, reviews, review comments and issue comments.

Wiring only. The runtime parses the SQS batch (Powertools BatchProcessor + Parser), enforces the
catalog's retries, concurrency and throttle through Postgres, records the run, and calls the
service the catalog names (`contribsync.services.capture.pr_details`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from contribsync import Clients, Runtime, catalog, logger, metrics, tracer
from contribsync.services.capture import pr_details

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

EVENT = catalog.by_function("CapturePrDetails")
RUNTIME = Runtime(EVENT, Clients.from_env(), service=pr_details)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return RUNTIME.handle(event, context)

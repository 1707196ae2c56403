"""CaptureRepositorySync: handles `capture/repository.sync` (aliases:
`capture/repository.sync.graphql`, `github/repository.sync`) - 100 newest PRs by GraphQL (CREATED_AT
DESC) with authors.

Wiring only. The runtime parses the SQS batch (Powertools BatchProcessor + Parser), enforces the
catalog's retries, concurrency and throttle through Postgres, records the run, and calls the
service the catalog names (`contribsync.services.capture.repository_sync`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from contribsync import Clients, Runtime, catalog, logger, metrics, tracer
from contribsync.services.capture import repository_sync

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

EVENT = catalog.by_function("CaptureRepositorySync")
RUNTIME = Runtime(EVENT, Clients.from_env(), service=repository_sync)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return RUNTIME.handle(event, context)

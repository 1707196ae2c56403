"""DiscoverNewRepository: handles `discover/new-repository` (aliases: `discover/repository.new`,
`capture/repository.discover`) - create a repository record, classify it and start its first sync.

Wiring only. The runtime parses the SQS batch (Powertools BatchProcessor + Parser), enforces the
catalog's retries, concurrency and throttle through Postgres, records the run, and calls the
service the catalog names (`contribsync.services.discover.discover_new_repository`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from contribsync import Clients, Runtime, catalog, logger, metrics, tracer
from contribsync.services.discover import discover_new_repository

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

EVENT = catalog.by_function("DiscoverNewRepository")
RUNTIME = Runtime(EVENT, Clients.from_env(), service=discover_new_repository)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return RUNTIME.handle(event, context)

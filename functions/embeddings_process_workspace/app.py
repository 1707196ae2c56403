"""EmbeddingsProcessWorkspace: handles `embeddings/process.workspace` (aliases:
`embeddings/compute.requested`) - embeddings for a workspace's items, in priority order.

Wiring only. The runtime parses the SQS batch (Powertools BatchProcessor + Parser), enforces the
catalog's retries, concurrency and throttle through Postgres, records the run, and calls the
service the catalog names (none yet: its messages are dead-lettered until it ships).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from contribsync import Clients, Runtime, catalog, logger, metrics, tracer
from contribsync.services.embeddings import process_workspace

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

EVENT = catalog.by_function("EmbeddingsProcessWorkspace")
RUNTIME = Runtime(EVENT, Clients.from_env(), service=process_workspace)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return RUNTIME.handle(event, context)

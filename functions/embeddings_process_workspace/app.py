"""EmbeddingsProcessWorkspace: embeddings for a workspace's items (or, from the 6-hourly cron, every item), in
priority order.

Event: `embeddings/process.workspace` (aliases: `embeddings/compute.requested`, `embeddings.generate`).
Service: `contribsync.services.embeddings.process_workspace`.
Retries: 2 (at most 3 attempts, then the dead-letter queue).
Concurrency: at most 2 runs at once.
Schedule: `0 */6 * * *` (cron, UTC).

Generated from the catalog by `make template` (devtools/gen_template.py); `make lint` fails when they
disagree.
"""

from __future__ import annotations

from contribsync import Clients, Runtime, catalog, lambda_entry
from contribsync.services.embeddings import process_workspace

EVENT = catalog.by_function("EmbeddingsProcessWorkspace")
RUNTIME = Runtime(EVENT, Clients.from_env(), service=process_workspace)
lambda_handler = lambda_entry(RUNTIME.handle, function=EVENT.function)

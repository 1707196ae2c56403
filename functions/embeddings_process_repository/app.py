"""EmbeddingsProcessRepository: embeddings for one repository's items.

Event: `embeddings/process.repository` (aliases: `embedding/issue.generate`, `embedding/pr.generate`,
    `embedding/batch.process`, `similarity/repository.recalculate`, `embedding/progress.update`).
Service: `contribsync.services.embeddings.process_repository`.
Retries: 2 (at most 3 attempts, then the dead-letter queue).
Concurrency: at most 2 runs at once.

Generated from the catalog by `make template` (devtools/gen_template.py); `make lint` fails when they
disagree.
"""

from __future__ import annotations

from contribsync import Clients, Runtime, catalog, lambda_entry
from contribsync.services.embeddings import process_repository

EVENT = catalog.by_function("EmbeddingsProcessRepository")
RUNTIME = Runtime(EVENT, Clients.from_env(), service=process_repository)
lambda_handler = lambda_entry(RUNTIME.handle, function=EVENT.function)

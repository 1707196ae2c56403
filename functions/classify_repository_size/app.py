"""ClassifyRepositorySize: queue a classification for every unclassified or stale repository.

Event: `classify/repository.size` (aliases: `capture/repository.classify.batch`).
Service: `contribsync.services.classify.classify_all`.
Retries: 3, the catalog's default (at most 4 attempts, then the dead-letter queue).
Concurrency: at most 5 runs at once.
Schedule: `0 */6 * * *` (cron, UTC).

Generated from the catalog by `make template` (devtools/gen_template.py); `make lint` fails when they
disagree.
"""

from __future__ import annotations

from contribsync import Clients, Runtime, catalog, lambda_entry
from contribsync.services.classify import classify_all

EVENT = catalog.by_function("ClassifyRepositorySize")
RUNTIME = Runtime(EVENT, Clients.from_env(), service=classify_all)
lambda_handler = lambda_entry(RUNTIME.handle, function=EVENT.function)

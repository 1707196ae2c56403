"""CaptureRepositorySync: 100 newest PRs by GraphQL (CREATED_AT DESC) with authors.

Event: `capture/repository.sync` (aliases: `capture/repository.sync.graphql`, `github/repository.sync`).
Service: `contribsync.services.capture.repository_sync`.
Retries: 2 (at most 3 attempts, then the dead-letter queue).
Concurrency: at most 3 runs at once per `repository_key`.
Throttle: at most 75 starts in 60 s.

Generated from the catalog by `make template` (devtools/gen_template.py); `make lint` fails when they
disagree.
"""

from __future__ import annotations

from contribsync import Clients, Runtime, catalog, lambda_entry
from contribsync.services.capture import repository_sync

EVENT = catalog.by_function("CaptureRepositorySync")
RUNTIME = Runtime(EVENT, Clients.from_env(), service=repository_sync)
lambda_handler = lambda_entry(RUNTIME.handle, function=EVENT.function)

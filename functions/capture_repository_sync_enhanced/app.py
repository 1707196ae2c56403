"""CaptureRepositorySyncEnhanced: every PR in a time range with nested reviews and comments, checkpointed.

Event: `capture/repository.sync-enhanced` (aliases: `capture/repository.sync.enhanced`).
Service: `contribsync.services.capture.repository_sync_enhanced`.
Retries: 2 (at most 3 attempts, then the dead-letter queue).
Concurrency: at most 5 runs at once per `repository_key`.
Throttle: at most 75 starts in 60 s.

Generated from the catalog by `make template` (devtools/gen_template.py); `make lint` fails when they
disagree.
"""

from __future__ import annotations

from contribsync import Clients, Runtime, catalog, lambda_entry
from contribsync.services.capture import repository_sync_enhanced

EVENT = catalog.by_function("CaptureRepositorySyncEnhanced")
RUNTIME = Runtime(EVENT, Clients.from_env(), service=repository_sync_enhanced)
lambda_handler = lambda_entry(RUNTIME.handle, function=EVENT.function)

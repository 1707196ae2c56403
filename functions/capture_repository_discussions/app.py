"""CaptureRepositoryDiscussions: discussions, their authors and AI summaries.

Event: `capture/repository.discussions`.
Service: `contribsync.services.discussions.repository_discussions`.
Retries: 2 (at most 3 attempts, then the dead-letter queue).
Concurrency: at most 2 runs at once per `repository_key`.
Throttle: at most 20 starts in 60 s.

Generated from the catalog by `make template` (devtools/gen_template.py); `make lint` fails when they
disagree.
"""

from __future__ import annotations

from contribsync import Clients, Runtime, catalog, lambda_entry
from contribsync.services.discussions import repository_discussions

EVENT = catalog.by_function("CaptureRepositoryDiscussions")
RUNTIME = Runtime(EVENT, Clients.from_env(), service=repository_discussions)
lambda_handler = lambda_entry(RUNTIME.handle, function=EVENT.function)

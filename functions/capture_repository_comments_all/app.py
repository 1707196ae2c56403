"""CaptureRepositoryCommentsAll: comments of the recently active PRs and issues, one job each.

Event: `capture/repository.comments.all`.
Service: `contribsync.services.activity.repository_comments_all`.
Retries: 2 (at most 3 attempts, then the dead-letter queue).
Concurrency: at most 2 runs at once per `repository_key`.
Throttle: at most 20 starts in 60 s.

Generated from the catalog by `make template` (devtools/gen_template.py); `make lint` fails when they
disagree.
"""

from __future__ import annotations

from contribsync import Clients, Runtime, catalog, lambda_entry
from contribsync.services.activity import repository_comments_all

EVENT = catalog.by_function("CaptureRepositoryCommentsAll")
RUNTIME = Runtime(EVENT, Clients.from_env(), service=repository_comments_all)
lambda_handler = lambda_entry(RUNTIME.handle, function=EVENT.function)

"""CapturePrComments: review comments and issue comments of one PR, all pages.

Event: `capture/pr.comments`.
Service: `contribsync.services.capture.pr_comments`.
Retries: 2 (at most 3 attempts, then the dead-letter queue).
Concurrency: at most 3 runs at once per `repository_key`.
Throttle: at most 30 starts in 60 s.

Generated from the catalog by `make template` (devtools/gen_template.py); `make lint` fails when they
disagree.
"""

from __future__ import annotations

from contribsync import Clients, Runtime, catalog, lambda_entry
from contribsync.services.capture import pr_comments

EVENT = catalog.by_function("CapturePrComments")
RUNTIME = Runtime(EVENT, Clients.from_env(), service=pr_comments)
lambda_handler = lambda_entry(RUNTIME.handle, function=EVENT.function)

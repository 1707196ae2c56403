"""CapturePrDetails: one PR with files, reviews, review comments and issue comments.

Event: `capture/pr.details` (aliases: `capture/pr.details.graphql`).
Service: `contribsync.services.capture.pr_details`.
Retries: 3, the catalog's default (at most 4 attempts, then the dead-letter queue).
Concurrency: at most 10 runs at once per `repository_key`.
Throttle: at most 50 starts in 60 s.

Generated from the catalog by `make template` (devtools/gen_template.py); `make lint` fails when they
disagree.
"""

from __future__ import annotations

from contribsync import Clients, Runtime, catalog, lambda_entry
from contribsync.services.capture import pr_details

EVENT = catalog.by_function("CapturePrDetails")
RUNTIME = Runtime(EVENT, Clients.from_env(), service=pr_details)
lambda_handler = lambda_entry(RUNTIME.handle, function=EVENT.function)

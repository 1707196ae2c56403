"""UpdatePrActivity: re-queue details for PRs open, never detailed, or stale, among those active lately.

Event: `update/pr.activity` (aliases: `capture/pr.activity.update`).
Service: `contribsync.services.activity.update_pr_activity`.
Retries: 2 (at most 3 attempts, then the dead-letter queue).
Concurrency: at most 5 runs at once per `repository_key`.
Throttle: at most 30 starts in 60 s.

Generated from the catalog by `make template` (devtools/gen_template.py); `make lint` fails when they
disagree.
"""

from __future__ import annotations

from contribsync import Clients, Runtime, catalog, lambda_entry
from contribsync.services.activity import update_pr_activity

EVENT = catalog.by_function("UpdatePrActivity")
RUNTIME = Runtime(EVENT, Clients.from_env(), service=update_pr_activity)
lambda_handler = lambda_entry(RUNTIME.handle, function=EVENT.function)

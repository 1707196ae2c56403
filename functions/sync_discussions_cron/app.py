"""SyncDiscussionsCron: a discussions sync per active repository with discussions enabled.

Event: `sync/discussions-cron`.
Service: `contribsync.services.fanout.discussions_cron`.
Retries: 1 (at most 2 attempts, then the dead-letter queue).
Schedule: `0 */12 * * *` (cron, UTC).

Generated from the catalog by `make template` (devtools/gen_template.py); `make lint` fails when they
disagree.
"""

from __future__ import annotations

from contribsync import Clients, Runtime, catalog, lambda_entry
from contribsync.services.fanout import discussions_cron

EVENT = catalog.by_function("SyncDiscussionsCron")
RUNTIME = Runtime(EVENT, Clients.from_env(), service=discussions_cron)
lambda_handler = lambda_entry(RUNTIME.handle, function=EVENT.function)

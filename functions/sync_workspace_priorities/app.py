"""SyncWorkspacePriorities: hourly: score workspace repositories; incremental syncs every 1 h (high), 6 h
(medium), 24 h (low).

Event: `sync/workspace-priorities` (aliases: `workspace/priorities.sync`).
Service: `contribsync.services.priorities.sync_workspace_priorities`.
Retries: 2 (at most 3 attempts, then the dead-letter queue).
Concurrency: at most 1 run at once.
Schedule: `0 * * * *` (cron, UTC).

Generated from the catalog by `make template` (devtools/gen_template.py); `make lint` fails when they
disagree.
"""

from __future__ import annotations

from contribsync import Clients, Runtime, catalog, lambda_entry
from contribsync.services.priorities import sync_workspace_priorities

EVENT = catalog.by_function("SyncWorkspacePriorities")
RUNTIME = Runtime(EVENT, Clients.from_env(), service=sync_workspace_priorities)
lambda_handler = lambda_entry(RUNTIME.handle, function=EVENT.function)

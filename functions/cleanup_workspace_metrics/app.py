"""CleanupWorkspaceMetrics: delete daily workspace metrics older than the retention (90 days).

Event: `cleanup/workspace-metrics`.
Service: `contribsync.services.maintenance.cleanup_workspace_metrics`.
Retries: 3, the catalog's default (at most 4 attempts, then the dead-letter queue).
Schedule: `0 3 * * 0` (cron, UTC).

Generated from the catalog by `make template` (devtools/gen_template.py); `make lint` fails when they
disagree.
"""

from __future__ import annotations

from contribsync import Clients, Runtime, catalog, lambda_entry
from contribsync.services.maintenance import cleanup_workspace_metrics

EVENT = catalog.by_function("CleanupWorkspaceMetrics")
RUNTIME = Runtime(EVENT, Clients.from_env(), service=cleanup_workspace_metrics)
lambda_handler = lambda_entry(RUNTIME.handle, function=EVENT.function)

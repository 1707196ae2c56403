"""ScheduledWorkspaceAggregation: an aggregation per active workspace.

Event: `scheduled/workspace-aggregation` (aliases: `workspace.metrics.aggregate.scheduled`).
Service: `contribsync.services.fanout.workspace_aggregation`.
Retries: 3, the catalog's default (at most 4 attempts, then the dead-letter queue).
Schedule: `0 0 * * *` (cron, UTC).

Generated from the catalog by `make template` (devtools/gen_template.py); `make lint` fails when they
disagree.
"""

from __future__ import annotations

from contribsync import Clients, Runtime, catalog, lambda_entry
from contribsync.services.fanout import workspace_aggregation

EVENT = catalog.by_function("ScheduledWorkspaceAggregation")
RUNTIME = Runtime(EVENT, Clients.from_env(), service=workspace_aggregation)
lambda_handler = lambda_entry(RUNTIME.handle, function=EVENT.function)

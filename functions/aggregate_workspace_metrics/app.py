"""AggregateWorkspaceMetrics: workspace totals, active contributors, review statistics and trends.

Event: `aggregate/workspace-metrics` (aliases: `workspace/aggregate`, `workspace.metrics.aggregate`).
Service: `contribsync.services.workspaces.aggregate_workspace_metrics`.
Retries: 3, the catalog's default (at most 4 attempts, then the dead-letter queue).
Throttle: at most 1 start in 60 s per `workspace_key`.

Generated from the catalog by `make template` (devtools/gen_template.py); `make lint` fails when they
disagree.
"""

from __future__ import annotations

from contribsync import Clients, Runtime, catalog, lambda_entry
from contribsync.services.workspaces import aggregate_workspace_metrics

EVENT = catalog.by_function("AggregateWorkspaceMetrics")
RUNTIME = Runtime(EVENT, Clients.from_env(), service=aggregate_workspace_metrics)
lambda_handler = lambda_entry(RUNTIME.handle, function=EVENT.function)

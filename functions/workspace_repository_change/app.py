"""WorkspaceRepositoryChange: incremental metrics when a repository joins or leaves a workspace.

Event: `workspace/repository-change` (aliases: `workspace.repository.changed`).
Service: `contribsync.services.workspaces.repository_change`.
Retries: 3, the catalog's default (at most 4 attempts, then the dead-letter queue).
Concurrency: at most 1 run at once per `workspace_key`.

Generated from the catalog by `make template` (devtools/gen_template.py); `make lint` fails when they
disagree.
"""

from __future__ import annotations

from contribsync import Clients, Runtime, catalog, lambda_entry
from contribsync.services.workspaces import repository_change

EVENT = catalog.by_function("WorkspaceRepositoryChange")
RUNTIME = Runtime(EVENT, Clients.from_env(), service=repository_change)
lambda_handler = lambda_entry(RUNTIME.handle, function=EVENT.function)

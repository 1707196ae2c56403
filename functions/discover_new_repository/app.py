"""DiscoverNewRepository: create a repository record, classify it and start its first sync.

Event: `discover/new-repository` (aliases: `discover/repository.new`, `capture/repository.discover`,
    `github.repository.app_enabled`).
Service: `contribsync.services.discover.discover_new_repository`.
Retries: 2 (at most 3 attempts, then the dead-letter queue).
Concurrency: at most 10 runs at once per `full_name_key`.

Generated from the catalog by `make template` (devtools/gen_template.py); `make lint` fails when they
disagree.
"""

from __future__ import annotations

from contribsync import Clients, Runtime, catalog, lambda_entry
from contribsync.services.discover import discover_new_repository

EVENT = catalog.by_function("DiscoverNewRepository")
RUNTIME = Runtime(EVENT, Clients.from_env(), service=discover_new_repository)
lambda_handler = lambda_entry(RUNTIME.handle, function=EVENT.function)

"""ApplyRepositoryWebhook: repository renames, transfers, archival, deletion and visibility; installations;
members, stars and pushes.

Event: `webhook/repository` (aliases: `webhook/installation`, `webhook/installation_repositories`,
    `webhook/member`, `webhook/star`, `webhook/public`, `webhook/push`, `github.app.installed`,
    `github.app.permissions_updated`).
Service: `contribsync.services.webhooks.apply_repository`.
Retries: 3, the catalog's default (at most 4 attempts, then the dead-letter queue).

Generated from the catalog by `make template` (devtools/gen_template.py); `make lint` fails when they
disagree.
"""

from __future__ import annotations

from contribsync import Clients, Runtime, catalog, lambda_entry
from contribsync.services.webhooks import apply_repository

EVENT = catalog.by_function("ApplyRepositoryWebhook")
RUNTIME = Runtime(EVENT, Clients.from_env(), service=apply_repository)
lambda_handler = lambda_entry(RUNTIME.handle, function=EVENT.function)

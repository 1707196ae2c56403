"""CancelFunction: cancel queued or running work matching an event and its data.

Event: `cancel/function`.
Service: `contribsync.services.maintenance.cancel_function`.
Retries: 3, the catalog's default (at most 4 attempts, then the dead-letter queue).

Generated from the catalog by `make template` (devtools/gen_template.py); `make lint` fails when they
disagree.
"""

from __future__ import annotations

from contribsync import Clients, Runtime, catalog, lambda_entry
from contribsync.services.maintenance import cancel_function

EVENT = catalog.by_function("CancelFunction")
RUNTIME = Runtime(EVENT, Clients.from_env(), service=cancel_function)
lambda_handler = lambda_entry(RUNTIME.handle, function=EVENT.function)

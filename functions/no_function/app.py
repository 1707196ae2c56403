"""NoFunction: record an event whose name no function handles (accepted, as Inngest accepts it).

Event: every event name no other function declares (`(no function)` in the catalog).
Service: `contribsync.services.maintenance.no_function`.
Retries: 1 (at most 2 attempts, then the dead-letter queue).

Generated from the catalog by `make template` (devtools/gen_template.py); `make lint` fails when they
disagree.
"""

from __future__ import annotations

from contribsync import Clients, Runtime, catalog, lambda_entry
from contribsync.services.maintenance import no_function

EVENT = catalog.by_function("NoFunction")
RUNTIME = Runtime(EVENT, Clients.from_env(), service=no_function)
lambda_handler = lambda_entry(RUNTIME.handle, function=EVENT.function)

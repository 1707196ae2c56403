"""ReconcileWebhookDeliveries: hourly: find and redeliver webhook deliveries that failed or never arrived.

Event: `reconcile/webhook-deliveries`.
Service: `contribsync.services.reconcile.reconcile_webhook_deliveries`.
Retries: 1 (at most 2 attempts, then the dead-letter queue).
Concurrency: at most 1 run at once.
Schedule: `0 * * * *` (cron, UTC).

Generated from the catalog by `make template` (devtools/gen_template.py); `make lint` fails when they
disagree.
"""

from __future__ import annotations

from contribsync import Clients, Runtime, catalog, lambda_entry
from contribsync.services.reconcile import reconcile_webhook_deliveries

EVENT = catalog.by_function("ReconcileWebhookDeliveries")
RUNTIME = Runtime(EVENT, Clients.from_env(), service=reconcile_webhook_deliveries)
lambda_handler = lambda_entry(RUNTIME.handle, function=EVENT.function)

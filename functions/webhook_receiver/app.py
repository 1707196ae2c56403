"""WebhookReceiver: verifies, deduplicates and records GitHub webhook deliveries.

Wiring only: the Function URL event goes to `contribsync.WebhookReceiver`, built once per container with
the container's clients (read from the environment when the first delivery arrives).
"""

from __future__ import annotations

from contribsync import Clients, WebhookReceiver, lambda_entry

WEBHOOK_RECEIVER = WebhookReceiver(Clients.from_env(application_name="contribsync-webhooks"))
lambda_handler = lambda_entry(WEBHOOK_RECEIVER.handle, function="WebhookReceiver")

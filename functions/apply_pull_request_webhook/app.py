"""ApplyPullRequestWebhook: pull requests, reviews, review comments and threads from webhook payloads.

Event: `webhook/pull_request` (aliases: `webhook/pull_request_review`,
    `webhook/pull_request_review_comment`, `webhook/pull_request_review_thread`).
Service: `contribsync.services.webhooks.apply_delivery`.
Retries: 3, the catalog's default (at most 4 attempts, then the dead-letter queue).

Generated from the catalog by `make template` (devtools/gen_template.py); `make lint` fails when they
disagree.
"""

from __future__ import annotations

from contribsync import Clients, Runtime, catalog, lambda_entry
from contribsync.services.webhooks import apply_delivery

EVENT = catalog.by_function("ApplyPullRequestWebhook")
RUNTIME = Runtime(EVENT, Clients.from_env(), service=apply_delivery)
lambda_handler = lambda_entry(RUNTIME.handle, function=EVENT.function)

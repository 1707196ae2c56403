"""A webhook delivery refused for its size, taken in from GitHub's delivery log instead of its URL.

A Lambda Function URL takes at most 6 MB per request (6,291,456 bytes, Lambda's invocation payload
limit) and answers a larger one with 413 before the receiver runs; GitHub sends payloads of up to 25 MB.
A redelivery would be refused the same way, but GitHub's log keeps what it sent:
``GET .../deliveries/{id}`` answers the attempt with ``request.headers`` and ``request.payload``. The
payload then goes down the receiver's own path after its signature check (``WebhookIntake``): stored
once per ``X-GitHub-Delivery`` in ``webhook_deliveries``, its id queued to its ``webhook/*`` function.

There is no signature to check here: the HMAC in the logged ``X-Hub-Signature-256`` covers the bytes
GitHub posted, and the log gives back the parsed payload, not those bytes. It is trusted for where it
comes from: GitHub's own API, read over HTTPS by the authenticated client (the App's JWT or a token
with admin rights on the repository), as the syncs trust every answer of that API.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from aws_lambda_powertools.metrics import MetricUnit

from contribsync.errors import NotFound, StoreError
from contribsync.observability import logger, metrics
from contribsync.webhook_intake import WebhookIntake

if TYPE_CHECKING:
    from collections.abc import Mapping

    from contribsync.runtime import RunContext
    from contribsync.webhook_intake import Intake


def recover_refused(ctx: RunContext, deliveries: str, refused: Mapping[str, int], *, hook: str) -> set[str]:
    """Take in each refused delivery (guid → the id of its attempt in the log at ``deliveries``); return
    the guids that cannot be taken, to sync instead: gone from the log, no payload kept, or a payload
    the intake refuses on every try (not JSON, no event or delivery id). A store or queue failure
    raises, so that the run is retried: the delivery is not lost to a moved watermark."""
    intake = WebhookIntake(ctx.clients)
    unusable: set[str] = set()
    for guid, attempt_id in refused.items():
        log = {"hook": hook, "guid": guid}
        try:
            taken = take_from_log(ctx, intake, f"{deliveries}/{attempt_id}", guid)
        except NotFound:
            taken = None
        if taken is not None and taken.outcome in ("not_stored", "not_queued"):
            raise StoreError(f"webhook delivery {guid} from GitHub's log: {taken.outcome.replace('_', ' ')}")
        if taken is None or not taken.recorded:
            logger.warning("refused webhook delivery not recoverable",
                           extra={**log, "outcome": taken.outcome if taken else "no payload"})
            unusable.add(guid)
            continue
        logger.info("refused webhook delivery recovered", extra={**log, "outcome": taken.outcome})
    metrics.add_metric(name="WebhookDeliveriesRecovered", unit=MetricUnit.Count, value=len(refused) - len(unusable))
    return unusable


def take_from_log(ctx: RunContext, intake: WebhookIntake, path: str, guid: str) -> Intake | None:
    """Read the logged attempt at ``path`` (``.../deliveries/{id}``) and take in its delivery; None when
    GitHub kept no payload for it. ``guid`` (the log's ``X-GitHub-Delivery``) names the delivery."""
    # Not conditional: an answer of up to 25 MB has no place in the ETag cache, and is read once.
    detail = ctx.github.get(path, conditional=False).json or {}
    request = detail.get("request") or {}
    payload = request.get("payload")
    if not isinstance(payload, dict):
        return None
    headers = {str(k).lower(): str(v) for k, v in (request.get("headers") or {}).items()}
    headers["x-github-delivery"] = guid
    if detail.get("event"):
        headers.setdefault("x-github-event", str(detail["event"]))
    # Back to the UTF-8 text GitHub sent. "surrogatepass": an unpaired surrogate (a ``\ud800`` escape)
    # makes bytes that the intake refuses as not JSON, as the receiver refuses it.
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8", "surrogatepass")
    return intake.take(headers, body)


__all__ = ["recover_refused", "take_from_log"]

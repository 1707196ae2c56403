"""The ``webhook/*`` functions: apply a stored GitHub webhook delivery to the database.

One module per family of GitHub event types (``repositories``, ``pull_requests``, ``issues``,
``discussions``); ``delivery`` is what they share, ``payloads`` what each type's payload must hold.

Every handler upserts from the payload itself, with no GitHub call where the payload holds the data,
through the same set-based writer as the syncs (``capture.store``), so the same rules hold:

- rows are keyed by GitHub id (a renamed or transferred repository keeps its row);
- a row only replaces an older one (GitHub's ``updated_at``), so deliveries may come late, twice or
  out of order;
- what GitHub deleted is remembered (``deleted_github_objects``) and never comes back; writers of
  single objects take the object's advisory lock, so a deletion cannot interleave with a late update.

Choices where GitHub's payloads leave room:

- The payload's ``repository`` object creates or updates the repositories row through the syncs' own
  mapper and statement (``capture.repos``: never its PR count or sync clocks). A repository seen for
  the first time is enriched by ``discover/new-repository``.
- A review, review comment or thread on a PR not stored yet stores the PR from the payload's
  (partial) ``pull_request`` object and queues ``capture/pr.details`` to complete it; on a stored PR
  the partial object's newer fields (GitHub moves ``updated_at`` with every review and comment) are
  applied and the rest kept. A comment on a PR
  whose ``issue_comment`` payload only has the issue view of it queues ``capture/pr.details`` and is
  retried (``ParentMissing``) until the PR is there.
- ``push`` moves the repository's ``github_pushed_at``; ``star`` updates the counts and records a
  ``WatchEvent`` in ``github_events_cache`` (the workspace metrics' source); ``member`` upserts the
  contributor. ``create``, ``delete``, ``label``, ``release`` and other types are recorded by the
  receiver and not queued: nothing in the schema holds them.
- ``installation``/``installation_repositories``: added repositories are discovered, removed ones (and
  all of a deleted installation's) are deactivated (``is_active`` and tracking off), never deleted.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from contribsync.errors import NonRetriable
from contribsync.services.webhooks import discussions, issues, pull_requests, repositories
from contribsync.services.webhooks.delivery import Delivery, ParentMissing
from contribsync.services.webhooks.payloads import check

if TYPE_CHECKING:
    from collections.abc import Callable

    from contribsync.payloads import RepositoryWebhook, WebhookDelivery
    from contribsync.runtime import RunContext

HANDLERS: dict[str, Callable[[Delivery], dict[str, Any]]] = {
    **pull_requests.HANDLERS, **issues.HANDLERS, **discussions.HANDLERS, **repositories.HANDLERS,
}


def apply_repository(data: RepositoryWebhook, ctx: RunContext) -> dict[str, Any]:
    """``ApplyRepositoryWebhook``: a stored delivery, or an event contributor.info's App webhook handler
    sends once it stored an installation (``github.app.installed``, ``github.app.permissions_updated``).
    Those name the account only; the repositories come with GitHub's own ``installation`` delivery, so
    the App event is recorded, as an ``installation`` delivery without repositories is."""
    if data.delivery_id is not None:
        return _apply(data.delivery_id, ctx)
    return {"installation": data.installation_id, "account": data.account, "recorded": ctx.event_name}


def apply_delivery(data: WebhookDelivery, ctx: RunContext) -> dict[str, Any]:
    """Apply one stored delivery; its row in ``webhook_deliveries`` ends ``processed``, or ``failed`` when
    the run gives up (a payload without what its type must hold, or the last attempt's failure)."""
    return _apply(data.delivery_id, ctx)


def _apply(delivery_id: str, ctx: RunContext) -> dict[str, Any]:
    ctx.at(delivery=delivery_id)
    stored = ctx.db.query_one("webhook_delivery_get", {"delivery_id": delivery_id})
    if stored is None:
        raise NonRetriable(f"webhook delivery {delivery_id} is not stored; the receiver stores it first")
    handler = HANDLERS.get(stored["event"])
    if handler is None:
        raise NonRetriable(f"no handler for webhook event {stored['event']!r}")
    payload = stored["payload"]
    ctx.at(webhook_event=stored["event"], action=payload.get("action"))
    delivery = Delivery(ctx, delivery_id, stored["event"], payload)
    try:
        check(stored["event"], payload)
        if isinstance(payload.get("repository"), dict):
            _ = delivery.repo  # every delivery refreshes (or creates) its repository's row
        result = handler(delivery)
    except Exception as exc:
        if isinstance(exc, NonRetriable) or ctx.final_attempt:  # the message goes to the DLQ next
            _failed(ctx, delivery_id, exc)
        raise
    result = {"event": stored["event"], "action": payload.get("action"), **result}
    ctx.db.query("webhook_delivery_finish", {"delivery_id": delivery_id, "status": "processed", "error": None,
                                             "result": json.dumps(result, default=str)})
    return result


def _failed(ctx: RunContext, delivery_id: str, error: BaseException) -> None:
    ctx.db.query("webhook_delivery_finish", {"delivery_id": delivery_id, "status": "failed",
                                             "error": ctx.mask(f"{type(error).__name__}: {error}")[:2000],
                                             "result": None})


__all__ = ["HANDLERS", "ParentMissing", "apply_delivery", "apply_repository"]

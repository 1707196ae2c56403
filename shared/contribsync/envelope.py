"""The message body on every queue: an Inngest event, ``{name, data, id, ts, user, v}``.

Keeping Inngest's shape means a contributor.info sender, the event API, EventBridge Scheduler (which
sends ``{name, data}`` only) and a hand-injected SQS message all produce the same body. Runtime
bookkeeping (attempts spent before a deferral, a not-before time) travels in SQS message attributes,
never in the body.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

PRIOR_ATTEMPTS_ATTR = "contribsync-prior-attempts"
NOT_BEFORE_ATTR = "contribsync-not-before"
ERROR_ATTR = "contribsync-error"
ATTEMPTS_ATTR = "contribsync-attempts"  # on a dead letter: the attempts spent before it gave up
# on a message the runtime sent again (forwarded to its function's queue, or re-queued with a delay): the
# id of the message first sent, which names the event when it has no id of its own
ORIGIN_ATTR = "contribsync-origin-message"


# The text rules of an event, here because both ends apply them: ``Queues.validate`` refuses an event
# the run history could not record, and the runtime dead-letters one that reached a queue anyway.
def pg_text(text: str) -> str:
    """``text`` without what a Postgres text refuses: NUL dropped, an unpaired surrogate made "?"."""
    return text.replace("\x00", "").encode("utf-8", "replace").decode()


def storable(value: object) -> bool:
    """Whether every string in ``value`` (keys too) fits a Postgres text: no NUL, no unpaired surrogate."""
    pending = [value]
    while pending:  # a loop, not recursion: data may nest as deep as the JSON parser allowed
        item = pending.pop()
        if isinstance(item, str):
            if pg_text(item) != item:
                return False
        elif isinstance(item, dict):
            pending += [*item.keys(), *item.values()]
        elif isinstance(item, list):
            pending += item
    return True


class EventEnvelope(BaseModel):
    """One event as sent. ``id`` doubles as the idempotency key, as in Inngest."""

    model_config = ConfigDict(extra="allow")

    name: str = Field(min_length=1, max_length=200)
    data: dict[str, Any] = Field(default_factory=dict)
    id: str | None = Field(default=None, max_length=200)
    ts: int | None = None  # milliseconds since the epoch
    user: dict[str, Any] | None = None
    v: str | None = None

    def stamped(self, now_ms: int | None = None) -> EventEnvelope:
        """This event with an id and a timestamp (``now_ms``, by default the system's time), filling whichever
        the sender left out."""
        return self.model_copy(
            update={"id": self.id or str(uuid.uuid4()), "ts": self.ts or now_ms or int(time.time() * 1000)}
        )


__all__ = ["ATTEMPTS_ATTR", "ERROR_ATTR", "NOT_BEFORE_ATTR", "ORIGIN_ATTR", "PRIOR_ATTEMPTS_ATTR", "EventEnvelope",
           "pg_text", "storable"]

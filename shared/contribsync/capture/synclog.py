"""contributor.info's SyncLogger: one ``sync_logs`` row per run, opened as ``started`` and closed as
``completed``, ``failed`` or ``cancelled`` (a deferral or cancellation) with counts, the GitHub calls and
points the run spent, and the error (masked: ``RunContext.mask``).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from contribsync.errors import Cancelled, Deferred
from contribsync.meters import metered

if TYPE_CHECKING:
    from types import TracebackType

    from contribsync.capture.store import Written
    from contribsync.meters import Stats
    from contribsync.runtime import RunContext


class SyncLog:
    """``with SyncLog(ctx, "pr_details", repository_id) as log:`` … ``log.add(written)``."""

    def __init__(self, ctx: RunContext, sync_type: str, repository_id: str | None,
                 metadata: dict[str, Any] | None = None) -> None:
        self.ctx = ctx
        self.sync_type = sync_type
        self.repository_id = repository_id
        self.metadata: dict[str, Any] = {"event": ctx.event_name, "eventId": ctx.event_id, **(metadata or {})}
        self.processed = 0
        self.inserted = 0
        self.updated = 0
        self.failed = 0
        self.id: Any = None
        self._meter: Any = None
        self.stats: Stats | None = None

    def __enter__(self) -> SyncLog:
        row = self.ctx.db.query_one("sync_log_start", {
            "sync_type": self.sync_type, "repository_id": self.repository_id, "now": self.ctx.clock.now(),
            "metadata": json.dumps(self.metadata, default=str)})
        self.id = row["id"] if row else None
        self._meter = metered()
        self.stats = self._meter.__enter__()
        return self

    def add(self, written: Written, processed: int = 0) -> None:
        self.inserted += written.inserted
        self.updated += written.updated
        self.processed += processed

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._meter.__exit__(kind, exc, tb)
        status = "completed" if exc is None else "cancelled" if isinstance(exc, Deferred | Cancelled) else "failed"
        stats = self.stats
        self.ctx.db.query("sync_log_finish", {
            "id": self.id, "status": status, "now": self.ctx.clock.now(), "processed": self.processed,
            "inserted": self.inserted, "updated": self.updated, "failed": self.failed,
            "error": self.ctx.mask(f"{type(exc).__name__}: {exc}")[:2000] if exc is not None else None,
            "api_calls": stats.requests if stats else 0, "rate_limit_remaining": None,
            "metadata": json.dumps({"graphqlPoints": stats.graphql_points if stats else 0,
                                    "notModified": stats.not_modified if stats else 0,
                                    "retries": stats.retries if stats else 0}),
        })


__all__ = ["SyncLog"]

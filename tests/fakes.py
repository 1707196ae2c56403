"""Fakes that implement the same methods as the real parts, for tests that only need to see calls."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

    from contribsync.clients import Clients


class RecordingQueues:
    """``Queues.send_event``: records each event, or refuses as SQS would when ``refuse`` is set."""

    def __init__(self, *, refuse: bool = False) -> None:
        self.refuse = refuse
        self.sent: list[tuple[str, dict[str, Any], str | None]] = []

    def send_event(self, name: str, data: Mapping[str, Any] | None = None, *, id: str | None = None) -> str:
        if self.refuse:
            raise RuntimeError("SQS refused 1 message(s): ServiceUnavailable")
        self.sent.append((name, dict(data or {}), id))
        return id or ""


UNUSED_DSN = "postgresql://unused@127.0.0.1:9/unused"


def clients(db: Any = None, queues: Any = None, **options: Any) -> Clients:
    """``Clients`` for a test: ``db`` and ``queues`` as given (real or fake), ``clock``, ``github``,
    ``summarizer`` and ``embedder`` when given, and every other keyword a ``Settings`` field."""
    from contribsync.clients import Clients
    from contribsync.settings import Settings

    given = {k: options.pop(k) for k in ("clock", "github", "summarizer", "embedder") if k in options}
    settings = Settings(database_url=getattr(db, "dsn", None) or UNUSED_DSN, **options)
    return Clients(settings, db=db, queues=queues, **given)

"""Fakes that implement the same methods as the real parts, for tests that only need to see calls."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping


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

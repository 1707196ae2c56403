"""A cron driver for the catalog's schedules, standing in for EventBridge Scheduler.

It sends the same message the template's Scheduler target sends: ``{"name", "id", "data":
{"scheduledAt"}}`` with the fire time, so a run computes as of the driver's clock and a fire is never
processed twice. ``tick(now)`` fires
everything due up to ``now``, so tests fast-forward the clock instead of waiting.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from croniter import croniter

from contribsync import catalog
from contribsync.observability import logger

if TYPE_CHECKING:
    from contribsync.queues import Queues


class CronDriver:
    def __init__(self, queues: Queues, *, start: datetime | None = None,
                 only: tuple[str, ...] | None = None) -> None:
        self.queues = queues
        self.events = [e for e in catalog.EVENTS if e.schedule and (only is None or e.name in only)]
        begin = start or datetime.now(UTC)
        self._next = {e.name: croniter(str(e.schedule), begin).get_next(datetime) for e in self.events}
        self.fired: list[tuple[str, datetime]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self, now: datetime) -> list[tuple[str, datetime]]:
        """Send every schedule due at or before ``now``; return what fired."""
        fired = []
        for event in self.events:
            while self._next[event.name] <= now:
                at = self._next[event.name]
                self.queues.send_event(event.name, {"scheduledAt": at.isoformat()},
                                       id=f"cron:{event.name}:{at.isoformat()}")
                logger.info("cron fired", extra={"event_name": event.name, "at": at.isoformat()})
                fired.append((event.name, at))
                self._next[event.name] = croniter(str(event.schedule), at).get_next(datetime)
        self.fired.extend(fired)
        return fired

    def next_fire(self) -> dict[str, datetime]:
        return dict(self._next)

    def start(self, interval_s: float = 5.0) -> None:
        def loop() -> None:
            while not self._stop.wait(interval_s):
                try:
                    self.tick(datetime.now(UTC))
                except Exception:
                    logger.exception("cron driver error")

        self._thread = threading.Thread(target=loop, name="cron", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)

"""A cron driver for the catalog's schedules, standing in for EventBridge Scheduler.

It sends the same message the template's Scheduler target sends: ``{"name", "id", "data":
{"scheduledAt"}}`` with the fire time, so a run computes as of the driver's clock and a fire is never
processed twice. ``tick(now)`` fires
everything due up to ``now``, so tests fast-forward the clock instead of waiting.

The driver's time is ``clock`` (``contribsync.clock``; the system's by default). On a ``ScaledClock`` the
background driver (``start``) ticks once per simulated minute, cron's finest grain (every real second at
factor 60), so an hourly schedule fires about once per real minute.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import TYPE_CHECKING

from croniter import croniter

from contribsync import catalog
from contribsync.clock import SystemClock
from contribsync.observability import logger

if TYPE_CHECKING:
    from contribsync.clock import Clock
    from contribsync.queues import Queues

DEFAULT_INTERVAL_S = 5.0  # the background driver's real seconds between ticks on the system clock


class CronDriver:
    def __init__(self, queues: Queues, *, start: datetime | None = None,
                 only: tuple[str, ...] | None = None, clock: Clock | None = None) -> None:
        self.queues = queues
        self.clock = clock or SystemClock()
        self.events = [e for e in catalog.EVENTS if e.schedule and (only is None or e.name in only)]
        begin = start or self.clock.now()
        self._next = {e.name: croniter(str(e.schedule), begin).get_next(datetime) for e in self.events}
        self.fired: list[tuple[str, datetime]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._interval_s: float | None = None  # set by start; None: from the clock's factor

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

    @property
    def interval_s(self) -> float:
        """The real seconds between ticks now."""
        return self._interval_s if self._interval_s is not None else min(DEFAULT_INTERVAL_S, 60 / self.clock.factor)

    def start(self, interval_s: float | None = None) -> None:
        """Tick in a thread every ``interval_s`` real seconds: by default 5, or a simulated minute on a
        scaled clock, whichever is shorter (read at each tick: a scaled clock's factor can change)."""
        self._interval_s = interval_s

        def loop() -> None:
            while not self._stop.wait(self.interval_s):
                try:
                    self.tick(self.clock.now())
                except Exception:
                    logger.exception("cron driver error")

        self._thread = threading.Thread(target=loop, name="cron", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)

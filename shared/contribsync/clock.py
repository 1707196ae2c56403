"""The time every run, lease, throttle, budget and deferral reads: a ``Clock``.

On Lambda it is the ``SystemClock``. A simulation of a fleet (the local stack with the GitHub simulator)
runs on a ``ScaledClock``: ``factor`` simulated seconds pass per real second (60: one simulated hour per
real minute), so a simulated week runs in minutes.

Every duration the layer computes from ``now()`` (a deferral until a rate-limit reset, a throttle's wait,
a retry's backoff) is in clock seconds. The only places that turn one into a real wait are those that ask
SQS for one (a message's DelaySeconds, a visibility timeout): they call ``real_delay_s``, the simulated
wait divided by the factor and rounded up. The reverse, a real duration in clock seconds, is the lease TTL
(a Lambda's timeout: the lease must outlive the real run), ``ttl_s * clock.factor``.

So the ``Clock`` Protocol has one member besides ``now()``: ``factor``, 1.0 for the system clock, so
nothing changes on AWS.
"""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Callable


class Clock(Protocol):
    @property
    def factor(self) -> float:
        """Simulated seconds per real second: 1.0 unless the clock is scaled."""
        ...

    def now(self) -> datetime: ...


class SystemClock:
    factor = 1.0

    def now(self) -> datetime:
        return datetime.now(UTC)


class ScaledClock:
    """``now()`` is ``start`` plus the real time elapsed since the clock was made, times ``factor``.

    ``start`` defaults to the real time now; ``monotonic`` is the real time's source (a test passes its own,
    so it can move real time by hand)."""

    def __init__(self, factor: float, *, start: datetime | None = None,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        if factor <= 0:
            raise ValueError(f"a clock's factor must be positive, not {factor}")
        self.factor = float(factor)
        self.start = start or datetime.now(UTC)
        self._monotonic = monotonic
        self._origin = monotonic()

    def now(self) -> datetime:
        return self.start + timedelta(seconds=(self._monotonic() - self._origin) * self.factor)

    def set_factor(self, factor: float) -> None:
        """From now on, ``factor`` simulated seconds per real second; ``now()`` goes on from where it is (a
        fleet run backfills slowly enough for GitHub's budget to bind, then runs its week fast). What reads
        ``factor`` reads it again each time: the cron driver's tick, SQS delays, lease lifetimes."""
        if factor <= 0:
            raise ValueError(f"a clock's factor must be positive, not {factor}")
        at = self._monotonic()
        self.start = self.start + timedelta(seconds=(at - self._origin) * self.factor)
        self._origin = at
        self.factor = float(factor)

    def real_seconds(self, simulated_s: float) -> float:
        """The real seconds ``simulated_s`` simulated seconds take (a sleep's length)."""
        return simulated_s / self.factor

    def __repr__(self) -> str:
        return f"ScaledClock(factor={self.factor:g}, start={self.start.isoformat()})"


def real_delay_s(clock: Clock, simulated_s: float) -> int:
    """The whole real seconds to ask SQS for, so a message comes back no earlier than ``simulated_s`` clock
    seconds from now: divided by the clock's factor, rounded up, at least 0. (Rounded to the microsecond
    first, so 3600 / 60 is 60, never 61 from a float's last bit.)"""
    return max(0, math.ceil(round(simulated_s / clock.factor, 6)))


__all__ = ["Clock", "ScaledClock", "SystemClock", "real_delay_s"]

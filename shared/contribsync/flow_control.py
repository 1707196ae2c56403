"""Flow control shared by every Lambda instance: concurrency leases, throttles and cancellations.

All state is in Postgres so the limits hold across instances and pollers. Time comes from an
injectable ``Clock`` (``contribsync.clock``) so tests can fast-forward a throttle without waiting, and a
simulation can run on a scaled clock.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from contribsync.clock import Clock, SystemClock
from contribsync.db import sql

if TYPE_CHECKING:
    from collections.abc import Sequence

    from contribsync.db import Database

_CANCELLED = "cancelled by cancel/function"  # the reason of a cancellation that gave none


@dataclass(frozen=True)
class Precheck:
    claimed: bool  # no other run of this event on this function is under way (see FlowControl.precheck)
    completed: bool
    cancelled: str | None  # the cancellation's reason, or None


@dataclass(frozen=True)
class Grant:
    granted: bool
    wait_s: float = 0.0


class FlowControl:
    """Leases (per-key concurrency), token buckets (throttles) and cancellation look-ups."""

    def __init__(self, db: Database, clock: Clock | None = None) -> None:
        self.db = db
        self.clock = clock or SystemClock()

    def acquire(self, *, scope: str, key: str, limit: int, ttl_s: int) -> uuid.UUID | None:
        """A lease id if fewer than ``limit`` runs of ``scope``/``key`` hold one, else None.

        ``ttl_s`` is real seconds (a Lambda's or a request's timeout: the lease must outlive the real run
        that holds it); on a scaled clock that is ``ttl_s * factor`` clock seconds."""
        run_id = uuid.uuid4()
        now = self.clock.now()
        params = {"scope": scope, "key": key, "limit": limit, "run_id": run_id, "now": now,
                  "expires_at": now + timedelta(seconds=ttl_s * self.clock.factor)}
        with self.db.transaction() as conn:
            conn.execute(sql("lease_lock"), params)
            row = conn.execute(sql("lease_acquire"), params).fetchone()
        return run_id if row else None

    def release(self, lease: uuid.UUID, *, scope: str) -> None:
        with self.db.transaction() as conn:
            conn.execute(sql("lease_release"), {"run_id": lease, "scope": scope, "now": self.clock.now()})

    def take(self, *, scope: str, key: str, limit: int, period_s: int) -> Grant:
        """Take one token from the bucket of ``scope``/``key`` (capacity ``limit``, refilled per period)."""
        rate = limit / period_s
        with self.db.transaction() as conn:
            row = conn.execute(
                sql("throttle_take"),
                {"scope": scope, "key": key, "capacity": limit, "rate": rate, "now": self.clock.now()},
            ).fetchone()
        assert row is not None  # INSERT … ON CONFLICT DO UPDATE always returns the row
        if row["granted"]:
            return Grant(True)
        return Grant(False, wait_s=(1 - float(row["tokens"])) / rate)

    def cancel(self, *, function: str, event_name: str | None, match: dict[str, Any],
               reason: str | None, event_id: str | None) -> uuid.UUID:
        row = self.db.query_one("cancel_insert", {
            "function": function, "event_name": event_name, "match": json.dumps(match),
            "reason": reason, "event_id": event_id, "now": self.clock.now(),
        })
        assert row is not None
        return uuid.UUID(str(row["id"]))

    def cancellation(self, *, function: str, event_names: Sequence[str], event_time: datetime,
                     data: dict[str, Any]) -> str | None:
        """The reason of a cancellation that applies to this run, or None."""
        row = self.db.query_one("cancel_match", {
            "function": function, "event_names": list(event_names), "event_time": event_time,
            "data": json.dumps(data, default=str), "now": self.clock.now(),
        })
        if row is None:
            return None
        return str(row["reason"] or _CANCELLED)

    def precheck(self, *, event_id: str, function: str, event_names: Sequence[str], event_time: datetime,
                 data: dict[str, Any]) -> Precheck:
        """What a run of ``event_id`` on ``function`` starts with, in one round trip: the run's claim (an
        advisory lock of this session, ``release_run`` gives it back), whether the event already
        completed there, and the reason of a cancellation that applies (``cancellation``)."""
        row = self.db.query_one("run_precheck", {
            "event_id": event_id, "function": function, "event_names": list(event_names),
            "event_time": event_time, "data": json.dumps(data, default=str), "now": self.clock.now(),
        })
        assert row is not None  # a SELECT without FROM always returns its row
        cancelled = row["cancelled"]
        return Precheck(bool(row["claimed"]), bool(row["completed"]),
                        None if cancelled is None else str(cancelled or _CANCELLED))

    def release_run(self, *, event_id: str, function: str) -> None:
        """Give back the claim ``precheck`` took (on this thread's connection, which took it)."""
        self.db.query("run_release", {"event_id": event_id, "function": function})


__all__ = ["Clock", "FlowControl", "Grant", "Precheck", "SystemClock"]

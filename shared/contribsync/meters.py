"""What GitHub requests cost, counted per thread: the meters a run and a sync log read.

``Stats`` tallies requests, 304s, retries, shrunk pages, the points charged to a token's budget
(``graphql_points``: GraphQL's ``rateLimit.cost`` as GitHub charged it; ``rest_points``: 1 per REST answer
GitHub charges, so neither a 304 nor a server error nor a refusal for a spent budget) and the lowest budget
GitHub said was left (``x-ratelimit-remaining``, GraphQL ``rateLimit.remaining``).

``metered()`` opens a meter for the current thread. The GitHub client counts each request into the
thread's innermost meter and every meter that one was opened in (``Stats.parent``): a run's meter so also
counts what a sync log's meter inside it counts, in the worker threads that join the sync log's meter
with ``metered(log.stats)``.

A module of its own, without httpx: the runtime meters every run, and must not import the GitHub client
into a function that never calls GitHub (it would cost that function's cold start).
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

_open = threading.local()
_lock = threading.Lock()  # several threads of one run count into its meter at once


@dataclass
class Stats:
    requests: int = 0
    not_modified: int = 0
    retries: int = 0
    shrunk_pages: int = 0
    graphql_points: int = 0
    rest_points: int = 0
    lowest_remaining: int | None = None
    parent: Stats | None = field(default=None, repr=False, compare=False)

    @property
    def points(self) -> int:
        """What the requests cost against GitHub's budgets: GraphQL points plus charged REST requests."""
        return self.graphql_points + self.rest_points


def current() -> Stats | None:
    """The current thread's innermost meter, if one is open."""
    meter: Stats | None = getattr(_open, "stats", None)
    return meter


@contextmanager
def metered(meter: Stats | None = None) -> Iterator[Stats]:
    """Count what this thread sends inside the block into ``meter``, a new one (nested in the thread's
    current meter) if not given. A worker thread of a run passes the run's meter to join it."""
    previous = current()
    meter = meter if meter is not None else Stats(parent=previous)
    _open.stats = meter
    try:
        yield meter
    finally:
        _open.stats = previous


def _chain(totals: Stats | None) -> Iterator[Stats]:
    if totals is not None:
        yield totals
    meter = current()
    while meter is not None:
        yield meter
        meter = meter.parent


def count(name: str, n: int = 1, *, totals: Stats | None = None) -> None:
    """Add ``n`` to the field ``name`` of ``totals`` (a client's own) and of the thread's meters."""
    with _lock:
        for stats in _chain(totals):
            setattr(stats, name, getattr(stats, name) + n)


def saw_remaining(remaining: int, *, totals: Stats | None = None) -> None:
    """GitHub said ``remaining`` points are left in a budget: keep the lowest."""
    with _lock:
        for stats in _chain(totals):
            if stats.lowest_remaining is None or remaining < stats.lowest_remaining:
                stats.lowest_remaining = remaining


__all__ = ["Stats", "count", "current", "metered", "saw_remaining"]

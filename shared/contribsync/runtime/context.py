"""What a service gets besides its data: the run's identity, the clients, sending, checkpoints and steps."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from contribsync.errors import Cancelled
from contribsync.runtime.failure import mark

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence

    from contribsync.ai.embedder import Embedder
    from contribsync.ai.summarizer import Summarizer
    from contribsync.catalog import Event
    from contribsync.clients import Clients
    from contribsync.db import Database
    from contribsync.flow_control import Clock
    from contribsync.github import GitHubClient
    from contribsync.queues import Queues
    from contribsync.settings import Settings

_FANOUT_NAMESPACE = uuid.UUID("5c0e7d1e-2f5b-4a53-9b1c-6c6f6e747269")


def _never_cancelled() -> str | None:
    return None


@dataclass
class RunContext:
    """One run of one event on one function: who it is, the clients it may use, and its follow-ups."""

    event_id: str
    event_name: str
    function: str
    attempt: int
    data: Mapping[str, Any]
    clients: Clients = field(repr=False)
    _cancellation: Callable[[], str | None] = field(repr=False, default=_never_cancelled)
    # the retries are spent: if this attempt fails (retriable or not), its message goes to the DLQ
    final_attempt: bool = False
    # each thread's open steps, innermost last (``step``); the enhanced sync pages in three threads
    _steps: threading.local = field(default_factory=threading.local, repr=False, compare=False)

    @classmethod
    def outside_a_run(cls, clients: Clients, event: Event, data: Mapping[str, Any] | None = None, *,
                      event_id: str | None = None) -> RunContext:
        """A context for calling a service directly, as the CLI and the benchmarks do: first attempt, never
        cancelled, nothing in the run history. ``event_id`` names its progress and its follow-ups' ids."""
        return cls(event_id or f"cli:{uuid.uuid4()}", event.name, event.function, 1, data if data is not None else {},
                   clients)

    # -- the clients, by what a service uses ------------------------------------------------------

    @property
    def settings(self) -> Settings:
        return self.clients.settings

    @property
    def db(self) -> Database:
        return self.clients.db

    @property
    def queues(self) -> Queues:
        return self.clients.queues

    @property
    def clock(self) -> Clock:
        return self.clients.clock

    @property
    def github(self) -> GitHubClient:
        return self.clients.github

    @property
    def summarizer(self) -> Summarizer:
        return self.clients.summarizer

    @property
    def embedder(self) -> Embedder | None:
        return self.clients.embedder

    def mask(self, text: str) -> str:
        """``text`` with the configured secrets and credential shapes masked: every error text a service
        stores passes through it (``Clients.mask``)."""
        return self.clients.mask(text)

    # -- progress and cancellation --------------------------------------------------------------

    def progress(self) -> dict[str, Any] | None:
        """Where a previous attempt at this event stopped (``save_progress``), or None."""
        row = self.db.query_one("run_progress_get", {"function": self.function, "event_id": self.event_id})
        return dict(row["progress"]) if row else None

    def progress_params(self, progress: Mapping[str, Any]) -> dict[str, Any]:
        """Parameters of ``run_progress_save``, for a service that saves progress in its own transaction."""
        from psycopg.types.json import Jsonb

        return {"function": self.function, "event_id": self.event_id, "progress": Jsonb(dict(progress))}

    def save_progress(self, progress: Mapping[str, Any]) -> None:
        self.db.query("run_progress_save", self.progress_params(progress))

    def clear_progress(self) -> None:
        self.db.query("run_progress_clear", {"function": self.function, "event_id": self.event_id})

    def checkpoint(self) -> None:
        """Raise ``Cancelled`` if a cancel/function for this run arrived since it started."""
        if reason := self._cancellation():
            raise Cancelled(reason)

    # -- where the run is -----------------------------------------------------------------------

    @contextmanager
    def step(self, **where: object) -> Iterator[None]:
        """Say what the run is doing inside the block: ``with ctx.step(stream="OPEN"):``. A failure that
        leaves the block keeps ``where``, over the steps around it in this thread, as the step it failed
        at (``function_runs.error_step``; an inner step's wins). A key given None is left out. The runtime
        opens one around the service; a thread a service starts opens its own."""
        stack = self._open_steps()
        stack.append(_merged(stack[-1] if stack else {}, where))
        try:
            yield
        except BaseException as exc:
            mark(exc, stack[-1])
            raise
        finally:
            stack.pop()

    def at(self, **where: object) -> None:
        """Update this thread's innermost step, as a paging loop does at each page: ``ctx.at(page=3)``. It
        holds until changed or until its ``step`` block ends; None removes a key. Outside any step (a
        thread of the service's own that opened none), nothing is kept."""
        stack = self._open_steps()
        if stack:
            stack[-1] = _merged(stack[-1], where)

    def _open_steps(self) -> list[dict[str, Any]]:
        stack: list[dict[str, Any]] | None = getattr(self._steps, "stack", None)
        if stack is None:
            stack = self._steps.stack = []
        return stack

    # -- follow-up events -------------------------------------------------------------------------

    def send(self, name: str, data: Mapping[str, Any]) -> str:
        """Send a follow-up event (see ``send_many``)."""
        return self.send_many(name, [data])[0]

    def send_many(self, name: str, payloads: Sequence[Mapping[str, Any]]) -> list[str]:
        """Send follow-up events in batches. Each id derives from this event's id and the payload, so
        a retried run re-sends the same ids and the receiving function skips what already completed
        (contributor.info re-sent its fan-out on every retry)."""
        return self.queues.send_events([
            {"name": name, "data": dict(data), "id": self._child_id(name, data)} for data in payloads
        ])

    def _child_id(self, name: str, data: Mapping[str, Any]) -> str:
        canonical = json.dumps(dict(data), sort_keys=True, default=str)
        return str(uuid.uuid5(_FANOUT_NAMESPACE, f"{self.event_id}/{name}/{canonical}"))


def _merged(step: Mapping[str, Any], where: Mapping[str, object]) -> dict[str, Any]:
    merged = {**step, **where}
    return {key: value for key, value in merged.items() if value is not None}


# A service: the event's validated data and the run's context in, a JSON-able result (or a model) out.
Service = Callable[[Any, "RunContext"], Any]

__all__ = ["RunContext", "Service"]

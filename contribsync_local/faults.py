"""Fault injection for the local stack, the demo and the chaos suite: a fault runs before a function's
service, inside its run, as if the service itself had failed (or its worker had died) at its start; or a
stand-in replaces the service (``replace``: a run that takes a known time and touches nothing, for a
backlog whose runs only need to take time).

It wraps what the layer exposes (``Runtime.service``) instead of living in the layer: a deployed
function has no hook to inject faults through.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    from contribsync.runtime import RunContext, Runtime, Service


class Injected:
    """A service in place of one runtime's own; ``remove()`` restores it (safe to call twice)."""

    def __init__(self, runtime: Runtime, service: Callable[[Service], Service]) -> None:
        """``service`` makes the stand-in from the original."""
        self.runtime = runtime
        self.original = runtime.service
        self._lock = threading.Lock()
        runtime.service = service(self.original)

    def remove(self) -> None:
        with self._lock:
            self.runtime.service = self.original


def inject(runtime: Runtime, fault: Callable[[RunContext], None]) -> Injected:
    """Run ``fault(ctx)`` at the start of every run of ``runtime`` until ``remove()``."""

    def faulty(original: Service) -> Service:
        def run(data: Any, ctx: RunContext) -> Any:  # noqa: ANN401 - any service's data and result
            fault(ctx)
            return original(data, ctx)

        return run

    return Injected(runtime, faulty)


def replace(runtime: Runtime, service: Service) -> Injected:
    """Run ``service`` instead of the runtime's own until ``remove()``."""
    return Injected(runtime, lambda _original: service)


__all__ = ["Injected", "inject", "replace"]

"""Fault injection for the local stack, the demo and the chaos suite: a fault runs before a function's
service, inside its run, as if the service itself had failed (or its worker had died) at its start.

It wraps what the layer exposes (``Runtime.service``) instead of living in the layer: a deployed
function has no hook to inject faults through.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    from contribsync.runtime import RunContext, Runtime


class Injected:
    """A fault in place on one runtime; ``remove()`` restores its service (safe to call twice)."""

    def __init__(self, runtime: Runtime, fault: Callable[[RunContext], None]) -> None:
        self.runtime = runtime
        self.original = runtime.service
        self._lock = threading.Lock()

        def faulty(data: Any, ctx: RunContext) -> Any:  # noqa: ANN401 - any service's data and result
            fault(ctx)
            return self.original(data, ctx)

        runtime.service = faulty

    def remove(self) -> None:
        with self._lock:
            self.runtime.service = self.original


def inject(runtime: Runtime, fault: Callable[[RunContext], None]) -> Injected:
    """Run ``fault(ctx)`` at the start of every run of ``runtime`` until ``remove()``."""
    return Injected(runtime, fault)


__all__ = ["Injected", "inject"]

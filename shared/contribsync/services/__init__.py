"""Domain services: one module per concern, each a function ``(data, ctx) -> result``.

A handler imports its own service (``functions/<name>/app.py``, generated from the catalog), so it never
pays for another's imports, and a reader or the type checker follows the reference from there.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from contribsync.catalog import Event
    from contribsync.runtime import Service


def load(event: Event) -> Service:
    """The service the catalog names for ``event`` (``module:function`` under this package), for code that
    runs any function by its event: the CLI's ``invoke``, the local stack's tests and the benchmarks."""
    module, _, name = event.service.partition(":")
    service: Service = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    return service


__all__ = ["load"]

"""What the commands print, shared by the command groups: the console, paths as the operator typed them,
the run-history table, and ``--verbose`` (where the local stack's HTTP access lines go)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    import argparse

RUN_STATUS_COLOURS = {"completed": "green", "failed": "red", "retrying": "yellow", "deferred": "cyan",
                      "cancelled": "magenta", "skipped": "dim"}


def terminal_console() -> Console:
    """The console every command prints to: wide tables when the output is not a terminal (make demo
    piped to a log, CI)."""
    return Console(width=None if sys.stdout.isatty() else 160)


def shown(path: Path) -> str:
    """A path as the operator typed it: relative to the working folder when inside it."""
    return str(path.relative_to(Path.cwd())) if path.is_relative_to(Path.cwd()) else str(path)


def print_runs(console: Console, rows: list[dict[str, Any]], title: str = "run history") -> None:
    """Run-history rows (``RunHistory.recent``), oldest first, one line each."""
    table = Table("run", "started", "function", "event", "attempt", "status", "ms", "error / result", title=title)
    for r in reversed(rows):
        detail = r["error"] or (json.dumps(r["result"], default=str) if r["result"] is not None else "")
        detail = " ".join(detail.split())
        status = r["status"] + (" → DLQ" if r["dead_lettered"] else "")
        table.add_row(str(r["id"])[:8], r["started_at"].strftime("%H:%M:%S.%f")[:-3], r["function"], r["event_name"],
                      str(r["attempt"]), f"[{RUN_STATUS_COLOURS.get(r['status'], 'white')}]{status}[/]",
                      str(r["duration_ms"] or ""), detail[:90])
    console.print(table)


def add_verbose_option(command: argparse.ArgumentParser) -> None:
    command.add_argument("--verbose", action="store_true",
                         help="print a line per HTTP request (by default they go to .local/logs/http-access.log)")


__all__ = ["RUN_STATUS_COLOURS", "add_verbose_option", "print_runs", "shown", "terminal_console"]

"""What the commands print, shared by the command groups: the console, paths as the operator typed them,
the run history (a table of runs, of failures, or one run in full), and ``--verbose`` (where the local
stack's HTTP access lines go).

What a run recorded is printed as text, never read as rich markup: an error message may hold brackets."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from contribsync.runtime.failure import innermost_frame, shown_step, step_line

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
        table.add_row(str(r["id"])[:8], r["started_at"].strftime("%H:%M:%S.%f")[:-3], r["function"],
                      Text(r["event_name"]), str(r["attempt"]), _status(r), str(r["duration_ms"] or ""),
                      Text(detail[:90]))
    console.print(table)


def _status(run: dict[str, Any]) -> Text:
    return Text(run["status"] + (" → DLQ" if run["dead_lettered"] else ""),
                style=RUN_STATUS_COLOURS.get(run["status"], "white"))


def _error(run: dict[str, Any]) -> str:
    return f"{run['error_type']}: {run['error']}" if run["error_type"] else run["error"] or ""


def print_failures(console: Console, rows: list[dict[str, Any]]) -> None:
    """Failed and retried runs (``runs --failed``), oldest first, a few lines each: the run, its error, the
    step it failed at and the last frame of ours it went through; ``contribsync runs RUN_ID`` shows one in
    full. Lines, not a table: a step's cursor or URL would not fit a table's column."""
    if not rows:
        console.print("no failed or retried runs")
    for r in reversed(rows):
        head = Text(f"{str(r['id'])[:8]}  {r['started_at']:%Y-%m-%d %H:%M:%S}  {r['function']}  "
                    f"attempt {r['attempt']}  ")
        console.print(head + _status(r), highlight=False)
        console.print(Text(f"  {' '.join(_error(r).split())[:300]}", style="red"), highlight=False)
        if r["error_step"]:
            console.print(Text(f"  at {step_line(r['error_step'])}"), highlight=False)
        if where := innermost_frame(r["error_traceback"]):
            console.print(Text(f"  in {where}"), highlight=False)


def print_run(console: Console, run: dict[str, Any]) -> None:
    """One run in full (``runs RUN_ID``): what, when, its error, step and traceback, data, result, and the
    attempts of its event (``contribsync_ops.operations.run``)."""
    facts = Table.grid(padding=(0, 2))
    facts.add_row("run", str(run["id"]))
    facts.add_row("function", run["function"])
    facts.add_row("event", Text(f"{run['event_name']} (id {run['event_id']})"))
    facts.add_row("attempt", str(run["attempt"]))
    facts.add_row("status", _status(run))
    facts.add_row("started", str(run["started_at"]))
    facts.add_row("ended", f"{run['ended_at'] or 'not yet'} ({run['duration_ms'] or 0} ms)")
    if run["next_attempt_at"]:
        facts.add_row("next attempt", str(run["next_attempt_at"]))
    console.print(facts)
    if run["error"] is not None:
        console.print("\n[bold]error[/]")
        console.print(Text(f"  {_error(run)}", style="red"))
    if run["error_step"]:
        console.print("\n[bold]step[/]")
        step = Table.grid(padding=(0, 2))
        for key, value in shown_step(run["error_step"]):
            step.add_row(f"  {key}", Text(str(value)))
        console.print(step)
    if run["error_traceback"]:
        console.print("\n[bold]traceback[/] (our frames only)")
        console.print(Text(run["error_traceback"].rstrip("\n")), highlight=False)
    for heading, value in (("data", run["data"]), ("result", run["result"])):
        if value is not None:
            console.print(f"\n[bold]{heading}[/]")
            console.print(Text(json.dumps(value, indent=2, default=str)), highlight=False)
    attempts = Table("run", "started", "attempt", "status", "error", "step", title="attempts of this event")
    for a in run.get("attempts", []):
        attempts.add_row(str(a["id"])[:8] + (" (this)" if a["id"] == run["id"] else ""),
                         a["started_at"].strftime("%H:%M:%S"), str(a["attempt"]), _status(a),
                         Text(" ".join(_error(a).split())[:120]), Text(step_line(a["error_step"])))
    console.print(attempts)


def add_verbose_option(command: argparse.ArgumentParser) -> None:
    command.add_argument("--verbose", action="store_true",
                         help="print a line per HTTP request (by default they go to .local/logs/http-access.log)")


__all__ = ["RUN_STATUS_COLOURS", "add_verbose_option", "print_failures", "print_run", "print_runs", "shown",
           "terminal_console"]

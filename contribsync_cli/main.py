"""``contribsync``: catalog, database, local stack, GitHub simulator, invoking and sending, run history, demo.

This module only builds the argument parser from each command group's ``register`` (one module per group)
and dispatches to the command chosen.
"""

from __future__ import annotations

import argparse

from contribsync_cli import (
    backfill,
    backfill_discussions,
    database,
    demo,
    dev,
    event_catalog,
    events,
    gaps,
    github,
    invoke,
    operations,
    similar,
    simulate_github,
    workspaces,
)
from contribsync_cli.output import terminal_console

console = terminal_console()


def parser() -> argparse.ArgumentParser:
    """Every command, in the order ``contribsync --help`` lists them."""
    p = argparse.ArgumentParser(prog="contribsync", description=__doc__.split("\n", 1)[0])
    sub = p.add_subparsers(dest="command", required=True)
    event_catalog.register(sub, console)
    database.register(sub, console)
    dev.register(sub, console)
    simulate_github.register(sub, console)
    invoke.register(sub, console)
    events.register(sub, console)
    github.register(sub, console)
    backfill_discussions.register(sub, console)
    workspaces.register(sub, console)
    similar.register(sub, console)
    operations.register(sub, console)
    backfill.register(sub, console)
    gaps.register(sub, console)
    demo.register(sub, console, run_command=run_command)
    return p


def run_command(argv: list[str]) -> int:
    """Run one command in this process and return its exit code (the demo runs its commands this way)."""
    args = parser().parse_args(argv)
    try:
        args.func(args)
    except SystemExit as exit_:
        return int(exit_.code or 0) if isinstance(exit_.code, int | None) else 1
    return 0


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()

"""``contribsync github rate-limit [--json]``: each token's recorded budget per resource (tokens appear as
fingerprints only)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from rich.table import Table

if TYPE_CHECKING:
    import argparse

    from rich.console import Console

HEALTHY_SHARE, LOW_SHARE = 0.5, 0.1  # of a budget left: green above the first, red below the second


def rate_limit(args: argparse.Namespace, console: Console) -> None:
    from contribsync.github.budget import PostgresBudget
    from contribsync_cli.local_env import database

    rows = PostgresBudget(database()).budgets()
    if args.json:
        print(json.dumps(rows, indent=2, default=str))
        return
    table = Table("token", "resource", "remaining", "limit", "used", "resets", "observed", title="GitHub budget")
    for r in rows:
        share = r["remaining"] / r["limit"] if r["limit"] else 0
        colour = "green" if share > HEALTHY_SHARE else "yellow" if share > LOW_SHARE else "red"
        table.add_row(r["token_id"], r["resource"], f"[{colour}]{r['remaining']}[/]", str(r["limit"]),
                      str(r["used"] if r["used"] is not None else ""), r["reset_at"].strftime("%H:%M:%S"),
                      r["observed_at"].strftime("%H:%M:%S"))
    console.print(table)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], console: Console) -> None:
    g = sub.add_parser("github", help="GitHub: rate-limit budgets")
    g.add_argument("github_command", choices=["rate-limit"])
    g.add_argument("--json", action="store_true")
    g.set_defaults(func=lambda a: rate_limit(a, console))

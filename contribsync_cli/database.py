"""``contribsync db migrate | url``: the configured database (``DATABASE_URL``, else the embedded Postgres)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse

    from rich.console import Console


def db(args: argparse.Namespace, console: Console) -> None:
    from contribsync.db import Database, migrate
    from contribsync_local import postgres

    if args.db_command == "url":
        print(postgres.database_url())
        return
    database = Database(postgres.database_url(), application_name="contribsync-cli")
    try:
        applied = migrate(database)
    finally:
        database.close()
    console.print(f"schema up to date ({len(applied)} applied now: {', '.join(applied) or 'none'})")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], console: Console) -> None:
    d = sub.add_parser("db", help="database: migrate, url")
    d.add_argument("db_command", choices=["migrate", "url"])
    d.set_defaults(func=lambda a: db(a, console))

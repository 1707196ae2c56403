"""The embedded Postgres: PostgreSQL 16.2 with pgvector 0.6.2, started by the project itself.

Used when ``DATABASE_URL`` is unset. Debian's PostgreSQL packages here have no pgvector, so the
server comes from ``pgserver`` (PyPI), which bundles both. It runs under ``.local/pg`` (creating an
OS user for itself when run as root, since ``initdb`` refuses root), listens on a unix socket only,
and is left running (``cleanup_mode=None``) so the next command reuses it in ~0 s instead of starting
it again. ``make clean`` stops it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

if TYPE_CHECKING:
    from collections.abc import Mapping

ROOT = Path(__file__).resolve().parent.parent / ".local" / "pg"
DATABASE = "contribsync"


def _with_db(dsn: str, name: str) -> str:
    parts = urlsplit(dsn)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def server_url(root: Path = ROOT) -> str:
    """The admin DSN of the embedded server, started if it is not running."""
    import warnings

    with warnings.catch_warnings():  # platformdirs warns about XDG_RUNTIME_DIR on import, as root
        warnings.simplefilter("ignore")
        import pgserver

    root.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(str(root), cleanup_mode=None)  # type: ignore[attr-defined]
    return str(server.get_uri())


def create_database(admin_dsn: str, name: str, *, drop_first: bool = False, template: str | None = None) -> str:
    """Create database ``name`` if missing (dropping it first if asked; copying ``template`` if given);
    return its DSN."""
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        if drop_first:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists and template:
            conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name),
                                                                          sql.Identifier(template)))
        elif not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return _with_db(admin_dsn, name)


def drop_database(admin_dsn: str, name: str) -> None:
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def database_url(env: Mapping[str, str] | None = None, *, root: Path = ROOT) -> str:
    """``DATABASE_URL`` if set, else the embedded server's ``contribsync`` database (created if missing)."""
    env = os.environ if env is None else env
    if url := env.get("DATABASE_URL"):
        return url
    return create_database(server_url(root), DATABASE)


def stop(root: Path = ROOT) -> None:
    """Stop the embedded server if it runs."""
    import subprocess

    import pgserver

    pg_ctl = Path(str(pgserver.__file__)).parent / "pginstall" / "bin" / "pg_ctl"
    if not (root / "postmaster.pid").exists():
        return
    command = [str(pg_ctl), "-D", str(root), "-m", "fast", "stop"]
    if os.geteuid() == 0:  # pg_ctl refuses root: run it as the OS user pgserver made to own the data
        import pwd

        command = ["runuser", "-u", pwd.getpwuid(root.stat().st_uid).pw_name, "--", *command]
    subprocess.run(command, check=False)

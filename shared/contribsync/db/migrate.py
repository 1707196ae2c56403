"""Ordered SQL migrations, applied once each, under an advisory lock.

``db/migrations/NNNN_name.sql`` files run in filename order, each in its own transaction, and are
recorded in ``schema_migrations`` with a checksum. Concurrent callers (several Lambdas, a CLI and a
test) serialise on a fixed advisory lock, so each file is applied exactly once. Changing a file that
was already applied is an error: write a new migration instead.
"""

from __future__ import annotations

import hashlib
from importlib import resources
from typing import TYPE_CHECKING

from contribsync.errors import StoreError

if TYPE_CHECKING:
    from contribsync.db.connection import Database

_LOCK_KEY = 0x636F6E7472696273  # "contribs"


def _files() -> list[tuple[str, str]]:
    folder = resources.files("contribsync").joinpath("db", "migrations")
    return sorted((f.name, f.read_text(encoding="utf-8")) for f in folder.iterdir() if f.name.endswith(".sql"))


def migrate(db: Database) -> list[str]:
    """Apply the migrations not applied yet; return their names."""
    conn = db.connection()
    applied_now: list[str] = []
    conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
    try:
        with db.transaction() as tx:
            tx.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, name text NOT NULL,"
                " checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
            )
        done = {r["version"]: r["checksum"] for r in conn.execute("SELECT version, checksum FROM schema_migrations")}
        for name, text in _files():
            version = name.split("_", 1)[0]
            checksum = hashlib.sha256(text.encode()).hexdigest()
            if version in done:
                if done[version] != checksum:
                    raise StoreError(f"migration {name} changed after it was applied; add a new migration")
                continue
            with db.transaction() as tx:
                tx.execute(text.encode())
                tx.execute("INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                           (version, name, checksum))
            applied_now.append(name)
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))
    return applied_now


__all__ = ["migrate"]

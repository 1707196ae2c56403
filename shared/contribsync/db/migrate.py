"""Ordered SQL migrations, applied once each, under an advisory lock.

``db/migrations/NNNN_name.sql`` files run in filename order, each in its own transaction, and are
recorded in ``schema_migrations`` with a checksum. Concurrent callers (several Lambdas, a CLI and a
test) serialise on a fixed advisory lock, so each file is applied exactly once. Changing a file that
was already applied is an error: write a new migration instead.

That lock is the database's; roles are the cluster's. Two databases of one cluster migrated at once
(two stages on one server, or parallel test workers) can both find a role missing and both create it.
The loser's migration rolled back whole, so it is run again, where its ``IF NOT EXISTS`` now skips the
role.
"""

from __future__ import annotations

import hashlib
from importlib import resources
from typing import TYPE_CHECKING

import psycopg

from contribsync.errors import StoreError

if TYPE_CHECKING:
    from contribsync.db.connection import Database

_LOCK_KEY = 0x636F6E7472696273  # "contribs"

# Files changed after release, with the checksum each had before. A database that applied the earlier
# text ends with the same schema: 0002-0007 and 0014 only had a comment reworded (it named a document
# that is not in the repository); 0003 no longer creates the views pr_comments and issue_comments,
# which 0022 replaces with contributor.info's. Its recorded checksum is moved to the current one.
_EARLIER_CHECKSUMS = {
    "0002": "615a5037fd5e1819d0636c60f7da7df695475489976f58ba659119dd0c6510c7",
    "0003": "8ab7affde311ba3dae8082b93cc4a58c3448cc836b92a9434f62bdf0d172fe81",
    "0004": "f73b88688c20b38e5c42998cb41fa03b74cf1cae3f2aa7ecb4ba5cedec44bd55",
    "0005": "24e5161c07ae0621722d748ff5103fe4ac451fb9d03c108b780f04bf1ea7393f",
    "0006": "a79bd1a717ed5705b97794143e4812bfad11ab26d51d9fc67c2480a0200fbc9e",
    "0007": "aecb4ea28886069df2c4682fa0b1ea5b2baa1581c21e71801e8139dbe9588bf2",
    "0014": "8bbc9ee8a3c3eebafca65b8f63f56ff5c7c286d061a886aa349b58dc9b172f3e",
}


_TRIES = 3


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
                if done[version] == _EARLIER_CHECKSUMS.get(version):
                    conn.execute("UPDATE schema_migrations SET checksum = %s WHERE version = %s", (checksum, version))
                elif done[version] != checksum:
                    raise StoreError(f"migration {name} changed after it was applied; add a new migration")
                continue
            for attempt in range(1, _TRIES + 1):
                try:
                    with db.transaction() as tx:
                        tx.execute(text.encode())
                        tx.execute("INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                                   (version, name, checksum))
                    break
                except StoreError as error:
                    if attempt == _TRIES or not lost_a_race_for_a_role(error.__cause__):
                        raise
            applied_now.append(name)
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))
    return applied_now


def lost_a_race_for_a_role(cause: BaseException | None) -> bool:
    """True when another database's script created a role this one was creating: it committed either
    before our ``CREATE ROLE`` (duplicate_object) or while it waited on the same name (unique_violation on
    the cluster's role index)."""
    if isinstance(cause, psycopg.errors.DuplicateObject):
        return "role" in str(cause)
    return isinstance(cause, psycopg.errors.UniqueViolation) and cause.diag.constraint_name == "pg_authid_rolname_index"


__all__ = ["lost_a_race_for_a_role", "migrate"]

"""A psycopg 3 connection reused across Lambda invocations, and the SQL files it runs.

Every statement the code runs lives in ``contribsync/sql/<name>.sql`` with ``%(name)s`` parameters,
so a test can prepare each one against the migrated schema (a missing column fails there, not in
production). Code outside the layer keeps its own statements in its own package's folder, a
``SqlFolder`` (``contribsync_ops/sql/``), and runs them with ``query(name, params, folder=...)``.
psycopg errors are translated to ``StoreError`` here, once.
"""

from __future__ import annotations

import select
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import psycopg
from psycopg.pq import ConnStatus, TransactionStatus
from psycopg.rows import DictRow, dict_row

from contribsync.errors import StoreError

Params = Mapping[str, Any] | None


@dataclass(frozen=True)
class SqlFolder:
    """A package's folder of named SQL files: ``SqlFolder("contribsync_ops")`` holds
    ``contribsync_ops/sql/<name>.sql``."""

    package: str
    folder: str = "sql"

    def text(self, name: str) -> str:
        """The text of ``<package>/<folder>/<name>.sql``."""
        return _read(self.package, self.folder, name)

    def names(self) -> list[str]:
        """The names of its SQL files, sorted (without ``.sql``)."""
        return sorted(f.name.removesuffix(".sql") for f in resources.files(self.package).joinpath(self.folder)
                      .iterdir() if f.name.endswith(".sql"))


LAYER_SQL = SqlFolder("contribsync")  # the layer's own statements, the default of every query


@cache
def _read(package: str, folder: str, name: str) -> str:
    return resources.files(package).joinpath(folder, f"{name}.sql").read_text(encoding="utf-8")


def sql(name: str) -> str:
    """The text of ``contribsync/sql/{name}.sql``."""
    return LAYER_SQL.text(name)


class Database:
    """A lazily opened autocommit connection, reopened when a previous invocation left it broken or the
    server closed it since (a restart, a failover, an idle timeout, ``pg_terminate_backend``).

    One connection per thread: a Lambda container runs one invocation at a time, so that is one
    connection per container, reused across invocations; the local stack's pollers run several
    handlers of one function in threads, and must not share a connection's transaction. A thread that
    ended leaves its connection behind (the local HTTP server runs each request in a new thread, a
    sync pages in worker threads): those are closed whenever a new connection is opened.
    """

    def __init__(self, dsn: str, *, application_name: str = "contribsync") -> None:
        self.dsn = dsn
        self._application_name = application_name
        self._local = threading.local()
        self._all: list[tuple[threading.Thread, psycopg.Connection[DictRow]]] = []
        self._lock = threading.Lock()

    def connection(self) -> psycopg.Connection[DictRow]:
        conn: psycopg.Connection[DictRow] | None = getattr(self._local, "conn", None)
        if (conn is None or conn.closed or conn.broken
                or _closed_by_server(conn, self._local.watch, self._local.ending)):
            stale = conn
            if stale is not None:
                stale.close()
            try:
                conn = psycopg.connect(
                    self.dsn, autocommit=True, row_factory=dict_row,
                    application_name=self._application_name, connect_timeout=10,
                )
            except psycopg.Error as exc:
                raise StoreError(f"cannot connect to Postgres: {exc}") from exc
            self._local.conn = conn
            # a server ending an idle connection sends a FATAL first, which libpq hands to the notice
            # handlers, then EOF: between the two the connection still looks usable
            self._local.ending = []
            conn.add_notice_handler(_fatal_recorder(self._local.ending))
            self._local.watch = select.poll()  # made once per connection: it is checked before every use
            self._local.watch.register(conn.fileno(), select.POLLIN)  # not select(): no limit on the fd
            with self._lock:
                ended = [c for t, c in self._all if not t.is_alive()]
                self._all = [(t, c) for t, c in self._all if t.is_alive() and c is not stale]
                self._all.append((threading.current_thread(), conn))
            for old in ended:
                old.close()
        return conn

    @contextmanager
    def transaction(self) -> Iterator[psycopg.Connection[DictRow]]:
        """A transaction on the shared connection; psycopg errors become ``StoreError``."""
        conn = self.connection()
        try:
            with conn.transaction():
                yield conn
        except psycopg.Error as exc:
            raise StoreError(f"database error: {exc}") from exc

    def query(self, name: str, params: Params = None, *, folder: SqlFolder = LAYER_SQL) -> list[dict[str, Any]]:
        """Run the named SQL file of ``folder`` (the layer's by default) and return its rows (empty for
        statements without RETURNING).

        One statement is atomic by itself, so it runs as it is: on its own in autocommit (one round
        trip, where BEGIN/COMMIT made three), or inside the caller's open transaction (no savepoint;
        an error aborts that transaction, which the caller's ``transaction()`` then rolls back).
        """
        try:
            with self.connection().cursor() as cur:
                cur.execute(folder.text(name), params)
                return cur.fetchall() if cur.description else []
        except psycopg.Error as exc:
            raise StoreError(f"database error: {exc}") from exc

    def query_one(self, name: str, params: Params = None, *, folder: SqlFolder = LAYER_SQL) -> dict[str, Any] | None:
        rows = self.query(name, params, folder=folder)
        return rows[0] if rows else None

    def close(self) -> None:
        """Close every connection this object opened, in any thread."""
        with self._lock:
            for _, conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()


def _closed_by_server(conn: psycopg.Connection[DictRow], watch: select.poll, ending: list[str]) -> bool:
    """Whether the server closed this idle connection while it was not in use. A server that ends a
    connection sends its reason and EOF at once, and a healthy idle connection has nothing to read, so a
    readable socket is checked by reading it (no round trip; TLS records just read are not a close). Not
    detected, the next statement would fail, and the message handled with it would wait out its whole
    visibility timeout."""
    if conn.info.transaction_status != TransactionStatus.IDLE:
        return False
    try:
        for _ in range(3):  # the reason, then EOF
            if not watch.poll(0):
                break
            conn.pgconn.consume_input()
    except (OSError, psycopg.OperationalError):
        return True
    # the reason read but EOF not yet there (the backend still exiting) is a close all the same
    return conn.pgconn.status == ConnStatus.BAD or bool(ending)


def _fatal_recorder(ending: list[str]) -> Callable[[psycopg.errors.Diagnostic], None]:
    """A notice handler: libpq hands it an error the server sent outside a statement; a FATAL or PANIC
    there means the server is ending the connection."""
    def record(diagnostic: psycopg.errors.Diagnostic) -> None:
        if diagnostic.severity_nonlocalized in ("FATAL", "PANIC"):
            ending.append(diagnostic.message_primary or "")
    return record


__all__ = ["LAYER_SQL", "Database", "SqlFolder", "sql"]

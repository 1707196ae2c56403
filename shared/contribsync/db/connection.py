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


@dataclass
class _Session:
    """A connection, the thread using it, and what tells whether the server closed it while idle."""

    conn: psycopg.Connection[DictRow]
    thread: threading.Thread
    watch: select.poll  # made once per connection: it is checked before every use
    ending: list[str]  # the FATAL a server ending the connection sent first

    def usable(self) -> bool:
        return not (self.conn.closed or self.conn.broken or _closed_by_server(self.conn, self.watch, self.ending))


class Database:
    """A lazily opened autocommit connection, reopened when a previous invocation left it broken or the
    server closed it since (a restart, a failover, an idle timeout, ``pg_terminate_backend``).

    One connection per thread: a Lambda container runs one invocation at a time, so that is one
    connection per container, reused across invocations; the local stack's pollers run several
    handlers of one function in threads, and must not share a connection's transaction. A thread that
    ended leaves its connection behind: a sync pages each pull request state in a worker thread of its
    own, and the local HTTP server runs each request in a new thread. The next thread without a
    connection takes one of those over (``_adopt``) instead of opening its own: opened anew, every sync
    cost three connections (a backend process each, through TLS and authentication in production) and
    their staging tables, and the 1,000-repository fleet spent 15% of Postgres's busy time creating them.
    """

    def __init__(self, dsn: str, *, application_name: str = "contribsync") -> None:
        self.dsn = dsn
        self._application_name = application_name
        self._local = threading.local()
        self._all: list[_Session] = []
        self._lock = threading.Lock()

    def connection(self) -> psycopg.Connection[DictRow]:
        session: _Session | None = getattr(self._local, "session", None)
        if session is not None and session.usable():
            return session.conn
        if session is not None:
            self._forget(session)
        session = self._adopt() or self._open()
        self._local.session = session
        return session.conn

    def _adopt(self) -> _Session | None:
        """A connection an ended thread left idle and healthy, now the calling thread's. One holding a
        session's advisory lock (a run that ended without releasing its claim), left in a transaction or
        closed by the server is closed (which releases the lock), and the next one is tried."""
        me = threading.current_thread()
        while True:
            with self._lock:
                session = next((s for s in self._all if not s.thread.is_alive()), None)
                if session is None:
                    return None
                session.thread = me  # claimed: no other thread takes it now
            if (session.conn.info.transaction_status == TransactionStatus.IDLE and session.usable()
                    and _holds_no_session_lock(session.conn)):
                return session
            self._forget(session)

    def _forget(self, session: _Session) -> None:
        session.conn.close()
        with self._lock:
            self._all = [s for s in self._all if s is not session]

    def _open(self) -> _Session:
        try:
            conn = psycopg.connect(
                self.dsn, autocommit=True, row_factory=dict_row,
                application_name=self._application_name, connect_timeout=10,
            )
        except psycopg.Error as exc:
            raise StoreError(f"cannot connect to Postgres: {exc}") from exc
        # a server ending an idle connection sends a FATAL first, which libpq hands to the notice
        # handlers, then EOF: between the two the connection still looks usable
        ending: list[str] = []
        conn.add_notice_handler(_fatal_recorder(ending))
        watch = select.poll()
        watch.register(conn.fileno(), select.POLLIN)  # not select(): no limit on the fd
        session = _Session(conn, threading.current_thread(), watch, ending)
        with self._lock:
            self._all.append(session)
        return session

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
            for session in self._all:
                session.conn.close()
            self._all.clear()
        self._local = threading.local()


def _holds_no_session_lock(conn: psycopg.Connection[DictRow]) -> bool:
    try:
        row = conn.execute(sql("session_advisory_locks")).fetchone()
    except psycopg.Error:
        return False
    return row is not None and row["held"] == 0


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

"""The reused database connection against a real Postgres."""

from __future__ import annotations

import psycopg
import pytest

from contribsync.db import Database

pytestmark = pytest.mark.integration


def test_a_connection_the_server_closed_while_idle_is_replaced_before_the_next_statement(pg_dsn):
    # GIVEN a connection kept between invocations, which the server then ends (a restart, a failover,
    # an idle timeout, pg_terminate_backend) while it is not in use
    db = Database(pg_dsn)
    try:
        assert db.query_one("run_completed", {"event_id": "x", "function": "f"}) is None
        pid = db.connection().info.backend_pid
        with psycopg.connect(pg_dsn, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
            for _ in range(500):  # until the backend is gone (up to 10 s: a loaded machine's may be slow)
                if not admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone():
                    break
                admin.execute("SELECT pg_sleep(0.02)")
            else:
                pytest.fail(f"backend {pid} still in pg_stat_activity 10 s after pg_terminate_backend")
        # WHEN the next invocation runs a statement THEN it runs, on a new connection
        assert db.query_one("run_completed", {"event_id": "x", "function": "f"}) is None
        assert db.connection().info.backend_pid != pid
        with db.transaction() as conn:  # a transaction too
            assert conn.execute("SELECT 1 AS one").fetchone() == {"one": 1}
    finally:
        db.close()


def test_a_fatal_read_before_the_servers_eof_counts_as_closed(pg_dsn):
    # GIVEN an idle connection whose server has sent its FATAL reason (libpq hands it to the notice
    # handlers) but not yet EOF, as when the backend is still exiting: it looks usable to libpq
    from types import SimpleNamespace

    from contribsync.db.connection import _closed_by_server, _fatal_recorder

    db = Database(pg_dsn)
    try:
        conn = db.connection()
        ending: list[str] = []
        record = _fatal_recorder(ending)
        record(SimpleNamespace(severity_nonlocalized="WARNING", message_primary="just a warning"))
        assert not _closed_by_server(conn, db._local.watch, ending)
        record(SimpleNamespace(severity_nonlocalized="FATAL",
                               message_primary="terminating connection due to administrator command"))
        # THEN it counts as closed, and the next statement gets a new connection
        assert _closed_by_server(conn, db._local.watch, ending)
        db._local.ending.extend(ending)
        pid = conn.info.backend_pid
        assert db.query_one("run_completed", {"event_id": "x", "function": "f"}) is None
        assert db.connection().info.backend_pid != pid
    finally:
        db.close()

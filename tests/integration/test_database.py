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
            for _ in range(50):  # until the backend is gone
                if not admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone():
                    break
                admin.execute("SELECT pg_sleep(0.02)")
        # WHEN the next invocation runs a statement THEN it runs, on a new connection
        assert db.query_one("run_completed", {"event_id": "x", "function": "f"}) is None
        assert db.connection().info.backend_pid != pid
        with db.transaction() as conn:  # a transaction too
            assert conn.execute("SELECT 1 AS one").fetchone() == {"one": 1}
    finally:
        db.close()

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
        assert not _closed_by_server(conn, db._local.session.watch, ending)
        record(SimpleNamespace(severity_nonlocalized="FATAL",
                               message_primary="terminating connection due to administrator command"))
        # THEN it counts as closed, and the next statement gets a new connection
        assert _closed_by_server(conn, db._local.session.watch, ending)
        db._local.session.ending.extend(ending)
        pid = conn.info.backend_pid
        assert db.query_one("run_completed", {"event_id": "x", "function": "f"}) is None
        assert db.connection().info.backend_pid != pid
    finally:
        db.close()


def _in_a_thread(db: Database, work):
    """Run ``work(db)`` in a thread that then ends, as a sync's stream threads do; return its result."""
    import threading

    out = []
    thread = threading.Thread(target=lambda: out.append(work(db)))
    thread.start()
    thread.join()
    return out[0]


def test_a_thread_takes_over_the_connection_an_ended_thread_left_with_its_staging_tables(pg_dsn):
    import uuid

    from contribsync.capture import store

    name = f"adopt-{uuid.uuid4().hex[:8]}"
    db = Database(pg_dsn, application_name=name)
    try:
        def staged(db: Database) -> tuple[int, bool]:
            conn = db.connection()
            store.ensure_staging(conn)
            return conn.info.backend_pid, conn in store._STAGED

        # GIVEN a thread that used a connection, made its staging tables, and ended
        first, _ = _in_a_thread(db, staged)
        # WHEN threads come one after another, as each sync's stream threads do
        # THEN each takes over that connection, its staging tables still there: no new backend
        assert [_in_a_thread(db, staged) for _ in range(3)] == [(first, True)] * 3
        with psycopg.connect(pg_dsn, autocommit=True) as admin:
            opened = admin.execute("SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = %s",
                                   (name,)).fetchone()
        assert opened == (1,)
        # AND threads at once each get their own; once they ended, as many at once take theirs over, as a
        # sync's three streams do after the last sync's three
        import threading

        def at_once(n: int) -> set[int]:
            pids, all_in = [], threading.Barrier(n)

            def hold(db: Database) -> None:
                pids.append(db.connection().info.backend_pid)
                all_in.wait(timeout=10)

            threads = [threading.Thread(target=hold, args=(db,)) for _ in range(n)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert len(set(pids)) == n
            return set(pids)

        three = at_once(3)
        assert first in three
        assert at_once(3) == three
    finally:
        db.close()


def test_a_connection_left_holding_a_runs_claim_or_in_a_transaction_is_closed_not_taken_over(pg_dsn):
    db = Database(pg_dsn)
    try:
        def claim(db: Database) -> int:  # a run that ended without releasing its advisory lock
            conn = db.connection()
            conn.execute("SELECT pg_advisory_lock(25, 25)")
            return conn.info.backend_pid

        def begin(db: Database) -> int:  # a thread that died inside a transaction
            conn = db.connection()
            conn.execute("BEGIN")
            return conn.info.backend_pid

        def pid(db: Database) -> int:
            return db.connection().info.backend_pid

        for leave in (claim, begin):
            left = _in_a_thread(db, leave)
            # WHEN the next thread needs a connection THEN it gets a new one, and the one left is closed
            # (which releases the lock)
            assert _in_a_thread(db, pid) != left
            with psycopg.connect(pg_dsn, autocommit=True) as admin:
                for _ in range(500):
                    if not admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (left,)).fetchone():
                        break
                    admin.execute("SELECT pg_sleep(0.02)")
                else:
                    pytest.fail(f"the connection left by {leave.__name__} is still open")
                assert admin.execute("SELECT pg_try_advisory_lock(25, 25)").fetchone() == (True,)
                admin.execute("SELECT pg_advisory_unlock(25, 25)")
    finally:
        db.close()

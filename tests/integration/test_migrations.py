"""Migrations: idempotent, safe when run concurrently, and the schema fixes hold on a real Postgres."""

from __future__ import annotations

import threading
import uuid

import psycopg
import pytest

from contribsync.db import Database, migrate
from contribsync_local import postgres

pytestmark = pytest.mark.integration

COLUMNS = """SELECT table_name, column_name, data_type, is_nullable
               FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1, 2"""


def test_migrations_are_idempotent(db):
    before = db.connection().execute(COLUMNS).fetchall()
    assert migrate(db) == []
    assert db.connection().execute(COLUMNS).fetchall() == before
    tables = {r["table_name"] for r in before}
    assert {"repositories", "contributors", "pull_requests", "reviews", "comments", "issues", "discussions",
            "sync_logs", "workspaces", "workspace_repositories", "workspace_metrics_cache",
            "workspace_metrics_history", "workspace_aggregation_queue", "function_runs"} <= tables


def test_concurrent_migrations_apply_each_file_once(pg_admin_dsn):
    name = f"contribsync_mig_{uuid.uuid4().hex[:8]}"
    dsn = postgres.create_database(pg_admin_dsn, name)
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def run() -> None:
        database = Database(dsn)
        try:
            results.append(migrate(database))
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            database.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert not errors
        applied = sorted(results, key=len)
        assert applied[0] == []
        assert applied[1] and len(applied[1]) == len(set(applied[1]))
    finally:
        postgres.drop_database(pg_admin_dsn, name)


def test_a_migration_that_loses_a_race_for_a_role_to_another_database_is_run_again(pg_admin_dsn, monkeypatch):
    """Roles belong to the cluster, the migration lock to one database: make test's workers, each
    migrating a database of its own on a fresh server, once failed on two ``CREATE ROLE anon``."""
    import importlib
    import time

    migrate_module = importlib.import_module("contribsync.db.migrate")

    role = f"contribsync_race_{uuid.uuid4().hex[:8]}"
    creates_role = (f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}')"
                    f" THEN CREATE ROLE {role} NOLOGIN; END IF; END $$;")
    monkeypatch.setattr(migrate_module, "_files", lambda: [("0001_role.sql", creates_role)])
    name = f"contribsync_mig_{uuid.uuid4().hex[:8]}"
    dsn = postgres.create_database(pg_admin_dsn, name)
    database = Database(dsn)
    outcome: list[object] = []
    other = psycopg.connect(pg_admin_dsn)
    try:
        # GIVEN another database's migration that created the role and has not committed yet
        other.execute(f"CREATE ROLE {role} NOLOGIN")
        # WHEN this database's migration creates it too: it waits on the other's row, then fails
        thread = threading.Thread(target=lambda: outcome.append(_result_of(migrate, database)))
        thread.start()
        deadline = time.monotonic() + 10
        with psycopg.connect(pg_admin_dsn, autocommit=True) as watcher:
            while not watcher.execute(
                    "SELECT 1 FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'",
                    (name,)).fetchone():
                assert time.monotonic() < deadline, "the migration never waited on the other's role"
                time.sleep(0.05)
        other.commit()
        thread.join(10)
        # THEN it is run again, skips the role that now exists, and is recorded as applied
        assert outcome == [["0001_role.sql"]]
        assert database.connection().execute("SELECT version FROM schema_migrations").fetchall() == [
            {"version": "0001"}]
    finally:
        other.rollback()
        database.close()
        postgres.drop_database(pg_admin_dsn, name)
        other.autocommit = True
        other.execute(f"DROP ROLE IF EXISTS {role}")
        other.close()


def test_only_a_lost_race_for_a_role_is_run_again():
    from contribsync.db.migrate import lost_a_race_for_a_role

    assert lost_a_race_for_a_role(psycopg.errors.DuplicateObject('role "anon" already exists'))
    assert not lost_a_race_for_a_role(psycopg.errors.DuplicateObject('policy "p" already exists'))
    assert not lost_a_race_for_a_role(psycopg.errors.UniqueViolation("duplicate key"))
    assert not lost_a_race_for_a_role(psycopg.errors.SyntaxError("syntax error"))
    assert not lost_a_race_for_a_role(None)


def _result_of(function, *args):
    try:
        return function(*args)
    except Exception as exc:  # the assertion shows it
        return exc


def test_a_migration_changed_after_release_is_accepted_by_its_earlier_checksum_only(pg_admin_dsn):
    from contribsync.db.migrate import _EARLIER_CHECKSUMS
    from contribsync.errors import StoreError

    name = f"contribsync_mig_{uuid.uuid4().hex[:8]}"
    dsn = postgres.create_database(pg_admin_dsn, name)
    database = Database(dsn)
    try:
        migrate(database)
        conn = database.connection()
        current = conn.execute("SELECT checksum FROM schema_migrations WHERE version = '0002'").fetchone()["checksum"]
        # GIVEN a database that applied 0002 before its comment was reworded
        conn.execute("UPDATE schema_migrations SET checksum = %s WHERE version = '0002'", (_EARLIER_CHECKSUMS["0002"],))
        # WHEN it migrates, THEN nothing is applied and the recorded checksum is the current one
        assert migrate(database) == []
        assert conn.execute("SELECT checksum FROM schema_migrations WHERE version = '0002'").fetchone()[
            "checksum"] == current
        # AND a checksum that is neither is still a changed migration
        conn.execute("UPDATE schema_migrations SET checksum = 'edited' WHERE version = '0003'")
        with pytest.raises(StoreError, match=r"0003_.*changed after it was applied"):
            migrate(database)
    finally:
        database.close()
        postgres.drop_database(pg_admin_dsn, name)


def _repo(conn) -> str:
    n = uuid.uuid4().int % 10**9
    return conn.execute(
        "INSERT INTO repositories (github_id, owner, name, full_name) VALUES (%s, 'o', %s, %s) RETURNING id",
        (n, f"r{n}", f"o/r{n}")).fetchone()["id"]


def _contributor(conn, login: str) -> str:
    return conn.execute("INSERT INTO contributors (github_id, username) VALUES (%s, %s) RETURNING id",
                        (uuid.uuid4().int % 10**9, login)).fetchone()["id"]


def test_bot_logins_merged_state_and_job_sync_types_are_accepted(db):
    with db.transaction() as conn:
        repo = _repo(conn)
        bot = _contributor(conn, f"dependabot{uuid.uuid4().hex[:4]}[bot]")
        conn.execute(
            "INSERT INTO pull_requests (github_id, repository_id, repository_full_name, number, title, state,"
            " merged, merged_at, closed_at, author_id, base_branch, head_branch, created_at, updated_at)"
            " VALUES (%s, %s, 'o/r', 1, 't', 'merged', true, now(), now(), %s, 'main', 'x', now(), now())",
            (uuid.uuid4().int % 10**9, repo, bot))
        for sync_type in ("repository_discussions", "pr_details", "pr_reviews", "pr_comments"):
            conn.execute("INSERT INTO sync_logs (sync_type, repository_id, status) VALUES (%s, %s, 'started')",
                         (sync_type, repo))
        conn.execute("INSERT INTO discussions (id, github_id, repository_id, number, title, url, created_at,"
                     " updated_at, summary) VALUES (%s, %s, %s, 1, 't', 'u', now(), now(), 'a short summary')",
                     (f"D_{uuid.uuid4().hex}", uuid.uuid4().int % 10**9, repo))


def test_a_merged_pr_without_merged_at_is_rejected(db):
    with pytest.raises(Exception, match="check constraint"), db.transaction() as conn:
        repo = _repo(conn)
        author = _contributor(conn, f"u{uuid.uuid4().hex[:6]}")
        conn.execute(
            "INSERT INTO pull_requests (github_id, repository_id, repository_full_name, number, title, state,"
            " merged, closed_at, author_id, base_branch, head_branch, created_at, updated_at)"
            " VALUES (%s, %s, 'o/r', 1, 't', 'merged', true, now(), %s, 'main', 'x', now(), now())",
            (uuid.uuid4().int % 10**9, repo, author))


def test_logins_with_spaces_are_still_rejected(db):
    with pytest.raises(Exception, match="check constraint"), db.transaction() as conn:
        _contributor(conn, "not a login")


def test_pgvector_nearest_neighbour(pg_dsn):
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute("CREATE TEMP TABLE v (id int, e vector(384))")
        for i in range(3):
            vec = [0.0] * 384
            vec[i] = 1.0
            conn.execute("INSERT INTO v VALUES (%s, %s::vector)", (i, str(vec)))
        probe = [0.0] * 384
        probe[2] = 0.9
        probe[1] = 0.1
        row = conn.execute("SELECT id FROM v ORDER BY e <=> %s::vector LIMIT 1", (str(probe),)).fetchone()
        assert row[0] == 2

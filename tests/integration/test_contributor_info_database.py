"""``contribsync db migrate`` on a contributor.info deployment's own database, and on an empty one.

A contributor.info database is its ``public`` schema replayed from its 203 migrations
(``tests/fixtures/contributor-info/schema.sql``), loaded after the Supabase objects it assumes
(``stubs.sql``). There, migrate must only add: every table, column and view of theirs is still there with
its type, and a second run changes nothing. Both databases end with contributor.info's views of
comments, with the columns its frontend reads.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import psycopg
import pytest

from contribsync.db import Database, migrate
from contribsync.errors import StoreError
from contribsync_local import postgres
from tests.fixtures import load_contributor_info

pytestmark = pytest.mark.integration

COLUMNS = """SELECT c.table_name, c.column_name, c.data_type, c.udt_name, c.is_nullable, t.table_type
               FROM information_schema.columns c
               JOIN information_schema.tables t USING (table_schema, table_name)
              WHERE c.table_schema = 'public'"""
# Everything migrate could change, for "a second run changes nothing": columns with defaults,
# constraints, indexes, view definitions, functions.
CATALOG = [
    COLUMNS.replace("c.is_nullable,", "c.is_nullable, c.column_default,"),
    """SELECT conrelid::regclass::text AS rel, conname, pg_get_constraintdef(oid) AS def FROM pg_constraint
        WHERE connamespace = 'public'::regnamespace""",
    "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'",
    "SELECT viewname, definition FROM pg_views WHERE schemaname = 'public'",
    """SELECT p.oid::regprocedure::text AS fn, md5(pg_get_functiondef(p.oid)) AS def FROM pg_proc p
        WHERE p.pronamespace = 'public'::regnamespace AND p.prokind = 'f'""",
]
JOINED = {"pr_comments": {"pr_number", "repository_id", "pr_title", "pr_state", "commenter_username",
                          "commenter_display_name", "commenter_avatar_url"},
          "issue_comments": {"issue_number", "repository_id", "issue_title", "issue_state", "commenter_username",
                             "commenter_display_name", "commenter_avatar_url"}}


def snapshot(dsn: str, query: str) -> set[tuple]:
    with psycopg.connect(dsn) as conn:
        return {tuple(row) for row in conn.execute(query).fetchall()}


@pytest.fixture(scope="module")
def theirs(pg_admin_dsn):
    """A contributor.info database as its migrations leave it, before and after contribsync's migrate."""
    name = f"contribsync_ci_{os.getpid()}"
    dsn = postgres.create_database(pg_admin_dsn, name, drop_first=True)
    load_contributor_info(dsn)
    before = snapshot(dsn, COLUMNS)
    database = Database(dsn)
    try:
        applied = migrate(database)
        yield {"dsn": dsn, "before": before, "applied": applied, "db": database}
    finally:
        database.close()
        postgres.drop_database(pg_admin_dsn, name)


def test_the_fixture_is_contributor_infos_schema(theirs):
    tables = {t for t, _, _, _, _, kind in theirs["before"] if kind == "BASE TABLE"}
    assert {"repositories", "pull_requests", "contributors", "issues", "comments", "reviews", "discussions",
            "sync_logs", "progressive_capture_jobs", "workspaces", "github_events_cache"} <= tables
    assert ("function_runs", "id") not in {(t, c) for t, c, *_ in theirs["before"]}  # nothing of ours yet


def test_migrate_succeeds_on_their_database_and_keeps_every_column_of_theirs_with_its_type(theirs):
    assert theirs["applied"] and theirs["applied"][-1].startswith("00")
    after = {(t, c): (data_type, udt, kind) for t, c, data_type, udt, _, kind in snapshot(theirs["dsn"], COLUMNS)}
    lost = [(t, c) for t, c, *_ in theirs["before"] if (t, c) not in after]
    retyped = [(t, c, (d, u), after[(t, c)][:2]) for t, c, d, u, _, _ in theirs["before"]
               if (t, c) in after and after[(t, c)][:2] != (d, u)]
    assert lost == []
    assert retyped == []
    # and ours were added beside them
    assert {("function_runs", "status"), ("webhook_deliveries", "delivery_id"),
            ("repositories", "prs_synced_through")} <= set(after)


def test_their_database_ends_with_every_column_an_empty_one_gets_from_our_migrations(theirs, pg_dsn):
    # what contribsync's SQL reads and writes is there, whichever database it started from
    ours = {(t, c) for t, c, *_ in snapshot(pg_dsn, COLUMNS)}
    after = {(t, c) for t, c, *_ in snapshot(theirs["dsn"], COLUMNS)}
    assert sorted(ours - after) == []


def test_a_second_migrate_changes_nothing(theirs, pg_dsn):
    for dsn, database in ((theirs["dsn"], theirs["db"]), (pg_dsn, None)):
        before = [snapshot(dsn, query) for query in CATALOG]
        db = database or Database(dsn)
        try:
            assert migrate(db) == []
        finally:
            if database is None:
                db.close()
        assert [snapshot(dsn, query) for query in CATALOG] == before


@pytest.mark.parametrize("which", ["theirs", "ours"])
def test_both_databases_have_their_views_of_comments_and_of_items_needing_embeddings(which, theirs, pg_dsn):
    dsn = theirs["dsn"] if which == "theirs" else pg_dsn
    columns = snapshot(dsn, COLUMNS)
    for view, joined in JOINED.items():
        assert joined <= {c for t, c, *_ in columns if t == view}, view
    assert {"item_type", "id", "repository_id", "title", "body", "content_hash", "priority"} <= {
        c for t, c, *_ in columns if t == "items_needing_embeddings"}
    with psycopg.connect(dsn) as conn:  # and they run
        for view in (*JOINED, "items_needing_embeddings", "items_needing_embeddings_priority"):
            conn.execute(f"SELECT * FROM {view} LIMIT 1").fetchall()


def test_an_empty_database_has_their_shared_tables_with_every_column_type_and_nullability(theirs, pg_dsn):
    # migration 0000 (generated from their schema) creates their tables first; ours are added on top
    ours = {(t, c): (d, u, n) for t, c, d, u, n, _ in snapshot(pg_dsn, COLUMNS)}
    shared = {t for t, _ in ours} & {t for t, *_ in theirs["before"]}
    assert len(shared) >= 18
    differ = {(t, c): ((d, u, n), ours.get((t, c))) for t, c, d, u, n, _ in theirs["before"]
              if t in shared and ours.get((t, c)) != (d, u, n)}
    # the documented differences: no app_users to name a workspace's owner on an empty database; and, on
    # theirs too (0026), GitHub's PENDING reviews have no submitted_at and a workspace's embeddings job
    # has no repository
    assert differ == {("workspaces", "owner_id"): (("uuid", "uuid", "NO"), ("uuid", "uuid", "YES")),
                      ("reviews", "submitted_at"): (("timestamp with time zone", "timestamptz", "NO"),
                                                    ("timestamp with time zone", "timestamptz", "YES")),
                      ("embedding_jobs", "repository_id"): (("uuid", "uuid", "NO"), ("uuid", "uuid", "YES"))}
    with psycopg.connect(pg_dsn) as conn:  # and its enums and the discussions' 384 dimensions
        assert conn.execute("SELECT count(*) FROM pg_type WHERE typname IN ('repository_priority',"
                            " 'repository_size')").fetchone()[0] == 2
        assert conn.execute("SELECT atttypmod FROM pg_attribute WHERE attrelid = 'discussions'::regclass"
                            " AND attname = 'embedding'").fetchone()[0] == 384


def test_the_baseline_migration_is_what_the_generator_makes_of_their_schema():
    from devtools import gen_baseline

    assert gen_baseline.main(["--check"]) == 0


def test_the_readme_states_what_migrate_adds_to_their_database(theirs):
    before = {(t, c) for t, c, *_ in theirs["before"]}
    their_tables = {t for t, _ in before}
    added = {(t, c) for t, c, *_ in snapshot(theirs["dsn"], COLUMNS)} - before
    new_tables = {t for t, _ in added} - their_tables
    on_theirs = {(t, c) for t, c in added if t in their_tables}
    readme = " ".join((Path(__file__).resolve().parents[2] / "README.md").read_text().split())
    assert f"{len(new_tables)} tables: the runtime's" in readme
    assert f"{len(on_theirs)} columns on its tables" in readme


def test_the_checks_its_own_code_breaks_are_widened_and_the_others_still_hold(theirs):
    with psycopg.connect(theirs["dsn"]) as conn:
        repository = conn.execute(
            "INSERT INTO repositories (github_id, full_name, owner, name) VALUES (1, 'o/r', 'o', 'r') RETURNING id"
        ).fetchone()[0]
        # a merged pull request, and a bot, as its jobs and GitHub write them
        conn.execute("INSERT INTO pull_requests (github_id, number, title, state, merged, merged_at, closed_at,"
                     " head_branch, created_at, updated_at, repository_full_name, repository_id)"
                     " VALUES (2, 1, 't', 'merged', true, now(), now(), 'b', now() - interval '1 day', now(),"
                     " 'o/r', %s)", (repository,))
        conn.execute("INSERT INTO contributors (github_id, username) VALUES (3, 'dependabot[bot]')")
        # what was wrong stays refused
        for bad in ("INSERT INTO pull_requests (github_id, number, title, state, head_branch, created_at, updated_at,"
                    " repository_full_name) VALUES (4, 2, 't', 'draft', 'b', now(), now(), 'o/r')",
                    "INSERT INTO contributors (github_id, username) VALUES (5, '-bad')",
                    "INSERT INTO contributors (github_id, username) VALUES (6, 'x[robot]')"):
            with pytest.raises(psycopg.errors.CheckViolation), conn.transaction():
                conn.execute(bad)
        conn.rollback()


def test_rows_a_new_key_would_break_stop_the_migration_with_their_names_and_nothing_half_applied(pg_admin_dsn):
    # contributor.info's code inserted events without a key: the same event twice blocks 0025's key
    name = f"contribsync_ci_dupes_{os.getpid()}"
    dsn = postgres.create_database(pg_admin_dsn, name, drop_first=True)
    database = Database(dsn)
    try:
        load_contributor_info(dsn)
        with psycopg.connect(dsn) as conn:
            for _ in range(2):
                conn.execute("INSERT INTO github_events_cache (event_id, event_type, actor_login, repository_owner,"
                             " repository_name, payload, created_at) VALUES ('4242', 'WatchEvent', 'mona', 'o', 'r',"
                             " '{}', '2025-01-15T00:00:00Z')")
        with pytest.raises(StoreError, match=r"github_events_cache holds the same event more than once: 4242 \(2"):
            migrate(database)
        with psycopg.connect(dsn) as conn:
            versions = {r[0] for r in conn.execute("SELECT version FROM schema_migrations")}
            assert "0024" in versions and "0025" not in versions  # the ones before applied, 0025 not at all
            assert conn.execute("SELECT count(*) FROM pg_indexes WHERE indexname = 'github_events_cache_event_key'"
                                ).fetchone()[0] == 0
            assert conn.execute("SELECT count(*) FROM github_events_cache").fetchone()[0] == 2  # nothing deleted
            conn.execute("DELETE FROM github_events_cache WHERE ctid IN (SELECT ctid FROM github_events_cache"
                         " LIMIT 1)")
        assert "0025_row_security_and_event_key.sql" in migrate(database)  # once fixed, it goes on
    finally:
        database.close()
        postgres.drop_database(pg_admin_dsn, name)


def test_a_database_contribsync_built_before_migration_0000_gains_every_column_of_theirs(
        theirs, pg_admin_dsn, monkeypatch):
    migrations = importlib.import_module("contribsync.db.migrate")
    every = migrations._files()
    name = f"contribsync_ci_before_{os.getpid()}"
    dsn = postgres.create_database(pg_admin_dsn, name, drop_first=True)
    database = Database(dsn)
    try:
        # a contribsync deployment of before contributor.info's tables came first: 0001-0024 only
        monkeypatch.setattr(migrations, "_files", lambda: [f for f in every if "0001" <= f[0][:4] <= "0024"])
        migrate(database)
        monkeypatch.setattr(migrations, "_files", lambda: every)
        assert migrate(database)[0] == "0000_contributor_info.sql"
        ours = {(t, c) for t, c, *_ in snapshot(dsn, COLUMNS)}
        shared = {t for t, _ in ours} & {t for t, *_ in theirs["before"]}
        assert len(shared) >= 18
        assert sorted({(t, c) for t, c, *_ in theirs["before"] if t in shared} - ours) == []
        assert migrate(database) == []
    finally:
        database.close()
        postgres.drop_database(pg_admin_dsn, name)


def test_every_table_of_an_empty_database_has_row_level_security(pg_dsn):
    # on Supabase, PostgREST serves every table of public to the anon key: a new table of contribsync's
    # that 0025 (or a later migration) leaves without row-level security would be readable there
    with psycopg.connect(pg_dsn) as conn:
        open_tables = [r[0] for r in conn.execute(
            "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p')"
            " AND NOT relispartition AND NOT relrowsecurity ORDER BY relname")]
    assert open_tables == []

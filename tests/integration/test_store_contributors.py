"""Contributors as ``store.write`` stores them against a real Postgres: people seen before and unchanged
are not written again, so they take no lock another writer could be holding; new and changed ones are
written, a login that moved to another account still parks its old holder."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import psycopg
import pytest

from contribsync.capture import store
from contribsync.capture.rows import CONTRIBUTOR_COLUMNS, Batch

if TYPE_CHECKING:
    from contribsync.db import Database

pytestmark = pytest.mark.integration


def actor(github_id: int, login: str, **fields: str) -> dict:
    return {"__typename": "User", "databaseId": github_id, "login": login, **fields}


def write(db: Database, *actors: dict, seen_at: str = "2026-01-01T00:00:00Z") -> store.Counts:
    batch = Batch()
    for node in actors:
        batch.actor(node, seen_at)
    return store.write(db, batch, repository_id=str(uuid.uuid4()), repository_full_name="o/r").count("contributors")


def row(db: Database, github_id: int) -> dict:
    found = db.connection().execute("SELECT username, display_name, avatar_url, blog, updated_at FROM contributors"
                                    " WHERE github_id = %s", (github_id,)).fetchone()
    assert found is not None
    return found


@pytest.fixture
def ids():
    """GitHub ids no other test uses (the database is shared by the module's tests)."""
    base = uuid.uuid4().int % 10**12 + 10**12
    return base, base + 1


def test_a_contributor_seen_again_unchanged_is_left_alone_even_while_another_writer_holds_it(db, pg_dsn, ids):
    mona, _ = ids
    login = f"mona-{mona}"
    assert write(db, actor(mona, login, name="Mona", avatarUrl="https://a/1")).inserted == 1
    before = row(db, mona)
    # GIVEN another writer mid-page: it stored a pull request by this contributor (a foreign key's KEY SHARE
    # lock on the row) and, as a writer of that login does, holds the login's lock, both until it commits
    with psycopg.connect(pg_dsn, autocommit=True) as other:
        other.execute("BEGIN")
        other.execute("SELECT 1 FROM contributors WHERE github_id = %s FOR KEY SHARE", (mona,))
        other.execute("SELECT pg_advisory_xact_lock(hashtext('contributor-login'), hashtext(%s))", (login.lower(),))
        db.connection().execute("SET lock_timeout = '3s'")  # waiting for the other writer fails the write
        try:
            # WHEN a page sees the same person again, a field missing from it (no avatar in this selection)
            counts = write(db, actor(mona, login, name="Mona"))
        finally:
            db.connection().execute("RESET lock_timeout")
            other.execute("ROLLBACK")
    # THEN nothing is written and nothing waited
    assert (counts.inserted, counts.updated, counts.unchanged) == (0, 0, 1)
    assert row(db, mona) == before


def test_a_changed_contributor_is_written_while_another_page_by_them_is_being_stored(db, pg_dsn, ids):
    mona, _ = ids
    write(db, actor(mona, f"mona-{mona}", name="Mona"))
    # GIVEN another writer mid-page, holding the KEY SHARE lock its pull request by this person took (an
    # insert that also locked the row for update waited for it to end, and deadlocked a sync's streams)
    with psycopg.connect(pg_dsn, autocommit=True) as other:
        other.execute("BEGIN")
        other.execute("SELECT 1 FROM contributors WHERE github_id = %s FOR KEY SHARE", (mona,))
        db.connection().execute("SET lock_timeout = '3s'")
        try:
            # WHEN a page brings the person with a new name THEN it is written without waiting
            counts = write(db, actor(mona, f"mona-{mona}", name="Mona Lisa"), seen_at="2026-01-02T00:00:00Z")
        finally:
            db.connection().execute("RESET lock_timeout")
            other.execute("ROLLBACK")
    assert (counts.inserted, counts.updated) == (0, 1)
    assert row(db, mona)["display_name"] == "Mona Lisa"


def test_new_and_changed_contributors_are_written_and_missing_fields_keep_the_stored_ones(db, ids):
    mona, hubot = ids
    write(db, actor(mona, f"mona-{mona}", name="Mona", avatarUrl="https://a/1", websiteUrl="https://mona.dev"))
    counts = write(db, actor(mona, f"mona-{mona}", name="Mona Lisa"), actor(hubot, f"hubot-{hubot}"),
                   seen_at="2026-01-02T00:00:00Z")
    assert (counts.inserted, counts.updated, counts.unchanged) == (1, 1, 0)
    stored = row(db, mona)
    assert (stored["display_name"], stored["avatar_url"], stored["blog"]) == ("Mona Lisa", "https://a/1",
                                                                             "https://mona.dev")


def test_a_login_that_moved_to_another_account_parks_its_old_holder(db, ids):
    old, new = ids
    login = f"octo-{old}"
    write(db, actor(old, login))
    # GitHub gave the login to another account after the first one was renamed, whose new login no page
    # has brought yet
    counts = write(db, actor(new, login), seen_at="2026-01-02T00:00:00Z")
    assert counts.inserted == 1
    assert row(db, new)["username"] == login
    assert row(db, old)["username"] == f"renamed-{old}"
    # its own next sighting, unchanged from before the rename, brings its new login back
    write(db, actor(old, f"octo-renamed-{old}"), seen_at="2026-01-03T00:00:00Z")
    assert row(db, old)["username"] == f"octo-renamed-{old}"


def test_a_blog_that_is_not_a_url_is_left_out_as_contributor_infos_check_requires():
    batch = Batch()
    batch.user({"id": 7, "login": "free-text", "type": "User", "blog": "my blog"})
    batch.user({"id": 8, "login": "url", "type": "User", "blog": "http://example.com"})
    blogs = [dict(zip(CONTRIBUTOR_COLUMNS, batch.contributors[i], strict=True))["blog"] for i in (7, 8)]
    assert blogs == [None, "http://example.com"]

"""Session fixtures: a fresh, migrated database on the embedded Postgres (or on DATABASE_URL's server)."""

from __future__ import annotations

import itertools
import os

import pytest

from contribsync.db import Database, migrate
from contribsync_local import postgres

FIGURE = "figure"  # the user property a test's measured figure travels in (the ``report`` fixture)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """The figures the tests measured, once each, in the order the tests ran."""
    lines: dict[str, None] = {}
    for reports in terminalreporter.stats.values():
        for r in reports:
            for key, value in getattr(r, "user_properties", ()):
                if key == FIGURE:
                    lines[value] = None
    if lines:
        terminalreporter.section("figures the tests measured")
        for line in lines:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def pg_admin_dsn():
    return os.environ.get("DATABASE_URL") or postgres.server_url()


@pytest.fixture(scope="session")
def pg_dsn(pg_admin_dsn):
    name = f"contribsync_test_{os.getpid()}"
    dsn = postgres.create_database(pg_admin_dsn, name, drop_first=True)
    database = Database(dsn)
    migrate(database)
    database.close()
    yield dsn
    postgres.drop_database(pg_admin_dsn, name)


@pytest.fixture(scope="session")
def pg_template(pg_admin_dsn):
    """A migrated database nobody connects to, so ``CREATE DATABASE ... TEMPLATE`` can copy it."""
    name = f"contribsync_tpl_{os.getpid()}"
    database = Database(postgres.create_database(pg_admin_dsn, name, drop_first=True))
    migrate(database)
    database.close()
    yield name
    postgres.drop_database(pg_admin_dsn, name)


@pytest.fixture(scope="module")
def isolated_database(pg_admin_dsn, pg_template):
    """Makes a database of its own (a copy of the migrated template) for a test that syncs a simulated
    organisation: simulated ids repeat across seeds, so two syncs into one database would meet.

    Module-scoped: a module's databases are dropped when it ends. Each DROP DATABASE waits for a
    checkpoint; at the session's end, 57 of them in a row took minutes on a busy machine, all in the
    last test's teardown and under its timeout."""
    names: list[str] = []
    counter = itertools.count()

    def make() -> str:
        name = f"contribsync_iso_{os.getpid()}_{next(counter)}"
        names.append(name)
        return postgres.create_database(pg_admin_dsn, name, drop_first=True, template=pg_template)

    yield make
    for name in names:
        postgres.drop_database(pg_admin_dsn, name)


@pytest.fixture
def isolated_db(isolated_database):
    database = Database(isolated_database(), application_name="contribsync-tests")
    yield database
    database.close()


@pytest.fixture(scope="session")
def db(pg_dsn):
    database = Database(pg_dsn, application_name="contribsync-tests")
    yield database
    database.close()


@pytest.fixture(scope="session")
def github_schema():
    """GitHub's public GraphQL schema (the simulator's copy), ready for validation and execution.

    Upstream defines two enterprise fields twice, so the strict build refuses the SDL; and
    validate() refuses the schema itself over deprecated implementations of interface fields
    (e.g. PullRequest.databaseId). Neither affects queries."""
    from contribsync_sim.graphql_api import schema

    return schema()

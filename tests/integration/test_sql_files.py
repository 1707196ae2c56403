"""Every SQL file the code runs prepares against the migrated schema.

A statement naming a column or table that the migrations do not create fails here, against a real
Postgres, instead of in production (contributor.info's "could not find the column in the schema
cache", PGRST204, went unnoticed for months).
"""

from __future__ import annotations

import re
from importlib import resources

import psycopg
import pytest

pytestmark = pytest.mark.integration

SQL_DIR = resources.files("contribsync").joinpath("sql")
FILES = sorted(f.name for f in SQL_DIR.iterdir() if f.name.endswith(".sql"))
STAGES = [name for name in FILES if name.startswith("stage_")]
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def to_positional(text: str) -> str:
    """psycopg's %(name)s placeholders as $1..$n in order of first appearance, %% unescaped."""
    order: dict[str, int] = {}

    def number(match: re.Match[str]) -> str:
        return f"${order.setdefault(match.group(1), len(order) + 1)}"

    return PLACEHOLDER.sub(number, text).replace("%%", "%")


def prepare(conn: psycopg.Connection, name: str, text: str) -> None:
    statement = to_positional(text).strip().rstrip(";")
    conn.execute(f"PREPARE check_{name} AS {statement}")
    conn.execute(f"DEALLOCATE check_{name}")


def test_there_are_sql_files():
    assert len(FILES) >= 10


@pytest.mark.parametrize("filename", FILES)
def test_sql_file_prepares_against_the_schema(filename, pg_dsn):
    """``stage_*`` files create the session's COPY staging tables; they run first, then the file is
    prepared (DDL itself cannot be prepared, so a staging file is executed)."""
    text = SQL_DIR.joinpath(filename).read_text()
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        try:
            for stage in STAGES:
                conn.execute(SQL_DIR.joinpath(stage).read_text())
            if filename not in STAGES:
                prepare(conn, filename.removesuffix(".sql"), text)
        except psycopg.Error as exc:
            pytest.fail(f"{filename}: {exc}")


def test_the_check_catches_a_missing_column(pg_dsn):
    with psycopg.connect(pg_dsn, autocommit=True) as conn, pytest.raises(psycopg.errors.UndefinedColumn):
        prepare(conn, "bad", "INSERT INTO pull_requests (pr_number) VALUES (%(n)s)")

"""Every SQL file the code runs prepares against the migrated schema: the layer's (``contribsync/sql``) and
the operator tools' (``contribsync_ops/sql``).

A statement naming a column or table that the migrations do not create fails here, against a real
Postgres, instead of in production (contributor.info's "could not find the column in the schema
cache", PGRST204, went unnoticed for months).
"""

from __future__ import annotations

import re

import psycopg
import pytest

from contribsync.db import LAYER_SQL
from contribsync_ops import OPS_SQL

pytestmark = pytest.mark.integration

FOLDERS = {"contribsync": LAYER_SQL, "contribsync_ops": OPS_SQL}
FILES = [f"{package}/{name}" for package, folder in FOLDERS.items() for name in folder.names()]
STAGES = [name for name in LAYER_SQL.names() if name.startswith("stage_")]
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


def test_there_are_sql_files_in_each_folder():
    assert len(LAYER_SQL.names()) >= 10
    assert len(OPS_SQL.names()) >= 10


def test_no_name_is_in_both_folders():
    assert set(LAYER_SQL.names()) & set(OPS_SQL.names()) == set()


@pytest.mark.parametrize("path", FILES)
def test_sql_file_prepares_against_the_schema(path, pg_dsn):
    """``stage_*`` files create the session's COPY staging tables; they run first, then the file is
    prepared (DDL itself cannot be prepared, so a staging file is executed)."""
    package, name = path.split("/")
    text = FOLDERS[package].text(name)
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        try:
            for stage in STAGES:
                conn.execute(LAYER_SQL.text(stage))
            if package != "contribsync" or name not in STAGES:
                prepare(conn, name, text)
        except psycopg.Error as exc:
            pytest.fail(f"{path}.sql: {exc}")


def test_the_check_catches_a_missing_column(pg_dsn):
    with psycopg.connect(pg_dsn, autocommit=True) as conn, pytest.raises(psycopg.errors.UndefinedColumn):
        prepare(conn, "bad", "INSERT INTO pull_requests (pr_number) VALUES (%(n)s)")

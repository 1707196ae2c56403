"""Postgres access: one reused connection per container, SQL kept in reviewed .sql files, migrations."""

from contribsync.db.connection import Database, sql
from contribsync.db.migrate import migrate

__all__ = ["Database", "migrate", "sql"]

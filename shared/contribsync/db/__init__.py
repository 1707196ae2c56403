"""Postgres access: one reused connection per container, SQL kept in reviewed .sql files, migrations."""

from contribsync.db.connection import LAYER_SQL, Database, SqlFolder, sql
from contribsync.db.migrate import migrate

__all__ = ["LAYER_SQL", "Database", "SqlFolder", "migrate", "sql"]

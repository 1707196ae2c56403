"""Set-based writes: each entity is COPYed into a session temp table, then moved into its table by one
``INSERT ... SELECT ... ON CONFLICT`` that resolves foreign keys by GitHub id and lets a row replace
only an older one. A ``Batch`` goes in one transaction, with the run's progress when given, so a page
and the cursor that follows it are stored together or not at all (its new and changed contributors
before it, in a short transaction of their own: see ``write``).

Written by hand (psycopg provides COPY; no library offers "COPY, then upsert with joins and a
newer-wins guard"): row-by-row upserts were measured 5x+ slower (``make bench``).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from psycopg import pq

from contribsync.capture.rows import (
    COMMENT_COLUMNS,
    CONTRIBUTOR_COLUMNS,
    ISSUE_COLUMNS,
    PULL_REQUEST_COLUMNS,
    REVIEW_COLUMNS,
)
from contribsync.db.connection import sql

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    import psycopg
    from psycopg.rows import DictRow

    from contribsync.capture.rows import Batch, Row
    from contribsync.db import Database


@dataclass
class Counts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0  # staged, but the stored row was newer or the same

    def add(self, other: Counts) -> None:
        self.inserted += other.inserted
        self.updated += other.updated
        self.unchanged += other.unchanged


@dataclass
class Written:
    by_table: dict[str, Counts] = field(default_factory=dict)

    def count(self, table: str) -> Counts:
        return self.by_table.setdefault(table, Counts())

    def add(self, other: Written) -> None:
        for table, counts in other.by_table.items():
            self.count(table).add(counts)

    @property
    def inserted(self) -> int:
        return sum(c.inserted for t, c in self.by_table.items() if t != "contributors")

    @property
    def updated(self) -> int:
        return sum(c.updated for t, c in self.by_table.items() if t != "contributors")

    def as_dict(self) -> dict[str, dict[str, int]]:
        return {t: {"inserted": c.inserted, "updated": c.updated, "unchanged": c.unchanged}
                for t, c in self.by_table.items()}


STAGED_TABLES = ("contributors", "pull_requests", "issues", "reviews", "comments")
# Connections whose session already holds every staging table (temp tables live as long as the
# session), so a write of a few rows does not pay a CREATE ... IF NOT EXISTS round trip per table.
_STAGED: weakref.WeakSet[psycopg.Connection[DictRow]] = weakref.WeakSet()


def ensure_staging(conn: psycopg.Connection[DictRow]) -> None:
    """Create every staging table at once, outside any transaction, so no rollback can undo it. Inside
    a caller's transaction nothing is cached: ``_stage`` then checks each table as it comes."""
    if conn in _STAGED or conn.info.transaction_status != pq.TransactionStatus.IDLE:
        return
    conn.execute(";\n".join(sql(f"stage_{table}") for table in STAGED_TABLES))  # no parameters: one round trip
    _STAGED.add(conn)


def _stage(conn: psycopg.Connection[DictRow], table: str, columns: Sequence[str], rows: Sequence[Row]) -> None:
    if conn not in _STAGED:
        conn.execute(sql(f"stage_{table}"))
    with conn.cursor() as cur, cur.copy(f"COPY stage_{table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _upsert(conn: psycopg.Connection[DictRow], table: str, columns: Sequence[str], rows: Sequence[Row],
            params: Mapping[str, Any] | None = None) -> Counts:
    if not rows:
        return Counts()
    _stage(conn, table, columns, rows)
    if table == "contributors":
        conn.execute(sql("contributors_unchanged"))  # no lock, and no row lock, for the people seen before
        conn.execute(sql("contributors_lock_usernames")).fetchall()
        conn.execute(sql("contributors_free_usernames"))
        conn.execute(sql("contributors_rename"))
    counted = conn.execute(_counted(table), params).fetchone()
    assert counted is not None  # an aggregate always returns its row
    distinct = len({row[0] for row in rows})
    return Counts(counted["inserted"], counted["written"] - counted["inserted"], distinct - counted["written"])


@cache
def _counted(table: str) -> str:
    """The table's upsert, counted by the server: one row back instead of one per row written (each
    upsert file returns ``(xmax = 0) AS inserted`` for every row it inserted or updated;
    ``contributors_upsert`` counts its own)."""
    if table == "contributors":
        return sql("contributors_upsert")
    return (f"WITH upserted AS (\n{sql(f'{table}_upsert')}\n)\n"
            "SELECT count(*) FILTER (WHERE inserted) AS inserted, count(*) AS written FROM upserted")


def write(db: Database, batch: Batch, *, repository_id: str, repository_full_name: str,
          progress: Mapping[str, Any] | None = None) -> Written:
    """Store ``batch`` (parents before children), with ``progress`` if given (the parameters of
    ``run_progress_save``), in one transaction.

    Called outside a transaction, the contributors go first, in a short transaction of their own, so a
    new or changed contributor's row and its login's lock are held for one statement, not for the whole
    page (another repository's page with the same new people would wait for all of this one's writes).
    They are real GitHub accounts: a page that fails after them leaves nothing wrong behind. Inside a
    caller's transaction everything is in that transaction."""
    written = Written()
    repo = {"repository_id": repository_id, "repository_full_name": repository_full_name}
    conn = db.connection()
    ensure_staging(conn)
    people = list(batch.contributors.values())
    if people and conn.info.transaction_status == pq.TransactionStatus.IDLE:
        with db.transaction() as tx:
            written.count("contributors").add(_upsert(tx, "contributors", CONTRIBUTOR_COLUMNS, people))
        people = []
    with db.transaction() as conn:
        written.count("contributors").add(_upsert(conn, "contributors", CONTRIBUTOR_COLUMNS, people))
        written.count("pull_requests").add(
            _upsert(conn, "pull_requests", PULL_REQUEST_COLUMNS, batch.pull_requests, repo))
        written.count("issues").add(_upsert(conn, "issues", ISSUE_COLUMNS, batch.issues, repo))
        written.count("reviews").add(_upsert(conn, "reviews", REVIEW_COLUMNS, batch.reviews, repo))
        written.count("comments").add(_upsert(conn, "comments", COMMENT_COLUMNS, batch.comments, repo))
        if any(row[5] == "review_comment" for row in batch.comments):  # replies may now find their parent
            conn.execute(sql("comments_resolve_replies"), repo)
        # contributor.info's denormalised reviewer_data: requested reviewers the objects named, and the
        # submitted reviews now stored
        if batch.pull_requests:
            conn.execute(sql("pull_requests_requested_reviewers"))
        if batch.reviews:
            reviewed = sorted({row[1] for row in batch.reviews})
            conn.execute(sql("pull_requests_reviewer_data"), {"pr_github_ids": reviewed})
        if progress is not None:
            conn.execute(sql("run_progress_save"), progress)
    return written


__all__ = ["Counts", "Written", "ensure_staging", "write"]

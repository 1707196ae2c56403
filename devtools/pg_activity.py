"""Postgres as the fleet sees it: the busiest statements by time, and the connections in use at the peak.

The embedded Postgres (pgserver) ships without ``pg_stat_statements``, and a managed one may not have it
loaded either. So this samples ``pg_stat_activity`` instead, the way "active session history" tools do:
every ``interval_s`` it reads which backends are running which statement. A statement seen active in
``n`` samples has taken about ``n * interval_s`` seconds of one backend, summed over backends, so the
totals rank statements by server time like ``pg_stat_statements.total_exec_time`` would, at the
sampler's resolution (a statement shorter than the interval is seen in proportion to how often it runs).

A statement's text is named by the layer's SQL file it comes from (``contribsync/sql/*.sql``, matched
on its whitespace-normalised text), else shown by its first words.

Each sample also counts the connections of the database by state (``active``, ``idle``, ``idle in
transaction``) and by ``application_name``; the peak is the sample with the most connections.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg.rows import dict_row

from contribsync.db.connection import LAYER_SQL

SAMPLER_APPLICATION = "contribsync-pg-activity"
SAMPLE_SQL = """
SELECT pid, state, application_name, query
FROM pg_stat_activity
WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()
"""
_SPACE = re.compile(r"\s+")
_COMMENT = re.compile(r"--[^\n]*")
# psycopg's placeholders in a file (%(name)s, %s), the server's in pg_stat_activity ($1): both become ?
_PLACEHOLDER = re.compile(r"%\(\w+\)s|%s|\$\d+")


def normalised(text: str) -> str:
    """A statement's text without comments, its whitespace collapsed and its placeholders alike: how a SQL
    file and the text Postgres shows for it are compared."""
    text = _PLACEHOLDER.sub("?", _COMMENT.sub("", text))
    return _SPACE.sub(" ", text).strip().rstrip(";").strip()


def sql_file_names() -> dict[str, str]:
    """The layer's SQL files by their normalised text."""
    return {normalised(LAYER_SQL.text(name)): name for name in LAYER_SQL.names()}


@dataclass
class Activity:
    """What the samples saw."""

    interval_s: float
    samples: int = 0
    active: Counter[str] = field(default_factory=Counter)  # statement -> samples it was seen running
    peak_connections: int = 0
    peak: dict[str, Any] = field(default_factory=dict)  # the busiest sample: by state and application

    def busiest(self, n: int = 10) -> list[dict[str, Any]]:
        """The ``n`` statements with the most sampled time, with their estimated seconds and share."""
        total = sum(self.active.values()) or 1
        return [{"statement": statement, "samples": seen, "seconds": round(seen * self.interval_s, 2),
                 "share": round(seen / total, 3)} for statement, seen in self.active.most_common(n)]

    def summary(self, n: int = 10) -> dict[str, Any]:
        return {"interval_s": self.interval_s, "samples": self.samples, "busiest": self.busiest(n),
                "peak_connections": self.peak_connections, "peak": self.peak}


class ActivitySampler:
    """Samples ``pg_stat_activity`` of ``dsn``'s database in a thread of its own, from ``start`` to
    ``stop`` (or as a context manager), on a connection of its own (not counted)."""

    def __init__(self, dsn: str, *, interval_s: float = 0.05) -> None:
        self.dsn = dsn
        self.activity = Activity(interval_s)
        self._names = sql_file_names()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._conn: psycopg.Connection[dict[str, Any]] | None = None

    def __enter__(self) -> ActivitySampler:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def connect(self) -> None:
        """Open the sampler's connection (``start`` does; a test may sample by hand after it)."""
        self._conn = psycopg.connect(self.dsn, autocommit=True, row_factory=dict_row,
                                     application_name=SAMPLER_APPLICATION)

    def start(self) -> None:
        self.connect()
        self._thread = threading.Thread(target=self._run, name="pg-activity", daemon=True)
        self._thread.start()

    def stop(self) -> Activity:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        return self.activity

    def sample(self) -> None:
        """One sample (the thread's loop calls it; a test may call it directly)."""
        assert self._conn is not None, "start() first"
        rows = self._conn.execute(SAMPLE_SQL).fetchall()
        activity = self.activity
        activity.samples += 1
        for row in rows:
            if row["state"] == "active" and row["query"]:
                activity.active[self.name_of(row["query"])] += 1
        if len(rows) > activity.peak_connections:
            activity.peak_connections = len(rows)
            activity.peak = {"by_state": dict(Counter(str(r["state"]) for r in rows)),
                             "by_application": dict(Counter(str(r["application_name"]) for r in rows))}

    def name_of(self, query: str) -> str:
        text = normalised(query)
        if (name := self._names.get(text)) is not None:
            return f"{name}.sql"
        return text[:80]

    def _run(self) -> None:
        while not self._stop.wait(self.activity.interval_s):
            try:
                self.sample()
            except psycopg.Error:  # the server restarted under the sampler: the next sample reconnects
                if self._conn is not None:
                    self._conn.close()
                with contextlib.suppress(psycopg.Error):
                    self.connect()


__all__ = ["Activity", "ActivitySampler", "normalised", "sql_file_names"]

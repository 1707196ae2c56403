"""The fleet's Postgres figures: busiest statements by sampled time, connections at the peak, read from
``pg_stat_activity`` of the real embedded server."""

from __future__ import annotations

import contextlib
import itertools
import re
import threading
import time

import psycopg
import pytest

from contribsync.db.connection import LAYER_SQL
from devtools.pg_activity import SAMPLER_APPLICATION, ActivitySampler

pytestmark = pytest.mark.integration


def _wait_until_active(dsn: str, application: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        for _ in range(200):
            row = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s "
                               "AND state = 'active'", (application,)).fetchone()
            if row and row[0]:
                return
            time.sleep(0.02)
    raise AssertionError(f"{application} never became active")


def test_a_running_statement_is_the_busiest_and_its_connection_counts_at_the_peak(pg_dsn):
    # GIVEN two connections: one running a long statement, one idle
    busy = psycopg.connect(pg_dsn, autocommit=True, application_name="fleet-busy")
    idle = psycopg.connect(pg_dsn, autocommit=True, application_name="fleet-idle")

    def sleep() -> None:
        with contextlib.suppress(psycopg.errors.QueryCanceled):  # cancelled once sampled
            busy.execute("SELECT pg_sleep(3)")

    worker = threading.Thread(target=sleep, daemon=True)
    sampler = ActivitySampler(pg_dsn, interval_s=0.05)
    try:
        worker.start()
        _wait_until_active(pg_dsn, "fleet-busy")
        # WHEN three samples are taken while it runs (directly: no timing decides the outcome)
        sampler.connect()
        for _ in range(3):
            sampler.sample()
        activity = sampler.stop()
    finally:
        busy.cancel_safe()
        worker.join(5)
        busy.close()
        idle.close()
    # THEN the sleeping statement leads, with its samples turned into seconds, and both connections count
    top = activity.busiest(1)[0]
    assert top["statement"] == "SELECT pg_sleep(3)"
    assert top["samples"] == 3 and top["seconds"] == pytest.approx(0.15)
    assert activity.peak_connections >= 2
    assert activity.peak["by_application"].get("fleet-busy") == 1
    assert activity.peak["by_application"].get("fleet-idle") == 1
    assert SAMPLER_APPLICATION not in activity.peak["by_application"]  # the sampler's own is left out


def test_a_layer_statement_is_named_by_its_sql_file(pg_dsn):
    sampler = ActivitySampler(pg_dsn)
    name = "rate_limit_reserve"
    numbers = itertools.count(1)
    seen: dict[str, int] = {}

    def server_side(match: re.Match[str]) -> str:  # psycopg sends %(x)s as $n, one number per name
        return f"${seen.setdefault(match.group(0), next(numbers))}"

    as_postgres_shows_it = re.sub(r"%\(\w+\)s", server_side, LAYER_SQL.text(name))
    assert as_postgres_shows_it != LAYER_SQL.text(name)
    assert sampler.name_of(as_postgres_shows_it) == f"{name}.sql"
    assert sampler.name_of("SELECT   1  -- a comment\n") == "SELECT 1"

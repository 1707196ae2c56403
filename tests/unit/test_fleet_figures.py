"""The fleet's figures that are pure arithmetic: the backfill bounds (points charged per installation over
its points an hour, and over the points the governor may spend, its reserve kept) and the cron path's
freshness (at the fires, and per change)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from devtools.fleet import Run
from devtools.fleet_figures import as_of, bounds, cron_freshness


def test_the_slowest_installation_sets_both_bounds():
    limits = {"installation:1": 5000, "installation:2": 12_500}
    points = {"installation:1/graphql": 10_000, "installation:2/graphql": 20_000, "installation:2/search": 9}
    got = bounds(points, limits, reserve=0.1)
    assert got["slowest_installation"] == "installation:1/graphql"
    assert got["lower_bound_h"] == pytest.approx(2.0)
    assert got["reserve_bound_h"] == pytest.approx(10_000 / 4500, abs=1e-3)


def test_a_budget_of_another_resource_sets_no_bound():
    assert bounds({"installation:1/search": 100}, {"installation:1": 5000}) == {
        "lower_bound_h": 0.0, "slowest_installation": None, "reserve_bound_h": 0.0}


T0 = datetime(2025, 1, 6, tzinfo=UTC)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def test_what_the_database_holds_is_as_of_the_start_of_the_last_sync_completed_by_then():
    syncs = [(at(0), at(0.4)), (at(1), at(1.5)), (at(2), at(2.2))]
    assert as_of(syncs, at(0.3)) is None
    assert as_of(syncs, at(1.4)) == at(0)  # the second sync began but had not ended
    assert as_of(syncs, at(1.5)) == at(1)
    assert as_of(syncs, at(9)) == at(2)


def test_the_cron_path_is_judged_at_the_fires_and_each_changes_lag_is_reported_by_priority():
    run = Run(factor=120, backfill_factor=10)
    run.cron_samples = [
        {"repository": "o/high", "priority": "medium", "at": at(0), "age_s": 600.0},  # high from the next fire
        {"repository": "o/high", "priority": "high", "at": at(1), "age_s": 3000.0},
        {"repository": "o/high", "priority": "high", "at": at(2), "age_s": 3700.0},  # a fire late
        {"repository": "o/medium", "priority": "medium", "at": at(2), "age_s": 6 * 3600.0},  # at the target
        {"repository": "o/low", "priority": "low", "at": at(2), "age_s": None},  # never synced
    ]
    run.changes = [
        {"repository": "o/high", "webhooks": False, "at": at(0.5)},
        {"repository": "o/medium", "webhooks": False, "at": at(1.9)},
        {"repository": "o/hooked", "webhooks": True, "at": at(0.5)},
    ]
    syncs = {"o/high": [(at(0), at(0.2)), (at(1), at(1.25))], "o/medium": [(at(0), at(0.5))],
             "o/hooked": [(at(1), at(1.1))]}

    got = cron_freshness(run, syncs)

    assert (got["samples"], got["within_target"], got["share"], got["met"]) == (5, 3, 0.6, False)
    assert got["late_repositories"] == ["o/high", "o/low"]
    assert got["late_by_day"] == [{"day": 1, "samples": 5, "late": 2}]
    # by its priority when it was made: the first sync that began after it ended 0.75 h later
    assert got["change_lag_h"] == {"medium": {"changes": 1, "p50": 0.75, "p99": 0.75, "max": 0.75}}
    assert got["changes_never_synced"] == 1  # o/medium's change came after its last sync began


def test_late_cron_samples_are_counted_per_day_from_the_first_fire():
    run = Run(factor=120, backfill_factor=10)
    run.cron_samples = [
        {"repository": "o/a", "priority": "high", "at": at(3), "age_s": 7200.0},  # late, day 1
        {"repository": "o/a", "priority": "high", "at": at(26), "age_s": 3700.0},  # late, day 1 (23 h after)
        {"repository": "o/a", "priority": "high", "at": at(27), "age_s": 1200.0},  # day 2
        {"repository": "o/b", "priority": "medium", "at": at(75), "age_s": 7 * 3600.0},  # late, day 4
    ]

    got = cron_freshness(run, {})

    assert got["late_by_day"] == [{"day": 1, "samples": 2, "late": 2}, {"day": 2, "samples": 1, "late": 0},
                                  {"day": 4, "samples": 1, "late": 1}]

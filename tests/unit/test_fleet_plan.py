"""The fleet scenario's plan: the issue's shape (sizes, owners, webhooks, workspaces, a daily cycle), drawn
from one seed."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest

from devtools.fleet_plan import FleetConfig, arrivals, plan, rate_at

START = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def fleet():
    return plan(FleetConfig())


def test_sizes_follow_a_power_law_most_small_a_few_huge(fleet):
    sizes = [r.prs for r in fleet.repositories]
    assert len(sizes) == 1000
    assert sum(s < 100 for s in sizes) > 700  # most under 100 pull requests
    assert 1 <= sum(s > 20_000 for s in sizes) <= 10  # a few over 20,000
    assert max(sizes) == FleetConfig().max_prs and min(sizes) >= FleetConfig().min_prs


def test_every_owner_has_a_share_and_webhooks_are_on_for_ninety_percent(fleet):
    owners = fleet.by_owner()
    assert len(owners) == 10 and all(len(repos) == 100 for repos in owners.values())
    assert sum(r.webhooks for r in fleet.repositories) == 900
    assert len({r.full_name for r in fleet.repositories}) == 1000


def test_workspaces_hold_tracked_repositories(fleet):
    names = {r.full_name for r in fleet.repositories}
    assert len(fleet.workspaces) == 20
    assert all(len(members) == 8 and set(members) <= names for members in fleet.workspaces.values())


def test_the_same_seed_gives_the_same_fleet_and_another_a_different_one(fleet):
    again = plan(FleetConfig())
    assert again.repositories == fleet.repositories and again.workspaces == fleet.workspaces
    other = plan(FleetConfig(seed=26))
    assert [r.prs for r in other.repositories] != [r.prs for r in fleet.repositories]


def test_changes_follow_the_daily_cycle_and_larger_repositories_change_more(fleet):
    config = FleetConfig(days=3.0)
    changes = arrivals(plan(config), START)
    assert changes == sorted(changes, key=lambda c: (c[0], c[1].full_name))
    by_hour = Counter(at.hour for at, _ in changes)
    peak, trough = int(config.peak_hour), int(config.peak_hour + 12) % 24
    assert by_hour[peak] > 3 * by_hour[trough]
    # the expected count is the sum of the daily means; a Poisson total lands within a few percent
    expected = sum(r.changes_per_day for r in fleet.repositories) * config.days
    assert abs(len(changes) - expected) < 0.05 * expected
    per_repo = Counter(repo.full_name for _, repo in changes)
    largest = max(fleet.repositories, key=lambda r: r.prs)
    smallest = min(fleet.repositories, key=lambda r: r.prs)
    assert per_repo[largest.full_name] > 10 * per_repo[smallest.full_name] + 10
    assert all(START <= at < START.replace(day=4) for at, _ in changes)


def test_the_cycle_averages_to_the_daily_mean():
    config = FleetConfig()
    hourly = [rate_at(config, 24.0, START.replace(hour=h)) for h in range(24)]
    assert sum(hourly) == pytest.approx(24.0)
    assert max(hourly) == pytest.approx(rate_at(config, 24.0, START.replace(hour=15)))


def test_the_reduced_fleet_is_small_and_keeps_the_shape():
    small = plan(FleetConfig().reduced())
    assert len(small.repositories) == 12 and len(small.by_owner()) == 3
    assert max(r.prs for r in small.repositories) == 400
    assert sum(r.webhooks for r in small.repositories) == round(12 * 0.9)


@pytest.mark.parametrize("hour", range(0, 24, 3))
def test_half_a_day_of_the_reduced_fleet_makes_dozens_of_changes_wherever_it_starts_in_the_cycle(hour):
    small = plan(FleetConfig().reduced(days=0.5))
    assert len(arrivals(small, START.replace(hour=hour))) >= 20

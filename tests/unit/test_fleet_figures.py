"""The fleet's backfill bounds: points charged per installation over its points an hour, and over the
points the governor may spend (its reserve kept)."""

from __future__ import annotations

import pytest

from devtools.fleet_figures import bounds


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

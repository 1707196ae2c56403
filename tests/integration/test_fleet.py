"""The fleet scenario at ``make test`` size (``FleetConfig().reduced()``: 12 repositories over 3 App
installations, half a simulated day of changes on a clock 3,600 times real time): the database equals the
simulator's ground truth, no installation went under its reserve, and every request for a repository
carried its owner's installation token. No figure of time is asserted (``make fleet`` measures those)."""

from __future__ import annotations

import pytest

from devtools.fleet import run_fleet
from devtools.fleet_plan import FleetConfig

pytestmark = pytest.mark.integration

FACTOR = 3600  # a simulated hour a real second


@pytest.fixture(scope="module")
def figures(isolated_database, aws_endpoint):
    return run_fleet(FleetConfig().reduced(days=0.5), FACTOR, database_url=isolated_database(),
                     aws_endpoint=aws_endpoint, timeout_s=240)


def test_the_database_equals_the_ground_truth_after_the_backfill_and_a_day_of_changes(figures):
    assert figures["dataset"]["changes"] > 0
    assert figures["completeness"]["problems"] == []


def test_the_reconciliation_recovered_every_lost_delivery(figures):
    hooks = figures["freshness_webhooks"]
    assert hooks["lost_deliveries"] > 0
    assert hooks["redelivered_by_reconcile"] == hooks["lost_and_recovered"] == hooks["lost_deliveries"]
    assert hooks["never_processed"] == 0


def test_no_installation_went_under_its_reserve(figures):
    budget = figures["budget"]
    assert len(budget["limits"]) == 3
    assert budget["lowest_remaining"], "no installation's budget was drawn on"
    assert budget["below_reserve"] == {}


def test_every_request_for_a_repository_used_its_owners_installation(figures):
    use = figures["token_use"]
    assert use["wrong_installation"] == {}
    assert use["refused"] == 0
    assert {k for k in use["requests_by_installation"] if k != "None"} == {"1000", "1001", "1002"}

"""The chaos suite, reduced (``make chaos`` runs it at full size: ``devtools/chaos.py``).

A 3-repository organisation is discovered and synced through the queues, then 100 changes arrive as
webhooks, every delivery three times and shuffled, while all of this happens at once: GitHub answers
502s, timeouts and secondary rate limits; its GraphQL budget is less than half of what the sync needs
and runs out in 10-second windows; workers die mid-batch (after their handler wrote, and between two
records); every Postgres connection of the stack is dropped, several times; and poison messages go
straight into random function queues. The database must then equal the simulator's ground truth, only
the poison may be dead-lettered, the budget never went under the client's reserve, and neither the
GitHub token nor the webhook secret appears in any log line.

This test imports the benchmark's scenario (``devtools.chaos.run``, its ``Size`` and its secrets) on
purpose: it runs that same scenario, reduced, so the benchmark and the test cannot drift apart. Every
other helper the tests share with the benchmarks lives in a module that is not a benchmark script
(``devtools.log_capture``, ``devtools.cpu_meter``).
"""

from __future__ import annotations

import logging
import sys

import pytest

from contribsync.observability import logger
from devtools.chaos import POISON, Size, run
from devtools.log_capture import captured_logs

pytestmark = pytest.mark.integration

# Seed 35: the simulator's first 14 requests draw a 502, a timeout and a secondary rate limit, so every
# kind of GitHub fault is injected at the shares although the reduced sync makes few requests.
REDUCED = Size(repos=3, prs_per_repo=150, changes=100, chunk=20, window_s=10, seed=35, converge_timeout_s=150)


@pytest.fixture(scope="module")
def chaos(isolated_database, aws_endpoint):
    return run(REDUCED, database_url=isolated_database(), aws_endpoint=aws_endpoint)


def test_the_database_converged_to_the_ground_truth(chaos):
    # pull requests, reviews, comments by type, issues and contributors, keyed by GitHub id: counts,
    # fields (state, title, updated_at, merged ...), no duplicates, no deleted comment brought back
    assert chaos["problems"]["ground_truth"] == []
    assert chaos["reconciliation"] == "none needed" or chaos["reconciliation"].startswith(
        "reconcile/webhook-deliveries")
    assert chaos["runs"]["completed"] > chaos["webhooks"]["deliveries"]


def test_every_delivery_was_sent_three_times(chaos):
    webhooks = chaos["webhooks"]
    assert chaos["problems"]["copies_not_sent"] == []
    assert webhooks["posts"] + webhooks["post_failures"] == 3 * webhooks["deliveries"]
    assert webhooks["deliveries"] >= REDUCED.changes


def test_only_the_poison_is_dead_lettered_each_with_its_reason(chaos):
    problems = chaos["problems"]
    assert problems["dead_letters_not_poison"] == []
    assert problems["poison_not_dead_lettered"] == []
    assert problems["dead_letters_without_reason"] == []
    assert problems["dead_lettered_twice"] == []
    poison = chaos["faults_injected"]["poison"]
    assert set(poison) == set(POISON)
    assert chaos["dead_letters"]["total"] == sum(poison.values()) >= 0.01 * chaos["webhooks"]["posts"]


def test_the_budget_ran_out_and_was_never_spent_past_the_reserve(chaos):
    github = chaos["github"]
    assert chaos["problems"]["budget_under_reserve"] == []
    assert chaos["faults_injected"]["github_budget_refusals"] == 0
    assert github["points_by_resource"]["graphql"] > github["budget"]["graphql"]  # it had to wait for resets
    assert chaos["deferrals"]["by_reason"].get("RateLimited", 0) > 0


def test_every_fault_was_injected(chaos):
    faults = chaos["faults_injected"]
    assert {kind: n > 0 for kind, n in faults["github"].items()} == {"502": True, "timeout": True, "secondary": True}
    assert chaos["retries"]["github_client"] > 0  # 502s and timeouts, retried by the client
    # (a secondary limit defers its run; a sync's three streams report one error, so it may show as RateLimited)
    assert chaos["deferrals"]["total"] > 0
    assert chaos["problems"]["kills_not_happened"] == []
    assert sum(faults["workers_killed"].values()) == REDUCED.kills
    assert faults["postgres_drops"] == REDUCED.pg_drops and faults["postgres_connections_terminated"] > 0


def test_no_secret_appears_in_any_log_line(chaos):
    assert chaos["problems"]["secrets_in_logs"] == []
    assert chaos["log_lines_scanned"] > 100


def test_the_log_capture_sees_every_way_a_line_is_written():
    # the scan above could fail: a secret written any of these ways is caught. Markers, not the secrets
    # themselves, since the layer's logger masks configured secrets and token shapes before it writes
    first, second = "capture-check-powertools-and-print", "capture-check-logging-and-stderr"
    with captured_logs() as lines:
        logger.warning("leak", extra={"token": first})
        logging.getLogger("some.library").error("secret=%s", second)
        print(f"printed {first}")
        sys.stderr.write(f"stderr {second}\n")
    assert sum(first in line for line in lines) == 2
    assert sum(second in line for line in lines) == 2
    assert any(line.startswith("{") and '"message":"leak"' in line for line in lines)  # the Powertools JSON line

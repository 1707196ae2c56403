"""contributor.info's size rules (CONTRIBUTOR_INFO.md §5), case by case."""

from __future__ import annotations

import pytest

from contribsync.services.classify import SizeMetrics, classify


@pytest.mark.parametrize(("metrics", "size"), [
    (SizeMetrics(stars=10, forks=2, prs_30d=3, contributors=2), "small"),
    (SizeMetrics(stars=5_000, forks=500, prs_30d=200, contributors=30), "medium"),
    (SizeMetrics(stars=20_000, forks=3_000, prs_30d=1_000, contributors=100), "large"),
    (SizeMetrics(stars=90_000, forks=9_000, prs_30d=3_000, contributors=500), "xl"),
    # a single vote is not enough: two metrics must agree, otherwise small
    (SizeMetrics(stars=90_000, forks=500, prs_30d=50, contributors=100), "small"),
    # overrides to medium
    (SizeMetrics(stars=60_000, forks=6_000, prs_30d=5, contributors=300), "medium"),   # famous but idle
    (SizeMetrics(stars=50, forks=50, prs_30d=600, contributors=8), "medium"),          # busy, unknown
    (SizeMetrics(stars=2_000, forks=200, prs_30d=150, contributors=3), "medium"),     # few people, many PRs
])
def test_classification(metrics, size):
    assert classify(metrics) == size


def test_an_unknown_metric_does_not_vote():
    assert classify(SizeMetrics(stars=5_000, forks=50, prs_30d=50, contributors=5, commits_4w=None)) == "small"

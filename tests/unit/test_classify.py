"""The size rule of the event catalog: small < 100 pull requests, medium 100-500, large > 500."""

from __future__ import annotations

import pytest

from contribsync.services.classify import classify


@pytest.mark.parametrize(("pull_requests", "size"), [
    (0, "small"), (99, "small"), (100, "medium"), (500, "medium"), (501, "large"), (50_000, "large"),
])
def test_classification(pull_requests, size):
    assert classify(pull_requests) == size

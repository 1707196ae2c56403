"""Integration fixtures: moto's real server on 127.0.0.1, the template's queues under a fresh prefix."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from contribsync.queues import Queues
from contribsync_local.aws import MotoServer, aws_environment, create_queues, sqs_client


@pytest.fixture(scope="session")
def aws_endpoint():
    server = MotoServer()
    endpoint = server.start()
    saved = {k: os.environ.get(k) for k in aws_environment(endpoint)}
    os.environ.update(aws_environment(endpoint))
    yield endpoint
    server.stop()
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture
def sqs(aws_endpoint):
    return sqs_client()


@pytest.fixture
def queues(sqs):
    """Every queue and DLQ of template.yaml, created under a prefix no other test uses."""
    prefix = f"t{uuid.uuid4().hex[:8]}"
    create_queues(sqs, prefix)
    return Queues(sqs, prefix=prefix)


FIGURES = pytest.StashKey[list[str]]()


@pytest.fixture
def report(request):
    """``report(line)``: a figure a test measured, printed in the run's summary (``-q`` shows no test's
    own output)."""
    return request.config.stash.setdefault(FIGURES, []).append


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if lines := config.stash.get(FIGURES, []):
        terminalreporter.section("figures the tests measured")
        for line in lines:
            terminalreporter.write_line(line)


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.t = start or datetime.now(UTC)

    def now(self) -> datetime:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += timedelta(seconds=seconds)


@pytest.fixture
def fake_clock():
    return FakeClock()

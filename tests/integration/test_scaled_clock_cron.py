"""The local stack's crons on a scaled clock (``contribsync.clock.ScaledClock``): every client the stack
builds shares its clock, and an hourly schedule fires once per simulated hour.

Nothing here passes or fails on wall-clock bounds: fires are counted against the simulated time the clock
shows. Real time only bounds how long the test may take (generously).
"""

from __future__ import annotations

import math
import uuid
from datetime import datetime, timedelta

import pytest

from contribsync.clock import ScaledClock
from contribsync.history import RunHistory
from contribsync_local.stack import LocalStack
from tests.polling import wait_for

pytestmark = pytest.mark.integration

HOURLY = "sync/workspace-priorities"


# -- (a) crons on simulated time ------------------------------------------------------------------

CRON_FACTOR = 720  # a simulated hour per 5 real seconds (at 60: one per real minute)


@pytest.fixture(scope="module")
def cron_stack(isolated_database, aws_endpoint):
    clock = ScaledClock(CRON_FACTOR)
    with LocalStack(database_url=isolated_database(), port=0, prefix=f"sc{uuid.uuid4().hex[:6]}", cron=True,
                    retry_base_s=1, aws_endpoint=aws_endpoint, clock=clock) as stack:
        yield stack, clock


def test_every_client_of_the_stack_runs_on_its_clock(cron_stack):
    stack, clock = cron_stack
    assert stack.cron is not None and stack.cron.clock is clock
    assert stack.simulator is not None and stack.simulator.clock == clock.now
    assert stack.simulator.app.clock == clock.now
    for function, module in stack.handlers.items():
        holder = getattr(module, "RUNTIME", None) or getattr(module, "WEBHOOK_RECEIVER", None) \
            or module.EVENT_API
        assert holder.clients.clock is clock, function
    budget = stack.handlers["CaptureRepositorySync"].RUNTIME.clients.github.budget
    assert budget.clock is clock


def test_an_hourly_cron_fires_once_per_simulated_hour(cron_stack):
    stack, clock = cron_stack
    driver = stack.cron
    assert driver.interval_s == pytest.approx(60 / CRON_FACTOR)  # a tick per simulated minute
    began = min(driver.next_fire()[HOURLY], *(at for name, at in driver.fired if name == HOURLY)) \
        if driver.fired else driver.next_fire()[HOURLY]

    def hourly() -> list[datetime]:
        return [at for name, at in list(driver.fired) if name == HOURLY]

    assert wait_for(lambda: len(hourly()) >= 3, timeout=180)  # about 15 real seconds at this factor
    driver.stop()
    now = clock.now()
    fires = hourly()
    assert fires == [fires[0] + timedelta(hours=h) for h in range(len(fires))]  # every hour, none twice
    assert fires[0] <= began
    # as many fires as whole hours the clock went past; the driver is at most a tick (a minute) behind
    assert len(fires) in (math.floor((now - fires[0]) / timedelta(hours=1)) + 1,
                          math.floor((now - fires[0]) / timedelta(hours=1)))
    history = RunHistory(stack.db)
    ids = {f"cron:{HOURLY}:{at.isoformat()}" for at in fires}
    assert wait_for(lambda: all(history.completed(event_id=i, function="SyncWorkspacePriorities") for i in ids),
                    timeout=120)

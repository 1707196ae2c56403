"""The scaled clock (``contribsync.clock``) and the places that turn its waits into real ones: SQS delays,
visibility timeouts, the cron driver, the simulator's rate-limit windows. Real time is a number the test
moves (``FakeReal``), so nothing here waits or depends on timing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from werkzeug.test import Client

from contribsync import catalog
from contribsync.clock import ScaledClock, SystemClock, real_delay_s
from contribsync.envelope import NOT_BEFORE_ATTR
from contribsync.errors import SecondaryRateLimited
from contribsync.github import github_client
from contribsync.runtime.delivery import Delivery
from contribsync_local.scheduler import CronDriver
from contribsync_sim.server import Knobs, SimulatorApp
from tests.fakes import RecordingQueues, clients

START = datetime(2026, 3, 2, 0, 0, 30, tzinfo=UTC)


class FakeReal:
    """Real (monotonic) time that moves only when the test says so."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


@pytest.fixture
def real():
    return FakeReal()


def test_scaled_now_is_start_plus_real_elapsed_times_factor(real):
    clock = ScaledClock(60, start=START, monotonic=real)
    assert clock.now() == START and clock.factor == 60.0
    real.advance(60)  # a real minute is a simulated hour
    assert clock.now() == START + timedelta(hours=1)
    real.advance(0.5)
    assert clock.now() == START + timedelta(hours=1, seconds=30)
    assert clock.real_seconds(3600) == 60.0
    assert "factor=60" in repr(clock)


def test_a_new_factor_goes_on_from_the_time_reached(real):
    clock = ScaledClock(10, start=START, monotonic=real)
    real.advance(6)  # a simulated minute at factor 10
    clock.set_factor(600)
    assert clock.now() == START + timedelta(minutes=1) and clock.factor == 600.0
    real.advance(6)  # an hour at factor 600
    assert clock.now() == START + timedelta(hours=1, minutes=1)
    assert real_delay_s(clock, 3600) == 6
    with pytest.raises(ValueError, match="positive"):
        clock.set_factor(0)


def test_a_factor_must_be_positive():
    for factor in (0, -60):
        with pytest.raises(ValueError, match="positive"):
            ScaledClock(factor)


def test_the_system_clock_is_unscaled():
    clock = SystemClock()
    assert clock.factor == 1.0
    assert abs((clock.now() - datetime.now(UTC)).total_seconds()) < 5
    for wait in (0, 1, 59.2, 900, 3600):
        assert real_delay_s(clock, wait) == -(-wait // 1)  # whole seconds, rounded up, as before


def test_real_delay_is_the_simulated_wait_over_the_factor_rounded_up(real):
    clock = ScaledClock(60, start=START, monotonic=real)
    assert real_delay_s(clock, 3600) == 60  # exactly, not 61 from a float's last bit
    assert real_delay_s(clock, 3601) == 61
    assert real_delay_s(clock, 1) == 1  # never early: a second's fraction waits a whole second
    assert real_delay_s(clock, 0) == 0
    assert real_delay_s(clock, -30) == 0  # a reset already past: at once
    assert real_delay_s(ScaledClock(360, monotonic=real), 3600 * 0.1 * 7) == 7


class SqsCalls:
    """``Queues.send_raw`` and ``change_visibility``: records what SQS would be asked for."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, dict]] = []
        self.visibility: list[int] = []

    def send_raw(self, queue, body, *, delay_s=0, attributes={}):  # noqa: B006 - Queues.send_raw's signature
        self.sent.append((delay_s, dict(attributes)))

    def change_visibility(self, queue, receipt_handle, seconds):
        self.visibility.append(seconds)


def delivery_on(clock, **options):
    fake = SimpleNamespace(clock=clock, queues=SqsCalls(),
                           settings=SimpleNamespace(retry_base_s=10.0, retry_max_s=3600.0))
    return Delivery(catalog.by_function("CaptureRepositorySync"), fake, **options), fake.queues


def test_a_deferral_asks_sqs_for_the_simulated_wait_over_the_factor(real):
    clock = ScaledClock(60, start=START, monotonic=real)
    delivery, sqs = delivery_on(clock)
    at = delivery.requeue("{}", delay_s=3000, spent_attempts=0, origin="m-1")
    [(delay, attributes)] = sqs.sent
    assert delay == 50  # 3000 simulated seconds at factor 60
    assert at == START + timedelta(seconds=3000)  # the not-before stays in simulated time
    assert attributes[NOT_BEFORE_ATTR] == at.isoformat()


def test_a_deferral_on_the_system_clock_asks_sqs_for_the_wait_itself():
    delivery, sqs = delivery_on(SystemClock())
    delivery.requeue("{}", delay_s=42.3, spent_attempts=0, origin="m-1")
    assert sqs.sent[0][0] == 43


def test_a_retry_backoff_is_simulated_time_and_its_visibility_timeout_real(real):
    clock = ScaledClock(60, start=START, monotonic=real)
    delivery, sqs = delivery_on(clock, rng=lambda: 1.0)
    assert delivery.retry_later("receipt", 4) == 80  # 10 * 2^3 simulated seconds
    assert sqs.visibility == [2]  # 80 / 60, rounded up
    delivery.retry_later("receipt", 1)
    assert sqs.visibility[-1] == 1  # never 0: that would hand the message out again at once
    unscaled, sqs = delivery_on(SystemClock(), rng=lambda: 1.0)
    assert unscaled.retry_later("receipt", 4) == 80 and sqs.visibility == [80]


def test_a_secondary_limit_waits_its_retry_after_from_the_runtimes_clock(real):
    clock = ScaledClock(60, start=START + timedelta(days=30), monotonic=real)  # far from the system's time
    error = SecondaryRateLimited("slow down", retry_after=60)
    assert error.delay_seconds(clock.now()) == 60


def test_the_github_budget_runs_on_the_clients_clock(real):
    clock = ScaledClock(60, start=START, monotonic=real)
    github = github_client(clients(clock=clock).settings, db=None, clock=clock)
    assert github.budget.clock is clock
    built = clients(clock=clock, github_tokens=("t",))
    assert built.github.budget.clock is clock


def test_an_hourly_cron_fires_once_per_real_minute_at_factor_60(real):
    clock = ScaledClock(60, start=START, monotonic=real)
    queues = RecordingQueues()
    driver = CronDriver(queues, clock=clock, only=("sync/workspace-priorities", "sync/discussions-cron"))
    for _ in range(24 * 60):  # a simulated day, one tick per real second
        real.advance(1)
        driver.tick(clock.now())
    hourly = [at for name, at in driver.fired if name == "sync/workspace-priorities"]
    assert len(hourly) == 24  # one per simulated hour: one per real minute
    assert hourly == [START.replace(second=0) + timedelta(hours=h + 1) for h in range(24)]
    assert sum(1 for name, _ in driver.fired if name == "sync/discussions-cron") == 2  # every 12 h
    assert len(queues.sent) == 26


def test_the_background_driver_ticks_every_simulated_minute(real):
    assert CronDriver(RecordingQueues(), clock=ScaledClock(60, monotonic=real)).clock.factor == 60
    driver = CronDriver(RecordingQueues(), clock=ScaledClock(60, monotonic=real))
    driver.start()
    try:
        assert driver.interval_s == 1.0
        driver.clock.set_factor(600)
        assert driver.interval_s == 0.1  # the tick follows a new factor
    finally:
        driver.stop()
    unscaled = CronDriver(RecordingQueues())
    unscaled.start()
    try:
        assert unscaled.interval_s == 5.0
    finally:
        unscaled.stop()


def rest(_request):
    return 200, {"ok": True}, {}, 0, 0


def test_the_simulators_rate_limit_window_is_an_hour_of_the_clock(real):
    clock = ScaledClock(60, start=START, monotonic=real)
    app = SimulatorApp(graphql=rest, rest=rest, knobs=Knobs(budget={"core": 3, "graphql": 5000, "search": 30}),
                       clock=clock.now)
    client = Client(app)
    headers = {"authorization": "token t"}
    answers = [client.get("/repos/o/r", headers=headers) for _ in range(4)]
    reset = int(START.timestamp()) + 3600
    assert [a.status_code for a in answers] == [200, 200, 200, 403]
    assert answers[-1].headers["x-ratelimit-reset"] == str(reset)
    real.advance(59)  # 59 simulated minutes: still spent
    assert client.get("/repos/o/r", headers=headers).status_code == 403
    real.advance(1)  # a real minute at factor 60: the window has reset
    fresh = client.get("/repos/o/r", headers=headers)
    assert fresh.status_code == 200 and fresh.headers["x-ratelimit-remaining"] == "2"
    assert fresh.headers["x-ratelimit-reset"] == str(reset + 3600)
    limits = json.loads(client.get("/rate_limit", headers=headers).get_data())
    assert limits["resources"]["core"]["reset"] == reset + 3600


class SqsClient:
    """``get_queue_url`` and ``send_message_batch``: keeps the bodies sent."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []

    def get_queue_url(self, QueueName):
        return {"QueueUrl": f"http://sqs/{QueueName}"}

    def send_message_batch(self, QueueUrl, Entries):
        self.bodies += [json.loads(e["MessageBody"]) for e in Entries]
        return {"Successful": [{"Id": e["Id"]} for e in Entries]}


def test_an_event_sent_without_a_time_is_stamped_with_the_senders_clock(real):
    from contribsync.queues import Queues

    clock = ScaledClock(60, start=START + timedelta(days=30), monotonic=real)
    real.advance(60)
    sqs = SqsClient()
    Queues(sqs, prefix="p", clock=clock).send_event("cancel/function", {"event": "capture/pr.details"})
    # the time cancellations are compared with: the simulated one, a month and an hour from START
    assert sqs.bodies[0]["ts"] == int((START + timedelta(days=30, hours=1)).timestamp() * 1000)
    Queues(sqs, prefix="p").send_event("cancel/function", {"event": "capture/pr.details"})
    assert abs(sqs.bodies[1]["ts"] / 1000 - datetime.now(UTC).timestamp()) < 60  # the system's, as before

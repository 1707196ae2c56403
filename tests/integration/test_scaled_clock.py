"""The local stack and the GitHub simulator on a scaled clock (``contribsync.clock.ScaledClock``): a lease,
and a rate-limit deferral (the crons: ``test_scaled_clock_cron``).

Nothing here passes or fails on wall-clock bounds: the rate-limit test checks the SQS delay a deferral
asked for against the simulated wait the run history records. Real time only bounds how long a test may
take (generously).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest

from contribsync.clock import ScaledClock
from contribsync.envelope import NOT_BEFORE_ATTR
from contribsync.flow_control import FlowControl
from contribsync.queues import Queues
from contribsync_local.stack import LocalStack
from contribsync_sim.dataset import generate, ground_truth
from contribsync_sim.server import Knobs
from contribsync_sim.simulator import Simulator

pytestmark = pytest.mark.integration

def test_a_lease_outlives_its_real_timeout_on_a_scaled_clock(pg_dsn):
    from contribsync.db import Database

    db = Database(pg_dsn)
    try:
        clock = ScaledClock(60)
        flow = FlowControl(db, clock)
        scope = f"scaled-{uuid.uuid4().hex[:6]}"
        lease = flow.acquire(scope=scope, key="k", limit=1, ttl_s=900)  # a Lambda's 15 real minutes
        assert lease is not None
        [row] = db.connection().execute("SELECT expires_at FROM concurrency_leases WHERE run_id = %s",
                                        (lease,)).fetchall()
        ttl = (row["expires_at"] - clock.now()).total_seconds()
        assert 900 * 60 - 60 < ttl <= 900 * 60  # 15 real minutes are 15 simulated hours
        flow.release(lease, scope=scope)
    finally:
        db.close()


# -- (b) a rate-limit deferral until the simulated reset ------------------------------------------

LIMIT_FACTOR = 360  # the simulator's hour-long window lasts 10 real seconds
GRAPHQL_POINTS = 40  # a sync of 260 PRs needs more: it must wait for a reset


@pytest.fixture(scope="module")
def limited(isolated_database, aws_endpoint):
    clock = ScaledClock(LIMIT_FACTOR)
    simulator = Simulator(dataset=generate(67, repos=1, prs_per_repo=260), clock=clock.now,
                          knobs=Knobs(budget={"core": 5000, "graphql": GRAPHQL_POINTS, "search": 30}))
    requeued: list[dict] = []  # what the runtime asked SQS for: the spy below records it
    send_raw = Queues.send_raw

    def spy(self, queue, body, *, delay_s=0, attributes={}):  # noqa: B006 - Queues.send_raw's signature
        if NOT_BEFORE_ATTR in attributes:
            requeued.append({"delay_s": delay_s, "sent_at": clock.now(),
                             "not_before": datetime.fromisoformat(attributes[NOT_BEFORE_ATTR])})
        return send_raw(self, queue, body, delay_s=delay_s, attributes=attributes)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Queues, "send_raw", spy)
        with LocalStack(database_url=isolated_database(), port=0, prefix=f"rl{uuid.uuid4().hex[:6]}", cron=False,
                        retry_base_s=1, aws_endpoint=aws_endpoint, github="sim", simulator=simulator, clock=clock,
                        poller_concurrency=2) as stack:
            repo = next(iter(simulator.ds.repos.values()))
            stack.queues.send_event("capture/repository.sync", {"owner": repo.owner.login, "repo": repo.name})
            assert stack.wait_idle(300)
            yield stack, simulator, repo, requeued


def rows(stack, query: str, *params) -> list[dict]:
    return stack.db.connection().execute(query, params).fetchall()


def test_a_spent_budget_defers_until_the_simulated_reset_with_the_wait_over_the_factor(limited):
    stack, _, _, requeued = limited
    deferred = rows(stack, "SELECT event_id, function, ended_at, next_attempt_at FROM function_runs"
                           " WHERE status = 'deferred' AND error_type = 'RateLimited' ORDER BY ended_at")
    assert deferred, "the small budget never ran out"
    sent = {r["not_before"]: r for r in requeued}
    for run in deferred:
        requeue = sent[run["next_attempt_at"]]  # the message the deferral sent back to SQS
        simulated_wait = (requeue["not_before"] - requeue["sent_at"]).total_seconds()
        assert 0 < simulated_wait <= 3600 + 1  # until the window's reset, at most an hour of simulated time
        assert run["ended_at"] <= run["next_attempt_at"]
        # the SQS delay is the simulated wait over the factor, rounded up: at factor 360 a wait of 2,875
        # simulated seconds is 8 real ones (the clock moved a few simulated seconds, some real ms, between
        # the runtime's reckoning and the spy's: allow 5)
        delay = requeue["delay_s"]
        assert (delay - 1) * LIMIT_FACTOR < simulated_wait + 5 and simulated_wait <= delay * LIMIT_FACTOR
        assert 0 < delay <= 3600 / LIMIT_FACTOR + 1
        # and the deferred event ran to completion after the reset
        [done] = rows(stack, "SELECT started_at FROM function_runs WHERE event_id = %s AND function = %s"
                             " AND status = 'completed'", run["event_id"], run["function"])
        assert done["started_at"] >= run["next_attempt_at"] - timedelta(seconds=1)


def test_the_deferred_sync_completes_with_the_whole_history(limited):
    stack, simulator, repo, _ = limited
    truth = ground_truth(simulator.ds)["repos"][repo.full_name]
    [counts] = rows(stack, "SELECT (SELECT count(*) FROM pull_requests) AS prs,"
                           " (SELECT count(*) FROM issues) AS issues")
    assert counts["prs"] == truth["pull_requests"]["total"]
    assert counts["issues"] == truth["issues"]["total"]
    assert rows(stack, "SELECT function, error FROM function_runs WHERE status = 'failed'") == []
    # the simulator counted the refusals a spent budget would have caused: none, the governor waited
    assert simulator.app.counters.limited == 0



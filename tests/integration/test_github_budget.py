"""The shared rate-limit governor on a real Postgres, under concurrent workers."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from contribsync.errors import RateLimited
from contribsync.github.auth import Grant
from contribsync.github.budget import PostgresBudget, token_id
from contribsync.github.client import GitHubClient

pytestmark = pytest.mark.integration


def g(token: str) -> Grant:
    """A personal token's grant: its budget is keyed by its fingerprint."""
    return Grant(token, token_id(token))


class FakeGitHubBudget:
    """A GitHub that counts requests against a small primary budget, as GitHub does."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.remaining = limit
        self.reset = int(time.time()) + 3600
        self.forbidden = 0
        self.served = 0
        self.lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            headers = {"x-ratelimit-limit": str(self.limit), "x-ratelimit-reset": str(self.reset),
                       "x-ratelimit-resource": "core"}
            if self.remaining == 0:
                self.forbidden += 1
                return httpx.Response(403, headers={**headers, "x-ratelimit-remaining": "0"},
                                      json={"message": "API rate limit exceeded"})
            self.remaining -= 1
            self.served += 1
            headers["x-ratelimit-remaining"] = str(self.remaining)
        time.sleep(0.005)  # a little latency so requests overlap
        return httpx.Response(200, headers=headers, json={"ok": True})


def test_the_governor_defers_rather_than_exceeding_a_small_budget_under_8_workers(db):
    github = FakeGitHubBudget(limit=60)
    token = f"tok-{uuid.uuid4().hex}"
    budget = PostgresBudget(db, reserve=0.10)
    GitHubClient(tokens=[token], budget=budget, transport=httpx.MockTransport(github)).get("/calibrate")
    after_calibration = github.remaining  # 59; the reserve is ceil(60 * 10%) = 6
    deferred: list[RateLimited] = []

    def worker() -> None:
        gh = GitHubClient(tokens=[token], budget=budget, transport=httpx.MockTransport(github))
        try:
            while True:
                gh.get(f"/work/{uuid.uuid4().hex}", conditional=False)
        except RateLimited as exc:
            deferred.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    # THEN every worker was deferred by the governor, GitHub never had to refuse a request,
    # and exactly the budget above the reserve was spent
    assert len(deferred) == 8
    assert github.forbidden == 0
    assert github.remaining == 6
    assert github.served - 1 == after_calibration - 6
    assert all(e.defer_until == datetime.fromtimestamp(github.reset, tz=UTC) for e in deferred)


def test_the_token_with_the_most_budget_left_is_picked(db):
    budget = PostgresBudget(db)
    low, high = f"low-{uuid.uuid4().hex}", f"high-{uuid.uuid4().hex}"
    reset = str(int(time.time()) + 3600)
    for token, remaining in ((low, "100"), (high, "4000")):
        budget.observe(token_id(token), httpx.Headers({"x-ratelimit-limit": "5000", "x-ratelimit-remaining": remaining,
                                             "x-ratelimit-reset": reset, "x-ratelimit-resource": "core"}))
    assert budget.pick([g(low), g(high)], "core").token == high
    rows = {r["token_id"]: r for r in budget.budgets()}
    assert rows[token_id(high)]["remaining"] == 3999
    assert token_id(high) != high and high not in str(rows)  # tokens are never stored in clear


def test_a_late_answer_cannot_raise_the_budget_within_a_window(db, fake_clock):
    budget = PostgresBudget(db, clock=fake_clock)
    token = f"tok-{uuid.uuid4().hex}"
    reset = int((fake_clock.now() + timedelta(minutes=30)).timestamp())

    def answer(remaining: int) -> httpx.Headers:
        return httpx.Headers({"x-ratelimit-limit": "5000", "x-ratelimit-remaining": str(remaining),
                              "x-ratelimit-reset": str(reset)})

    budget.observe(token_id(token), answer(1000))
    budget.observe(token_id(token), answer(1500))  # an older request answered last
    row = next(r for r in budget.budgets() if r["token_id"] == token_id(token))
    assert row["remaining"] == 1000


def test_graphql_rate_limit_selections_are_recorded(db):
    budget = PostgresBudget(db)
    token = f"tok-{uuid.uuid4().hex}"
    budget.observe_graphql(token_id(token), {"limit": 5000, "remaining": 4321, "cost": 3, "used": 679,
                                   "resetAt": "2030-01-01T00:00:00Z"})
    row = next(r for r in budget.budgets() if r["token_id"] == token_id(token))
    assert (row["resource"], row["remaining"], row["used"]) == ("graphql", 4321, 679)


def test_below_the_reserve_on_every_token_defers_until_the_earliest_reset(db):
    budget = PostgresBudget(db, reserve=0.10)
    tokens = [f"a-{uuid.uuid4().hex}", f"b-{uuid.uuid4().hex}"]
    resets = [int(time.time()) + 600, int(time.time()) + 1200]
    for token, reset in zip(tokens, resets, strict=True):
        budget.observe(token_id(token), httpx.Headers({"x-ratelimit-limit": "5000", "x-ratelimit-remaining": "400",
                                             "x-ratelimit-reset": str(reset)}))
    with pytest.raises(RateLimited) as caught:
        budget.pick([g(t) for t in tokens], "core")
    assert caught.value.defer_until == datetime.fromtimestamp(resets[0], tz=UTC)


def test_in_flight_requests_per_token_are_capped_across_workers(db):
    from contribsync.errors import SecondaryRateLimited

    active = 0
    peak = 0
    lock = threading.Lock()

    def slow(request: httpx.Request) -> httpx.Response:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        time.sleep(0.3)
        with lock:
            active -= 1
        return httpx.Response(200, json={})

    token = f"tok-{uuid.uuid4().hex}"
    budget = PostgresBudget(db, max_in_flight=2)
    outcomes: list[str] = []

    def worker() -> None:
        gh = GitHubClient(tokens=[token], budget=budget, transport=httpx.MockTransport(slow))
        try:
            gh.get(f"/x/{uuid.uuid4().hex}", conditional=False)
            outcomes.append("done")
        except SecondaryRateLimited:
            outcomes.append("deferred")

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert peak <= 2
    assert outcomes.count("done") >= 2
    assert outcomes.count("deferred") >= 1
    assert len(outcomes) == 6


def test_etags_survive_the_client_so_a_later_invocation_gets_a_free_304(db):
    from contribsync.github.etags import PostgresEtags

    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers.get("if-none-match") == '"v1"':
            return httpx.Response(304, headers={"etag": '"v1"'})
        return httpx.Response(200, headers={"etag": '"v1"'}, json={"full_name": "o/r", "stars": 3})

    url = f"/repos/o/r-{uuid.uuid4().hex}"
    first = GitHubClient(transport=httpx.MockTransport(handler), etags=PostgresEtags(db))
    assert not first.get(url).not_modified
    second = GitHubClient(transport=httpx.MockTransport(handler), etags=PostgresEtags(db))  # a new container
    again = second.get(url)
    assert again.not_modified and again.json == {"full_name": "o/r", "stars": 3}
    assert second.stats.not_modified == 1


def test_githubs_first_answer_replaces_the_assumed_budget_even_when_the_real_limit_is_higher(db):
    """An Enterprise server or an App installation may allow far more than the 5,000 assumed before
    GitHub's first answer; the token must not stay stuck under a reserve computed from the real limit."""
    budget = PostgresBudget(db)
    token = f"tok-{uuid.uuid4().hex}"
    assert budget.pick([g(token)], "graphql").token == token  # seeds the 5,000 estimate and reserves 1
    budget.observe_graphql(token_id(token), {"limit": 1_000_000, "remaining": 999_990, "used": 10,
                                   "resetAt": "2030-01-01T00:00:00Z"})
    row = next(r for r in budget.budgets() if r["token_id"] == token_id(token))
    assert (row["limit"], row["remaining"]) == (1_000_000, 999_990)
    for _ in range(3):
        assert budget.pick([g(token)], "graphql").token == token


class FakeGraphQLBudget:
    """A GitHub GraphQL endpoint that charges every query ``cost`` points, as GitHub charges a page of
    pull requests with their reviews and comments (13)."""

    def __init__(self, limit: int, cost: int) -> None:
        self.limit, self.cost = limit, cost
        self.remaining = limit
        self.lowest = limit
        self.refused = 0
        self.reset = int(time.time()) + 3600
        self.lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            headers = {"x-ratelimit-limit": str(self.limit), "x-ratelimit-reset": str(self.reset),
                       "x-ratelimit-resource": "graphql"}
            if self.remaining < self.cost:
                self.refused += 1
                return httpx.Response(200, headers={**headers, "x-ratelimit-remaining": "0"}, json={
                    "errors": [{"type": "RATE_LIMITED", "message": "API rate limit exceeded"}]})
            self.remaining -= self.cost
            self.lowest = min(self.lowest, self.remaining)
            headers["x-ratelimit-remaining"] = str(self.remaining)
        time.sleep(0.005)
        return httpx.Response(200, headers=headers, json={"data": {"ok": True}})


def test_graphql_queries_reserve_their_points_so_parallel_pages_never_spend_the_reserve(db):
    github = FakeGraphQLBudget(limit=400, cost=13)
    token = f"tok-{uuid.uuid4().hex}"
    budget = PostgresBudget(db, reserve=0.10)  # 40 points
    GitHubClient(tokens=[token], budget=budget, transport=httpx.MockTransport(github)).graphql(
        "rate_limit", {}, points=13)  # GitHub's first answer: the real limit is known
    deferred: list[RateLimited] = []

    def worker() -> None:
        gh = GitHubClient(tokens=[token], budget=budget, transport=httpx.MockTransport(github))
        try:
            while True:
                gh.graphql("rate_limit", {}, points=13)
        except RateLimited as exc:
            deferred.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    # THEN each worker was deferred by the governor before GitHub went under the reserve
    assert len(deferred) == 8
    assert github.refused == 0
    assert 40 <= github.lowest < 40 + 13


def test_after_a_window_rolls_over_githubs_reset_replaces_the_guessed_hour(db, fake_clock):
    """On rolling a spent window over, the reset is a guess (an hour from now); GitHub's first answer in
    the new window says when it really ends, and the budget must wait for that, not the guess."""
    budget = PostgresBudget(db, clock=fake_clock, reserve=0.10)
    token = f"tok-{uuid.uuid4().hex}"

    def answer(remaining: int, reset: datetime) -> httpx.Headers:
        return httpx.Headers({"x-ratelimit-limit": "100", "x-ratelimit-remaining": str(remaining),
                              "x-ratelimit-reset": str(int(reset.timestamp())), "x-ratelimit-resource": "core"})

    first_reset = fake_clock.now() + timedelta(seconds=60)
    budget.observe(token_id(token), answer(10, first_reset))  # spent down to the reserve
    with pytest.raises(RateLimited):
        budget.pick([g(token)], "core")
    fake_clock.advance(61)
    for _ in range(5):
        assert budget.pick([g(token)], "core").token == token  # a new window: full again
    real_reset = fake_clock.now() + timedelta(seconds=60)  # this GitHub's windows last a minute
    budget.observe(token_id(token), answer(99, real_reset))  # the answer to the first; four more are in flight
    row = next(r for r in budget.budgets() if r["token_id"] == token_id(token))
    assert (row["reset_at"], row["remaining"]) == (real_reset.replace(microsecond=0), 95)
    for _ in range(85):  # down to the reserve of 10
        budget.pick([g(token)], "core")
    with pytest.raises(RateLimited) as caught:
        budget.pick([g(token)], "core")
    assert caught.value.defer_until == real_reset.replace(microsecond=0)

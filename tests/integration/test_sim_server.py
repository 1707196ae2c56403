"""The simulator's HTTP front: budgets, GitHub-shaped limit answers, and faults at their configured rates.

The contribsync client is the one talking to it, over real HTTP on 127.0.0.1.
"""

from __future__ import annotations

import httpx
import pytest

from contribsync.errors import GitHubUnavailable, RateLimited, SecondaryRateLimited
from contribsync.github.client import GitHubClient
from contribsync_sim.server import Knobs, SimulatorApp, SimulatorServer

pytestmark = pytest.mark.integration


def echo_rest(request):
    return 200, {"path": request.path}, {"etag": '"e1"'}, 1, 0


def echo_graphql(request):
    return 200, {"data": {"rateLimit": {"cost": 3}}}, {}, 10, 3


@pytest.fixture
def simulator():
    servers = []

    def start(**knobs) -> SimulatorServer:
        server = SimulatorServer(SimulatorApp(graphql=echo_graphql, rest=echo_rest, knobs=Knobs(**knobs),
                                              sleep=lambda s: None)).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def test_rest_is_served_under_api_v3_too_with_rate_limit_headers(simulator):
    server = simulator()
    r = httpx.get(f"{server.url}/api/v3/repos/o/r", headers={"authorization": "token abc"})
    assert r.status_code == 200 and r.json() == {"path": "/api/v3/repos/o/r"}
    assert r.headers["x-ratelimit-limit"] == "5000" and r.headers["x-ratelimit-remaining"] == "4999"
    assert r.headers["x-ratelimit-resource"] == "core"
    assert r.headers["x-github-request-id"].startswith("SIM:")


def test_a_spent_budget_answers_like_github_and_the_client_defers(simulator):
    server = simulator(budget={"core": 3, "graphql": 5000})
    gh = GitHubClient(base_url=server.url, tokens=["abc"], max_retries=0)
    for n in range(3):
        gh.get(f"/repos/o/r{n}", conditional=False)
    with pytest.raises(RateLimited) as caught:
        gh.get("/repos/o/r9", conditional=False)
    assert not isinstance(caught.value, SecondaryRateLimited)
    assert "API rate limit exceeded" in str(caught.value)
    assert server.app.counters.limited == 1


def test_a_spent_graphql_budget_answers_rate_limited_like_github(simulator):
    server = simulator(budget={"core": 5000, "graphql": 3})
    gh = GitHubClient(base_url=server.url, tokens=["abc"], max_retries=0)
    gh.graphql("rate_limit", {}, points=3)
    with pytest.raises(RateLimited) as caught:  # HTTP 200 with a RATE_LIMITED error, not an empty answer
        gh.graphql("rate_limit", {}, points=3)
    assert not isinstance(caught.value, SecondaryRateLimited)
    assert "API rate limit exceeded" in str(caught.value)
    assert server.app.counters.limited == 1
    assert server.app.counters.lowest_remaining == {"graphql": 0}


def test_graphql_points_are_charged_to_the_graphql_budget(simulator):
    server = simulator()
    r = httpx.post(f"{server.url}/graphql", json={"query": "{ rateLimit { cost } }"},
                   headers={"authorization": "bearer abc"})
    assert r.headers["x-ratelimit-resource"] == "graphql"
    assert r.headers["x-ratelimit-used"] == "3"
    assert httpx.post(f"{server.url}/api/graphql", json={"query": "{ x }"}).headers["x-ratelimit-used"] == "3"


@pytest.mark.parametrize(("knob", "fault"), [("fault_502", "502"), ("fault_secondary", "secondary"),
                                              ("fault_abuse", "abuse"), ("fault_timeout", "timeout")])
def test_injected_faults_appear_at_the_configured_rate(simulator, knob, fault):
    server = simulator(**{knob: 0.10, "seed": 7})
    with httpx.Client() as http:
        statuses = [http.get(f"{server.url}/repos/o/r").status_code for _ in range(600)]
    share = server.app.counters.faults.get(fault, 0) / 600
    assert 0.07 <= share <= 0.13, share
    expected = {"502": 502, "secondary": 403, "abuse": 403, "timeout": 504}[fault]
    assert statuses.count(expected) == server.app.counters.faults[fault]


def test_the_client_maps_simulated_faults_to_the_error_tree(simulator):
    secondary = simulator(fault_secondary=1.0)
    with pytest.raises(SecondaryRateLimited) as caught:
        GitHubClient(base_url=secondary.url, max_retries=0).get("/repos/o/r")
    assert caught.value.retry_after == 60
    broken = simulator(fault_502=1.0)
    with pytest.raises(GitHubUnavailable, match="SIM:"):
        GitHubClient(base_url=broken.url, max_retries=1, sleep=lambda s: None).get("/repos/o/r")
    assert broken.app.counters.requests == 2

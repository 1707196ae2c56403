"""What a run's meter counts of its GitHub requests: charged points, the lowest budget left, nested meters
and worker threads."""

from __future__ import annotations

import threading

import httpx
import pytest

from contribsync.errors import ContribsyncError
from contribsync.github.client import GitHubClient
from contribsync.meters import Stats, metered


def github(remaining: list[int]):
    """A GitHub whose REST answers count down ``remaining``; ``/etag`` answers 304, ``/broken`` 502,
    ``/spent`` a rate-limit refusal, and GraphQL charges 13 points."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/graphql":
            remaining[0] -= 13
            return httpx.Response(200, json={"data": {"rateLimit": {
                "cost": 13, "remaining": remaining[0], "limit": 5000, "resetAt": "2030-01-01T00:00:00Z"}}})
        if request.url.path == "/spent":
            return httpx.Response(403, headers={"x-ratelimit-remaining": "0"}, json={"message": "rate limit"})
        if request.url.path == "/broken":
            return httpx.Response(502, json={"message": "Server Error"})
        if request.url.path == "/etag" and request.headers.get("if-none-match"):
            return httpx.Response(304, headers={"x-ratelimit-remaining": str(remaining[0])})
        remaining[0] -= 1
        return httpx.Response(200, headers={"x-ratelimit-remaining": str(remaining[0]), "etag": '"e"'}, json={})

    return handler


def client(remaining: list[int]) -> GitHubClient:
    return GitHubClient(tokens=["t0k3n"], transport=httpx.MockTransport(github(remaining)), max_retries=0,
                        sleep=lambda s: None)


def test_a_meter_counts_graphql_points_and_charged_rest_requests_only():
    remaining = [100]
    gh = client(remaining)
    with metered() as meter:
        gh.graphql("rate_limit", {})
        gh.get("/etag")
        gh.get("/etag")  # 304: not charged
        for path in ("/broken", "/spent"):  # a server error, and a refusal of a spent budget: not charged
            with pytest.raises(ContribsyncError):
                gh.get(path, conditional=False)
    assert (meter.graphql_points, meter.rest_points, meter.points) == (13, 1, 14)
    assert meter.requests == 5
    assert meter.not_modified == 1
    assert meter.lowest_remaining == 0  # the refusal said so
    assert gh.stats.points == 14  # the client's own totals count the same


def test_a_runs_meter_sees_what_a_nested_meter_and_its_worker_threads_count():
    remaining = [100]
    gh = client(remaining)
    run = Stats()
    with metered(run):
        with metered() as sync_log:  # a sync log's meter inside the run's
            gh.get("/a")

            def worker() -> None:  # a stream of the enhanced sync joins the sync log's meter
                with metered(sync_log):
                    gh.get("/b")

            thread = threading.Thread(target=worker)
            thread.start()
            thread.join()
        gh.get("/c")
    assert (sync_log.rest_points, run.rest_points) == (2, 3)
    assert run.lowest_remaining == 97
    gh.get("/d")  # outside every meter
    assert run.rest_points == 3

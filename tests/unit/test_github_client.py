"""The GitHub client against recorded real exchanges (tests/fixtures/github/api-fixtures) and injected faults.

Recorded responses are replayed through httpx.MockTransport, so the client's own HTTP handling
(Link pagination, ETags, headers, error bodies) meets GitHub's real answers.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest

from contribsync.errors import (
    GitHubUnavailable,
    GraphQLError,
    NotFound,
    RateLimited,
    SecondaryRateLimited,
    Unauthorized,
    Unprocessable,
)
from contribsync.github.client import GitHubClient, graphql_url
from contribsync.github.errors import error_for
from tests.fixtures import OCTOKIT_FIXTURES, PYGITHUB_REPLAY

OCTOKIT = OCTOKIT_FIXTURES
PYGITHUB = PYGITHUB_REPLAY


def octokit(name: str) -> list[dict]:
    return json.loads((OCTOKIT / name / "normalized-fixture.json").read_text())


def pygithub(name: str) -> list[dict]:
    return json.loads((PYGITHUB / f"{name}.json").read_text())["interactions"]


def recorded(status: int, headers, body) -> httpx.Response:
    pairs = headers.items() if isinstance(headers, dict) else headers
    skip = ("content-length", "content-encoding", "transfer-encoding", "status")
    keep = [(k, str(v)) for k, v in pairs if k.lower() not in skip]
    content = body if isinstance(body, str) else json.dumps(body)
    return httpx.Response(status, headers=keep, content=content.encode())


def client(handler, **kwargs) -> GitHubClient:
    sleeps: list[float] = []
    c = GitHubClient(tokens=["t0k3n"], transport=httpx.MockTransport(handler), sleep=sleeps.append,
                     rng=lambda: 1.0, **kwargs)
    c.sleeps = sleeps  # type: ignore[attr-defined]
    return c


def test_link_pagination_follows_every_page_of_a_recorded_exchange():
    exchanges = {f"https://api.github.com{x['path']}": x for x in octokit("paginate-issues")}
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        x = exchanges[str(request.url)]
        return recorded(x["status"], x["headers"], x["response"])

    gh = client(handler)
    issues = list(gh.paginate("/repos/octokit-fixture-org/paginate-issues/issues", {"per_page": 3}))
    expected = [i["number"] for x in octokit("paginate-issues") for i in x["response"]]
    assert [i["number"] for i in issues] == expected
    assert len(seen) == len(exchanges) == 5
    assert seen[1] == "https://api.github.com/repositories/1000/issues?per_page=3&page=2"  # verbatim


def test_default_page_size_is_100():
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.params["per_page"] == "100"
        return httpx.Response(200, json=[])

    assert list(client(handler).paginate("/repos/o/r/pulls", {"state": "all"})) == []


def test_etag_revalidation_returns_the_cached_body_and_counts_the_304():
    first = pygithub("ConditionalRequestUpdate.setUp")[0]["response"]
    second = pygithub("ConditionalRequestUpdate.testDidNotUpdate")[0]
    etag = dict(first["headers"])["etag"]

    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers.get("if-none-match") == etag:
            assert second["request"]["headers"]["If-None-Match"] == etag
            return recorded(304, second["response"]["headers"], "")
        return recorded(200, first["headers"], first["json"])

    gh = client(handler)
    one = gh.get("/repos/akfish/PyGithub")
    two = gh.get("/repos/akfish/PyGithub")
    assert not one.not_modified
    assert two.not_modified
    assert two.json == one.json and one.json["full_name"] == "akfish/PyGithub"
    assert gh.stats.not_modified == 1
    assert gh.stats.requests == 2


@pytest.mark.parametrize(("name", "index", "error"), [
    ("SpecificExceptions.testBadCredentials", 0, Unauthorized),
    ("SpecificExceptions.testUnknownObject", 1, NotFound),
    ("SpecificExceptions.testRateLimitExceeded", 1, RateLimited),
])
def test_recorded_errors_map_to_the_error_tree(name, index, error):
    exchange = pygithub(name)[index]
    response = recorded(exchange["response"]["status"], exchange["response"]["headers"],
                        exchange["response"].get("json", exchange["response"].get("body", "")))
    with pytest.raises(error) as caught:
        client(lambda request: response).get(exchange["request"]["url"])
    assert exchange["request"]["url"].removeprefix("https://api.github.com") in str(caught.value)


def test_a_recorded_422_keeps_githubs_message_and_request_id():
    x = octokit("errors")[0]
    err = error_for(recorded(x["status"], x["headers"], x["response"]), "POST /repos/o/r/labels")
    assert isinstance(err, Unprocessable)
    assert "Validation Failed" in str(err)
    assert "X-GitHub-Request-Id: 0000:00000:0000000:0000000:00000000" in str(err)


def test_primary_limit_defers_until_reset_and_secondary_honours_retry_after():
    reset = 1_900_000_000
    primary = httpx.Response(403, headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)},
                             json={"message": "API rate limit exceeded"})
    err = error_for(primary, "GET /x")
    assert isinstance(err, RateLimited) and not isinstance(err, SecondaryRateLimited)
    assert err.defer_until == datetime.fromtimestamp(reset, tz=UTC)
    secondary = error_for(httpx.Response(403, headers={"retry-after": "42"},
                                         json={"message": "You have exceeded a secondary rate limit"}), "GET /x")
    assert isinstance(secondary, SecondaryRateLimited) and secondary.retry_after == 42


def test_502s_are_retried_with_jittered_backoff_then_succeed():
    answers = iter([httpx.Response(502, headers={"x-github-request-id": "AAA"}),
                    httpx.Response(502), httpx.Response(200, json={"ok": True})])
    gh = client(lambda request: next(answers), backoff_base_s=1.0)
    assert gh.get("/repos/o/r").json == {"ok": True}
    assert gh.stats.retries == 2
    assert gh.sleeps == [1.0, 2.0]  # rng=1.0: the top of each jitter window, doubling


def test_retries_are_bounded_and_the_error_names_the_request():
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(503, headers={"x-github-request-id": "BEEF:1"}, json={"message": "unavailable"})

    with pytest.raises(GitHubUnavailable, match="BEEF:1"):
        client(handler, max_retries=2).get("/repos/o/r")
    assert len(calls) == 3


def test_timeouts_are_retried_then_reported():
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    gh = client(handler, max_retries=1)
    with pytest.raises(GitHubUnavailable, match="timed out"):
        gh.get("/repos/o/r")
    assert gh.stats.requests == 2


def test_a_graphql_502_on_a_heavy_page_retries_with_a_smaller_page():
    sizes: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        first = json.loads(request.content)["variables"]["first"]
        sizes.append(first)
        if first > 25:
            return httpx.Response(502)
        return httpx.Response(200, json={"data": {"rateLimit": {"cost": 1, "remaining": 4999}}})

    gh = client(handler)
    result = gh.graphql("recent_pull_requests", {"owner": "o", "name": "r", "first": 100})
    assert sizes == [100, 50, 25]
    assert result.variables["first"] == 25
    assert gh.stats.shrunk_pages == 2
    assert gh.stats.graphql_points == 1


@pytest.mark.parametrize(("errors", "error"), [
    ([{"type": "RATE_LIMITED", "message": "API rate limit exceeded"}], RateLimited),
    ([{"type": "NOT_FOUND", "message": "Could not resolve to a Repository"}], NotFound),
    ([{"message": "Field 'x' doesn't exist on type 'Query'"}], GraphQLError),
])
def test_graphql_errors_map_to_the_error_tree(errors, error):
    gh = client(lambda request: httpx.Response(200, json={"data": None, "errors": errors},
                                               headers={"x-github-request-id": "CAFE"}))
    with pytest.raises(error, match="CAFE"):
        gh.graphql("rate_limit", {})


def test_graphql_urls_for_github_and_enterprise():
    assert graphql_url("https://api.github.com") == "https://api.github.com/graphql"
    assert graphql_url("https://ghe.example.com/api/v3/") == "https://ghe.example.com/api/graphql"
    assert graphql_url("http://127.0.0.1:9000") == "http://127.0.0.1:9000/graphql"


def test_the_token_is_sent_as_a_bearer_header():
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == "Bearer t0k3n"
        assert request.headers["x-github-api-version"] == "2022-11-28"
        return httpx.Response(200, json={})

    client(handler).get("/user")



def test_post_sends_its_json_body_with_the_token_and_is_retried_like_a_get():
    seen: list[tuple[str, str, bytes]] = []
    answers = iter([httpx.Response(502), httpx.Response(201, json={"number": 7})])

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.method, request.headers["authorization"], request.content))
        return next(answers)

    gh = client(handler)
    assert gh.post("/repos/o/r/issues", {"title": "t"}).json == {"number": 7}
    assert seen == [("POST", "Bearer t0k3n", b'{"title":"t"}')] * 2
    assert gh.stats.retries == 1


def test_an_empty_answer_to_a_post_has_no_body_and_a_422_is_not_retried():
    answers = iter([httpx.Response(202), httpx.Response(422, json={"message": "Validation Failed"})])
    gh = client(lambda request: next(answers))
    assert gh.post("/repos/o/r/hooks/1/deliveries/2/attempts").json is None
    with pytest.raises(Unprocessable, match="POST /repos/o/r/hooks/1/deliveries/3/attempts: 422 Validation Failed"):
        gh.post("/repos/o/r/hooks/1/deliveries/3/attempts")
    assert gh.stats.retries == 0

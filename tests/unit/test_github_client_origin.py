"""The GitHub client sends requests, and so its token, only to the origin of its configured API URL."""

from __future__ import annotations

import httpx
import pytest

from contribsync.errors import ForeignHost, NonRetriable
from contribsync.github.client import GitHubClient

TOKEN = "ghp_" + "c4n4ry" * 6


def recording(pages: dict[str, httpx.Response]):
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        default = {"data": {}} if request.url.path.endswith("/graphql") else []
        return pages.get(str(request.url), httpx.Response(200, json=default))

    return handler, sent


def client(handler, base_url: str = "https://api.github.com") -> GitHubClient:
    return GitHubClient(base_url=base_url, tokens=[TOKEN], transport=httpx.MockTransport(handler),
                        sleep=lambda _s: None)


def test_a_link_next_to_another_host_is_refused_before_it_is_sent():
    # GIVEN a first page whose Link names another host for the next one
    first = "https://api.github.com/repos/o/r/issues?per_page=100"
    handler, sent = recording({first: httpx.Response(200, json=[{"n": 1}], headers={
        "link": '<https://evil.example/repos/o/r/issues?page=2>; rel="next"'})})
    pages = client(handler).paginate("/repos/o/r/issues", conditional=False)
    # WHEN the client follows it THEN the first page's items come, and the next page is refused
    assert next(pages) == {"n": 1}
    with pytest.raises(ForeignHost) as refused:
        next(pages)
    assert isinstance(refused.value, NonRetriable)
    assert "evil.example" in str(refused.value) and TOKEN not in str(refused.value)
    assert [r.url.host for r in sent] == ["api.github.com"]


def test_an_absolute_url_to_another_host_is_refused_for_every_method():
    handler, sent = recording({})
    github = client(handler)
    with pytest.raises(ForeignHost):
        github.get("https://evil.example/repos/o/r")
    with pytest.raises(ForeignHost):
        github.post("https://api.github.com.evil.example/app/hook/deliveries/1/attempts")
    with pytest.raises(ForeignHost):
        github.get("https://api.github.com:8443/repos/o/r")  # another port is another origin
    assert sent == []


def test_an_http_downgrade_of_the_same_host_is_refused():
    handler, sent = recording({})
    with pytest.raises(ForeignHost):
        client(handler).get("http://api.github.com/repos/o/r")
    assert sent == []


def test_the_configured_origin_itself_is_used_with_its_token_in_any_spelling():
    # GIVEN GitHub Enterprise's base with a path, and URLs on its origin spelt with case and default port
    handler, sent = recording({})
    github = client(handler, base_url="https://GHE.example.com/api/v3")
    github.get("https://ghe.example.com:443/api/v3/repos/o/r")
    github.get("/repos/o/r")
    github.graphql("viewer", {}, query="{ viewer { login } }")
    assert [r.url.host for r in sent] == ["ghe.example.com"] * 3
    assert {r.headers["authorization"] for r in sent} == {f"Bearer {TOKEN}"}

"""The simulator's REST API over real HTTP: GitHub's pagination, filters, ETags and 404s, the peers' quirks
(``/api/v3``, repeated parameters, ``after`` cursors), and the same data as its GraphQL API.
"""

from __future__ import annotations

import json
import re
from email.utils import parsedate_to_datetime
from functools import cache
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from contribsync.github.client import GitHubClient
from contribsync_sim.dataset import generate, ground_truth
from contribsync_sim.graphql_api import GraphQLApi
from contribsync_sim.rest_api import RestApi
from contribsync_sim.server import SimulatorApp, SimulatorServer
from tests.fixtures import PYGITHUB_REPLAY

pytestmark = pytest.mark.integration

PYGITHUB = PYGITHUB_REPLAY
_REPO = r"/repos/[^/]+/[^/]+"
# The REST routes Perceval and tap-github read (their sources: perceval/backends/core/github.py, tap_github/).
PEER_ROUTES = {
    "pulls": rf"{_REPO}/pulls", "pull": rf"{_REPO}/pulls/\d+", "reviews": rf"{_REPO}/pulls/\d+/reviews",
    "review_comments": rf"{_REPO}/pulls/\d+/comments", "repo_review_comments": rf"{_REPO}/pulls/comments",
    "commits": rf"{_REPO}/pulls/\d+/commits", "requested_reviewers": rf"{_REPO}/pulls/\d+/requested_reviewers",
    "issues": rf"{_REPO}/issues", "issue": rf"{_REPO}/issues/\d+", "issue_comments": rf"{_REPO}/issues/\d+/comments",
    "repo_issue_comments": rf"{_REPO}/issues/comments", "user": r"/users/[^/]+", "rate_limit": r"/rate_limit",
}


@pytest.fixture(scope="module")
def sim():
    ds = generate(21, repos=3, prs_per_repo=130)
    server = SimulatorServer(SimulatorApp(graphql=GraphQLApi(ds), rest=RestApi(ds))).start()
    yield ds, server
    server.stop()


@pytest.fixture
def http(sim):
    with httpx.Client(base_url=sim[1].url, headers={"authorization": "token rest-tests"}) as client:
        yield client


def first_repo(ds):
    return min(ds.repos.values(), key=lambda r: r.id)


def next_link(response: httpx.Response) -> str | None:
    links = response.links
    return links.get("next", {}).get("url")


def test_pulls_follow_link_pages_to_every_pull_request(sim, http):
    ds, _ = sim
    repo = first_repo(ds)
    response = http.get(f"/repos/{repo.full_name}/pulls", params={"state": "all", "per_page": 40})
    assert 'rel="last"' in response.headers["link"]
    numbers, pages = [], 0
    while True:
        assert response.status_code == 200
        numbers += [p["number"] for p in response.json()]
        pages += 1
        url = next_link(response)
        if url is None:
            break
        response = http.get(url)
    assert pages == -(-130 // 40)
    truth = ground_truth(ds)["repos"][repo.full_name]["pr_numbers"]
    assert sorted(numbers) == truth and len(numbers) == len(set(numbers))
    assert numbers == sorted(numbers, reverse=True)  # sort=created defaults to descending


def test_per_page_is_capped_at_100_and_state_defaults_to_open(sim, http):
    ds, _ = sim
    repo = first_repo(ds)
    everything = http.get(f"/repos/{repo.full_name}/pulls", params={"state": "all", "per_page": 500}).json()
    assert len(everything) == 100
    open_only = http.get(f"/repos/{repo.full_name}/pulls", params={"per_page": 100}).json()
    assert {p["state"] for p in open_only} <= {"open"}
    assert len(open_only) == sum(p.state == "OPEN" for p in ds.prs_by_repo[repo.id])


def test_issues_page_by_after_cursor_with_repeated_parameters_under_api_v3(sim, http):
    """Perceval repeats ``per_page`` and sends ``since``; tap-github takes ``after`` from the Link."""
    ds, server = sim
    repo = first_repo(ds)
    url = (f"{server.url}/api/v3/repos/{repo.full_name}/issues?state=all&per_page=100&per_page=100"
           "&direction=asc&sort=updated&since=1980-01-01T00:00:00%2B00:00")
    seen, cursors = [], 0
    while url:
        response = http.get(url)
        assert response.status_code == 200
        seen += response.json()
        url = next_link(response)
        if url:
            query = parse_qs(urlparse(url).query)
            assert urlparse(url).path.startswith("/api/v3/")
            cursors += "after" in query
    truth = ground_truth(ds)["repos"][repo.full_name]
    assert cursors >= 1
    assert sorted(i["number"] for i in seen) == sorted(truth["pr_numbers"] + truth["issue_numbers"])
    assert sum("pull_request" in i for i in seen) == truth["pull_requests"]["total"]  # issues include PRs
    updated = [i["updated_at"] for i in seen]
    assert updated == sorted(updated)
    assert all(i["url"].startswith(f"{server.url}/api/v3/") for i in seen)


def test_since_filters_by_update_time(sim, http):
    ds, _ = sim
    repo = first_repo(ds)
    items = sorted(ds.issues_by_repo[repo.id], key=lambda i: i.updated_at)
    cutoff = items[len(items) // 2].updated_at
    got = GitHubClient(base_url=str(http.base_url), tokens=["t"], max_retries=0).paginate(
        f"/repos/{repo.full_name}/issues", {"state": "all", "since": cutoff.isoformat()})
    expected = {i.number for i in ds.issues_by_repo[repo.id] if i.updated_at >= cutoff} | {
        p.number for p in ds.prs_by_repo[repo.id] if p.updated_at >= cutoff}
    assert {i["number"] for i in got} == expected


def test_a_matching_etag_gets_a_free_304(sim, http):
    ds, server = sim
    repo = first_repo(ds)
    first = http.get(f"/repos/{repo.full_name}/pulls/comments", params={"per_page": 10})
    again = http.get(f"/repos/{repo.full_name}/pulls/comments", params={"per_page": 10},
                     headers={"if-none-match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["x-ratelimit-used"] == first.headers["x-ratelimit-used"]
    stale = http.get(f"/repos/{repo.full_name}/pulls/comments", params={"per_page": 10},
                     headers={"if-none-match": 'W/"not-it"'})
    assert stale.status_code == 200
    assert int(stale.headers["x-ratelimit-used"]) == int(first.headers["x-ratelimit-used"]) + 1
    assert server.app.counters.not_modified >= 1


def test_missing_things_are_githubs_404(sim, http):
    ds, _ = sim
    repo = first_repo(ds)
    issue_number = ds.issues_by_repo[repo.id][0].number
    for path in ("/repos/simorg/nope", f"/repos/{repo.full_name}/pulls/{issue_number}", "/users/nobody-here",
                 f"/repos/{repo.full_name}/issues/99999/comments", "/not/an/endpoint"):
        response = http.get(path)
        assert response.status_code == 404, path
        assert response.json()["message"] == "Not Found"


def test_rate_limit_shows_every_budget_and_costs_nothing(sim, http):
    before = http.get("/rate_limit").json()
    after = http.get("/rate_limit").json()
    assert set(before["resources"]) >= {"core", "graphql", "search"}
    assert after["resources"]["core"]["used"] == before["resources"]["core"]["used"]


def test_users_and_bots_have_rest_logins(sim, http):
    bot = http.get("/users/dependabot[bot]").json()
    assert (bot["login"], bot["type"]) == ("dependabot[bot]", "Bot")
    ghost = http.get("/users/ghost").json()
    assert ghost["id"] == 10137
    assert http.get("/users/ghost/orgs").json() == []


def _graphql_pull_requests(client: GitHubClient, repo) -> dict[int, dict]:
    out, after = {}, None
    while True:
        page = client.graphql("pull_requests_page", {
            "owner": repo.owner.login, "name": repo.name, "first": 50, "after": after,
            "orderBy": {"field": "CREATED_AT", "direction": "ASC"}, "reviews": 50, "comments": 50,
            "reviewComments": 50}).data["repository"]["pullRequests"]
        out.update({n["number"]: n for n in page["nodes"]})
        if not page["pageInfo"]["hasNextPage"]:
            return out
        after = page["pageInfo"]["endCursor"]


def test_the_same_data_through_graphql_and_rest(sim):
    ds, server = sim
    client = GitHubClient(base_url=server.url, tokens=["same-data"], max_retries=0)
    for repo in ds.repos.values():
        graph = _graphql_pull_requests(client, repo)
        rest = {p["number"]: p for p in client.paginate(f"/repos/{repo.full_name}/pulls", {"state": "all"})}
        assert graph.keys() == rest.keys()
        for number, node in graph.items():
            item = rest[number]
            assert int(node["fullDatabaseId"]) == item["id"]
            assert node["title"] == item["title"]
            assert node["createdAt"] == item["created_at"] and node["mergedAt"] == item["merged_at"]
            assert (node["state"] == "OPEN") == (item["state"] == "open")
            assert node["isDraft"] == item["draft"]
            # GitHub's one difference: a bot's GraphQL login has no "[bot]" suffix.
            author = node["author"]["login"] if node["author"] else None
            assert author == item["user"]["login"].removesuffix("[bot]")
        for number in list(graph)[:25]:
            node = graph[number]
            detail = client.get(f"/repos/{repo.full_name}/pulls/{number}").json
            assert (node["additions"], node["deletions"], node["changedFiles"]) == (
                detail["additions"], detail["deletions"], detail["changed_files"])
            reviews = list(client.paginate(f"/repos/{repo.full_name}/pulls/{number}/reviews"))
            assert [int(r["fullDatabaseId"]) for r in node["reviews"]["nodes"]] == [r["id"] for r in reviews]
            assert [r["state"] for r in node["reviews"]["nodes"]] == [r["state"] for r in reviews]
            comments = list(client.paginate(f"/repos/{repo.full_name}/issues/{number}/comments"))
            assert [c["body"] for c in node["comments"]["nodes"]] == [c["body"] for c in comments]
            inline = list(client.paginate(f"/repos/{repo.full_name}/pulls/{number}/comments"))
            nested = [c for r in node["reviews"]["nodes"] for c in r["comments"]["nodes"]]
            assert sorted(int(c["fullDatabaseId"]) for c in nested) == sorted(c["id"] for c in inline)


@cache
def newest_recordings() -> dict[str, tuple[str, dict]]:
    """Per peer route, GitHub's most recent recorded 200 answer (its first item for a list) and its URL."""
    newest: dict[str, tuple] = {}
    for path in PYGITHUB.glob("*.json"):
        for x in json.loads(path.read_text())["interactions"]:
            request, response = x["request"], x["response"]
            body = response.get("json")
            body = body[0] if isinstance(body, list) and body else body
            date = dict((k.lower(), v) for k, v in response["headers"]).get("date")
            if request["method"] != "GET" or response["status"] != 200 or not isinstance(body, dict) or not date:
                continue
            for route, pattern in PEER_ROUTES.items():
                at = parsedate_to_datetime(date)
                if re.fullmatch(pattern, urlparse(request["url"]).path) and (
                        route not in newest or at > newest[route][0]):
                    newest[route] = (at, request["url"], body)
    return {route: (url, body) for route, (_, url, body) in newest.items()}


def peer_paths(ds) -> dict[str, str]:
    repo = first_repo(ds)
    r = f"/api/v3/repos/{repo.full_name}"
    pr = next(p for p in ds.prs_by_repo[repo.id] if ds.reviews_by_pr[p.id] and ds.review_comments_by_pr[p.id]
              and ds.issue_comments_by_number.get((repo.id, p.number)))
    issue = next(i for i in ds.issues_by_repo[repo.id] if ds.issue_comments_by_number.get((repo.id, i.number)))
    return {"pulls": f"{r}/pulls", "pull": f"{r}/pulls/{pr.number}", "reviews": f"{r}/pulls/{pr.number}/reviews",
            "review_comments": f"{r}/pulls/{pr.number}/comments", "repo_review_comments": f"{r}/pulls/comments",
            "commits": f"{r}/pulls/{pr.number}/commits",
            "requested_reviewers": f"{r}/pulls/{pr.number}/requested_reviewers",
            "issues": f"{r}/issues?state=all", "issue": f"{r}/issues/{issue.number}",
            "issue_comments": f"{r}/issues/{issue.number}/comments", "repo_issue_comments": f"{r}/issues/comments",
            "user": f"/api/v3/users/{ds.users[pr.author_id].login}", "rate_limit": "/api/v3/rate_limit"}


@pytest.mark.parametrize("route", sorted(PEER_ROUTES))
def test_what_the_peers_read_has_every_key_of_githubs_newest_recorded_answer(sim, http, route):
    # GIVEN GitHub's newest recorded answer of the route (PyGithub's replay data, up to 2025)
    url, recorded = newest_recordings()[route]
    # WHEN the simulator answers the same route
    response = http.get(peer_paths(sim[0])[route])
    assert response.status_code == 200
    body = response.json()
    ours = body[0] if isinstance(body, list) else body
    # THEN it has every key GitHub's has (Perceval raises KeyError on a missing one), nested ones too
    assert set(recorded) - set(ours) == set(), url
    for key, value in recorded.items():
        if isinstance(value, dict) and isinstance(ours[key], dict) and key not in ("resources", "reactions"):
            assert set(value) - set(ours[key]) == set(), f"{url}: {key}"
    if route == "rate_limit":
        assert set(recorded["resources"]["core"]) - set(ours["resources"]["core"]) == set()


def test_requests_and_points_are_counted_per_budget_and_route(sim, http):
    ds, server = sim
    repo = first_repo(ds)
    counters = server.app.counters
    before = (dict(counters.requests_by_resource), dict(counters.points_by_resource), dict(counters.endpoints),
              counters.points)
    # WHEN a peer reads reviews twice (the second a 304), asks /rate_limit, a user's orgs and one GraphQL query
    reviews = f"/api/v3/repos/{repo.full_name}/pulls/{ds.prs_by_repo[repo.id][0].number}/reviews"
    first = http.get(reviews)
    again = http.get(reviews, headers={"if-none-match": first.headers["etag"]})
    http.get("/api/v3/rate_limit")
    http.get("/users/ghost/orgs")
    graphql = http.post("/graphql", json={"query": "{ rateLimit { cost } }"})
    # THEN every request counts, a REST answer costs 1, a 304 and /rate_limit nothing, GraphQL its cost
    assert (first.status_code, again.status_code, graphql.status_code) == (200, 304, 200)

    def delta(now: dict, then: dict) -> dict:
        return {k: v - then.get(k, 0) for k, v in now.items() if v != then.get(k, 0)}

    graphql_points = counters.points - before[3]
    assert graphql_points >= 1
    assert delta(counters.requests_by_resource, before[0]) == {"core": 4, "graphql": 1}
    assert delta(counters.points_by_resource, before[1]) == {"core": 2, "graphql": graphql_points}
    assert delta(counters.endpoints, before[2]) == {
        "GET /repos/{owner}/{repo}/pulls/{n}/reviews": 2, "GET /rate_limit": 1, "GET /users/{login}/orgs": 1,
        "POST /graphql": 1}

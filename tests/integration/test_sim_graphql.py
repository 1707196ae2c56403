"""Our GraphQL documents, sent by our client over HTTP to the simulator, return the dataset's truth."""

from __future__ import annotations

import httpx
import pytest

from contribsync.errors import GraphQLError, NotFound
from contribsync.github.client import GitHubClient
from contribsync_sim.dataset import DEPENDABOT_ID, generate, ground_truth
from contribsync_sim.graphql_api import GraphQLApi
from contribsync_sim.server import Knobs, SimulatorApp, SimulatorServer

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def sim():
    ds = generate(11, repos=3, prs_per_repo=120)
    server = SimulatorServer(SimulatorApp(graphql=GraphQLApi(ds), rest=lambda r: (404, {}, {}, 0, 0),
                                          knobs=Knobs())).start()
    yield ds, server
    server.stop()


def gh(server) -> GitHubClient:
    return GitHubClient(base_url=server.url, tokens=["sim-token"], max_retries=0)


def repo_named(ds, index: int):
    return sorted(ds.repos.values(), key=lambda r: r.id)[index]


def test_repository_metadata(sim):
    ds, server = sim
    repo = repo_named(ds, 0)
    data = gh(server).graphql("repository", {"owner": repo.owner.login, "name": repo.name}).data["repository"]
    assert data["databaseId"] == repo.id
    assert data["nameWithOwner"] == repo.full_name
    assert data["hasDiscussionsEnabled"] == repo.has_discussions
    assert data["pullRequests"]["totalCount"] == len(ds.prs_by_repo[repo.id])


def test_recent_pull_requests_are_the_newest_by_creation(sim):
    ds, server = sim
    repo = repo_named(ds, 1)
    result = gh(server).graphql("recent_pull_requests", {"owner": repo.owner.login, "name": repo.name, "first": 100})
    numbers = [n["number"] for n in result.data["repository"]["pullRequests"]["nodes"]]
    newest = sorted(ds.prs_by_repo[repo.id], key=lambda p: (p.created_at, p.id), reverse=True)[:100]
    assert numbers == [p.number for p in newest]


def test_paging_through_every_pull_request_with_nested_reviews(sim):
    ds, server = sim
    repo = repo_named(ds, 0)
    client = gh(server)
    seen, after = [], None
    while True:
        page = client.graphql("pull_requests_page", {
            "owner": repo.owner.login, "name": repo.name, "first": 50, "after": after,
            "orderBy": {"field": "UPDATED_AT", "direction": "DESC"}, "reviews": 20, "comments": 20,
            "reviewComments": 10}).data["repository"]["pullRequests"]
        for node in page["nodes"]:
            seen.append(node["number"])
            pr = ds.pr_by_number[(repo.id, node["number"])]
            assert node["reviews"]["totalCount"] == len(ds.reviews_by_pr.get(pr.id, []))
            assert node["comments"]["totalCount"] == len(ds.issue_comments_by_number.get((repo.id, pr.number), []))
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert sorted(seen) == ground_truth(ds)["repos"][repo.full_name]["pr_numbers"]
    assert len(seen) == len(set(seen))


def test_discussions_follow_the_repository_setting(sim):
    ds, server = sim
    client = gh(server)
    for repo in ds.repos.values():
        page = client.graphql("discussions_page", {"owner": repo.owner.login, "name": repo.name, "first": 50,
                                                   "after": None}).data["repository"]
        assert page["hasDiscussionsEnabled"] == repo.has_discussions
        assert page["discussions"]["totalCount"] == len(ds.discussions_by_repo.get(repo.id, []))


def test_bots_keep_githubs_graphql_login_and_id(sim):
    ds, server = sim
    repo = repo_named(ds, 0)
    dependabot_pr = next(p for p in ds.prs_by_repo[repo.id] if p.author_id == DEPENDABOT_ID)
    pr = gh(server).graphql("pull_request_details", {"owner": repo.owner.login, "name": repo.name,
                                                     "number": dependabot_pr.number}).data["repository"]["pullRequest"]
    assert pr["author"] == {**pr["author"], "__typename": "Bot", "login": "dependabot", "databaseId": DEPENDABOT_ID}
    assert pr["files"]["totalCount"] == len(dependabot_pr.files)


def test_rate_limit_cost_is_charged_and_reported(sim):
    ds, server = sim
    repo = repo_named(ds, 0)
    response = httpx.post(f"{server.url}/graphql", headers={"authorization": "bearer cost-check"}, json={
        "query": "query($o:String!,$n:String!){repository(owner:$o,name:$n){pullRequests(first:10){nodes{"
                 "reviews(first:10){totalCount}}}} rateLimit{cost remaining used}}",
        "variables": {"o": repo.owner.login, "n": repo.name}})
    rate = response.json()["data"]["rateLimit"]
    assert rate["cost"] == 1  # 1 + 10 requests: rounds to 0, and the minimum is 1
    assert response.headers["x-ratelimit-used"] == str(rate["used"]) == "1"


def test_a_missing_repository_is_not_found(sim):
    _, server = sim
    with pytest.raises(NotFound, match="Could not resolve to a Repository"):
        gh(server).graphql("repository", {"owner": "nobody", "name": "nothing"})


def test_invalid_queries_and_oversized_pages_are_refused_like_github(sim):
    _, server = sim
    client = gh(server)
    with pytest.raises(GraphQLError, match="filterBy"):
        client.graphql("bad", {}, query='{ repository(owner:"o", name:"r") { pullRequests(first: 5, '
                                        'filterBy: {since: "2024-01-01T00:00:00Z"}) { totalCount } } }')
    with pytest.raises(GraphQLError, match="first"):
        client.graphql("big", {}, query='{ repository(owner:"o", name:"r") { pullRequests(first: 101) '
                                        '{ nodes { number } } } }')


def test_the_tap_githubs_repository_lookup(sim):
    """MeltanoLabs tap-github's one GraphQL call (its source), with its stray `?per_page=100`."""
    ds, server = sim
    repo = repo_named(ds, 2)
    query = (f'query {{repo0: repository(name: "{repo.name}", owner: "{repo.owner.login}") '
             f'{{ nameWithOwner databaseId }} rateLimit {{ cost }} }}')
    body = httpx.post(f"{server.url}/graphql?per_page=100", json={"query": query}).json()
    assert body == {"data": {"repo0": {"nameWithOwner": repo.full_name, "databaseId": repo.id},
                             "rateLimit": {"cost": 1}}}

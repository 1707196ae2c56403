"""The simulator as a GitHub App's world: several owners, each with an installation, its tokens and its own
budget; a token of one installation is refused (404, as GitHub hides it) on another owner's repository."""

from __future__ import annotations

import time

import httpx
import jwt
import pytest

from contribsync_sim.dataset import generate
from contribsync_sim.installations import Installation, Installations, spread_owners
from contribsync_sim.simulator import Simulator

pytestmark = pytest.mark.integration

REPOSITORY = "query($owner: String!, $name: String!) { repository(owner: $owner, name: $name) { name } " \
             "rateLimit { limit remaining cost } }"


@pytest.fixture(scope="module")
def sim():
    app = Installations.with_new_key("4242", [Installation(11, "alpha"), Installation(12, "beta"),
                                              Installation(13, "gamma", limit=12_500)])
    ds = spread_owners(generate(5, repos=6, prs_per_repo=5), ["alpha", "beta", "gamma"])
    with Simulator(dataset=ds, installations=app) as simulator:
        yield simulator


def app_jwt(sim, *, iat_offset: int = -60, lifetime: int = 540, key: str | None = None) -> str:
    now = int(time.time())
    return jwt.encode({"iat": now + iat_offset, "exp": now + iat_offset + lifetime, "iss": "4242"},
                      key or sim.installations.private_key, algorithm="RS256")


def token_for(sim, installation: int) -> dict:
    r = httpx.post(f"{sim.url}/app/installations/{installation}/access_tokens",
                   headers={"Authorization": f"Bearer {app_jwt(sim)}"})
    assert r.status_code == 201
    return r.json()


def test_the_apps_endpoints_list_installations_and_mint_a_token_per_installation(sim):
    bearer = {"Authorization": f"Bearer {app_jwt(sim)}"}
    listed = httpx.get(f"{sim.url}/app/installations", headers=bearer).json()
    assert [(i["id"], i["account"]["login"]) for i in listed] == [(11, "alpha"), (12, "beta"), (13, "gamma")]
    assert httpx.get(f"{sim.url}/repos/beta/repo-2/installation", headers=bearer).json()["id"] == 12
    assert httpx.get(f"{sim.url}/orgs/gamma/installation", headers=bearer).json()["id"] == 13
    assert httpx.get(f"{sim.url}/users/nobody/installation", headers=bearer).status_code == 404
    minted = token_for(sim, 11)
    assert minted["token"].startswith("ghs_") and minted["expires_at"].endswith("Z")
    assert token_for(sim, 11)["token"] != minted["token"]


def test_a_jwt_is_checked_against_the_apps_public_key_issuer_and_lifetime(sim):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    for bad in (app_jwt(sim, key=other), app_jwt(sim, lifetime=3600), app_jwt(sim, iat_offset=-1200),
                "not-a-jwt"):
        r = httpx.get(f"{sim.url}/app/installations", headers={"Authorization": f"Bearer {bad}"})
        assert r.status_code == 401, bad
    # an installation token is not the App's JWT either
    r = httpx.get(f"{sim.url}/app/installations", headers={"Authorization": f"Bearer {token_for(sim, 11)['token']}"})
    assert r.status_code == 401


def test_a_token_serves_its_owners_repositories_only(sim):
    alpha = {"Authorization": f"Bearer {token_for(sim, 11)['token']}"}
    assert httpx.get(f"{sim.url}/repos/alpha/repo-0", headers=alpha).status_code == 200
    assert httpx.get(f"{sim.url}/repos/beta/repo-2", headers=alpha).status_code == 404
    assert httpx.get(f"{sim.url}/repos/beta/repo-2/pulls", headers=alpha).status_code == 404
    answer = httpx.post(f"{sim.url}/graphql", headers=alpha, json={
        "query": REPOSITORY, "variables": {"owner": "beta", "name": "repo-2"}}).json()
    assert answer["data"]["repository"] is None and answer["errors"][0]["type"] == "NOT_FOUND"
    assert httpx.get(f"{sim.url}/repos/alpha/repo-0", headers={"Authorization": "Bearer sim-token"}).status_code == 401
    used = [u for u in sim.installations.used if u.installation == 11 and u.owner is not None]
    assert [(u.owner, u.refused) for u in used][-4:] == [("alpha", False), ("beta", True), ("beta", True),
                                                         ("beta", True)]


def test_each_installation_has_its_own_budget_window(sim):
    alpha = {"Authorization": f"Bearer {token_for(sim, 11)['token']}"}
    alpha_again = {"Authorization": f"Bearer {token_for(sim, 11)['token']}"}  # a new token, the same budget
    gamma = {"Authorization": f"Bearer {token_for(sim, 13)['token']}"}
    first = httpx.get(f"{sim.url}/repos/alpha/repo-1", headers=alpha).headers
    second = httpx.get(f"{sim.url}/repos/alpha/repo-1", headers=alpha_again).headers
    assert int(second["x-ratelimit-used"]) == int(first["x-ratelimit-used"]) + 1
    assert first["x-ratelimit-limit"] == "5000"
    big = httpx.get(f"{sim.url}/repos/gamma/repo-4", headers=gamma).headers
    assert big["x-ratelimit-limit"] == "12500" and big["x-ratelimit-used"] == "1"
    rate = httpx.post(f"{sim.url}/graphql", headers=gamma, json={
        "query": REPOSITORY, "variables": {"owner": "gamma", "name": "repo-5"}}).json()["data"]["rateLimit"]
    assert rate["limit"] == 12_500


def test_without_installations_any_token_is_accepted_as_before():
    with Simulator(repos=1, prs_per_repo=2) as plain:
        r = httpx.get(f"{plain.url}/repos/simorg/repo-0", headers={"Authorization": "Bearer anything"})
        assert r.status_code == 200 and r.headers["x-ratelimit-limit"] == "5000"
        assert plain.installations is None


def test_a_change_delivery_names_the_installation_on_the_repositorys_owner(sim):
    feed = sim.feed("hook-secret", seed=3)
    named = {}
    for repo in sim.ds.repos.values():
        for delivery in feed.step("open_pr", repo):
            named[repo.owner.login] = delivery.payload["installation"]["id"]
    assert named == {"alpha": 11, "beta": 12, "gamma": 13}

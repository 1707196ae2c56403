"""GitHub App auth: a signed JWT becomes a cached installation token, refreshed before it expires."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from contribsync.errors import Unauthorized
from contribsync.github.auth import GitHubApp
from contribsync.github.client import FirstToken, GitHubClient


@pytest.fixture(scope="module")
def keypair():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    return pem, key.public_key()


class FakeAppApi:
    """GitHub's App endpoints: verifies the JWT like GitHub does and mints hour-long tokens."""

    def __init__(self, public_key, clock) -> None:
        self.public_key = public_key
        self.clock = clock
        self.minted = 0
        self.hook_bearers: list[str] = []  # what the App's webhook endpoints were called with

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/app/"):
            bearer = request.headers["authorization"].removeprefix("Bearer ")
            try:
                claims = jwt.decode(bearer, self.public_key, algorithms=["RS256"],
                                    options={"verify_exp": False, "verify_iat": False})
            except jwt.InvalidTokenError:
                return httpx.Response(401, json={"message": "A JSON web token could not be decoded"})
            assert claims["iss"] == "12345"
            assert claims["exp"] - claims["iat"] <= 600  # GitHub's 10-minute maximum
            assert claims["iat"] <= self.clock() <= claims["exp"]
        if request.url.path.startswith("/app/hook/"):
            self.hook_bearers.append(request.headers["authorization"])
            return httpx.Response(202, json={}) if request.method == "POST" else httpx.Response(200, json=[{"id": 1}])
        if request.url.path == "/app/installations":
            return httpx.Response(200, json=[{"id": 7}, {"id": 8}])
        if request.url.path.endswith("/access_tokens"):
            self.minted += 1
            expires = datetime.fromtimestamp(self.clock() + 3600, tz=UTC).isoformat().replace("+00:00", "Z")
            return httpx.Response(201, json={"token": f"ghs_{self.minted}", "expires_at": expires})
        assert request.headers["authorization"].startswith("Bearer ghs_")
        return httpx.Response(200, json={"token_used": request.headers["authorization"]})


def test_installation_tokens_are_cached_and_refreshed_before_expiry(keypair):
    pem, public = keypair
    now = [1_800_000_000.0]
    api = FakeAppApi(public, lambda: now[0])
    app = GitHubApp("12345", pem, installation_ids=[7], transport=httpx.MockTransport(api), clock=lambda: now[0])
    first = app.tokens()
    now[0] += 1000
    assert app.tokens() == first  # cached
    now[0] += 2400  # 3,400 s in: under five minutes left
    refreshed = app.tokens()
    assert refreshed != first
    assert api.minted == 2 and app.exchanges == 2


def test_installations_are_discovered_and_each_gets_a_token(keypair):
    pem, public = keypair
    api = FakeAppApi(public, lambda: 1_800_000_000.0)
    app = GitHubApp("12345", pem, transport=httpx.MockTransport(api), clock=lambda: 1_800_000_000.0)
    assert app.tokens() == ["ghs_1", "ghs_2"]


def test_the_client_sends_installation_tokens(keypair):
    pem, public = keypair
    api = FakeAppApi(public, lambda: 1_800_000_000.0)
    transport = httpx.MockTransport(api)
    app = GitHubApp("12345", pem, installation_ids=[7], transport=transport, clock=lambda: 1_800_000_000.0)
    body = GitHubClient(credentials=app, transport=transport).get("/repos/o/r").json
    assert body == {"token_used": "Bearer ghs_1"}


def test_a_wrong_key_is_refused(keypair):
    _, public = keypair
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    api = FakeAppApi(public, lambda: 1_800_000_000.0)
    app = GitHubApp("12345", other, installation_ids=[7], transport=httpx.MockTransport(api),
                    clock=lambda: 1_800_000_000.0)
    with pytest.raises(Unauthorized, match="JSON web token"):
        app.tokens()


def test_settings_choose_the_app_when_configured_and_tokens_otherwise(keypair):
    from contribsync.github import credentials_from
    from contribsync.settings import Settings

    pem, _ = keypair
    tokens = credentials_from(Settings.from_env({"DATABASE_URL": "x", "GITHUB_TOKEN": "a, b"}))
    assert tokens.tokens() == ["a", "b"]
    app = credentials_from(Settings.from_env({"DATABASE_URL": "x", "GITHUB_APP_ID": "12345",
                                              "GITHUB_APP_PRIVATE_KEY": pem, "GITHUB_APP_INSTALLATION_ID": "7"}))
    assert isinstance(app, GitHubApp) and app.installations() == [7]


class RecordingBudget(FirstToken):
    def __init__(self) -> None:
        self.picked: list[str] = []

    def pick(self, tokens, resource, cost=1):
        self.picked.append(tokens[0])
        return tokens[0]


def test_the_apps_own_endpoints_get_its_jwt_outside_the_budget_and_the_rest_an_installation_token(keypair):
    # GIVEN a client authenticating as a GitHub App
    pem, public = keypair
    now = [1_800_000_000.0]
    api = FakeAppApi(public, lambda: now[0])
    transport = httpx.MockTransport(api)
    app = GitHubApp("12345", pem, installation_ids=[7], transport=transport, clock=lambda: now[0])
    budget = RecordingBudget()
    gh = GitHubClient(credentials=app, transport=transport, budget=budget)
    # WHEN it reads and redelivers the App's webhook deliveries, and reads a repository
    assert list(gh.paginate("/app/hook/deliveries", conditional=False)) == [{"id": 1}]
    assert gh.post("/app/hook/deliveries/1/attempts").json == {}
    assert gh.get("/repos/o/r").json == {"token_used": "Bearer ghs_1"}
    # THEN the /app calls carried one JWT (FakeAppApi verified it), and only the installation token
    # went through the budget
    assert len(api.hook_bearers) == 2 and len(set(api.hook_bearers)) == 1
    assert budget.picked == ["ghs_1"]
    # AND the JWT is replaced once less than a minute of it is left
    now[0] += 500
    gh.get("/app/hook/deliveries", conditional=False)
    assert api.hook_bearers[-1] != api.hook_bearers[0]

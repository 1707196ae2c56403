"""GitHub App auth: a signed JWT becomes a cached installation token, refreshed before it expires; each
repository's requests carry the token of its owner's installation only."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from contribsync.errors import NoInstallation, NonRetriable, Unauthorized
from contribsync.github.auth import GitHubApp, Grant
from contribsync.github.client import FirstToken, GitHubClient


@pytest.fixture(scope="module")
def keypair():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    return pem, key.public_key()


class FakeAppApi:
    """GitHub's App endpoints: verifies the JWT like GitHub does and mints hour-long tokens."""

    OWNERS: ClassVar[dict[str, int]] = {"o": 7, "acme": 8}  # the account each installation is on

    def __init__(self, public_key, clock) -> None:
        self.public_key = public_key
        self.clock = clock
        self.minted = 0
        self.hook_bearers: list[str] = []  # what the App's webhook endpoints were called with
        self.installation_of: dict[str, int] = {}  # minted token -> its installation
        self.lookups: list[str] = []  # installation lookups, by path
        self.sent: list[tuple[str, int]] = []  # (path, installation of the token it carried)

    def __call__(self, request: httpx.Request) -> httpx.Response:  # noqa: PLR0911 - one answer per endpoint
        path = request.url.path
        if path.startswith("/app/") or path.endswith("/installation"):
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
        if path == "/app/installations":
            return httpx.Response(200, json=[{"id": i, "account": {"login": o}} for o, i in self.OWNERS.items()])
        if path.endswith("/installation"):  # /repos/{o}/{r}/installation, /users/{o}/installation
            self.lookups.append(path)
            owner = path.split("/")[2]
            if owner not in self.OWNERS:
                return httpx.Response(404, json={"message": "Not Found"})
            return httpx.Response(200, json={"id": self.OWNERS[owner], "account": {"login": owner}})
        if path.endswith("/access_tokens"):
            if int(path.split("/")[3]) not in self.OWNERS.values():  # uninstalled
                return httpx.Response(404, json={"message": "Not Found"})
            self.minted += 1
            expires = datetime.fromtimestamp(self.clock() + 3600, tz=UTC).isoformat().replace("+00:00", "Z")
            self.installation_of[f"ghs_{self.minted}"] = int(path.split("/")[3])
            return httpx.Response(201, json={"token": f"ghs_{self.minted}", "expires_at": expires})
        assert request.headers["authorization"].startswith("Bearer ghs_")
        token = request.headers["authorization"].removeprefix("Bearer ")
        self.sent.append((path, self.installation_of[token]))
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
        self.offered: list[list[str]] = []  # the budget keys each request could use

    def pick(self, grants, resource, cost=1):
        self.picked.append(grants[0].token)
        self.offered.append([g.budget_key for g in grants])
        return grants[0]


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


def test_each_owners_repository_gets_its_own_installations_token_and_budget(keypair):
    # GIVEN an App installed on two owners (7 on "o", 8 on "acme"), no installation list configured
    pem, public = keypair
    api = FakeAppApi(public, lambda: 1_800_000_000.0)
    transport = httpx.MockTransport(api)
    app = GitHubApp("12345", pem, transport=transport, clock=lambda: 1_800_000_000.0)
    budget = RecordingBudget()
    gh = GitHubClient(credentials=app, transport=transport, budget=budget)
    # WHEN it reads repositories of both owners, by REST and by GraphQL (variables owner/name)
    gh.get("/repos/o/r")
    gh.get("/repos/acme/widgets/pulls/1")
    gh.get("/repos/ACME/other")  # logins are case-insensitive: the same installation, no new lookup
    gh.graphql("repository", {"owner": "acme", "name": "widgets"}, query="query { viewer { login } }")
    gh.get("/repos/o/r/issues")
    # THEN every request carried its owner's installation token, and only that one was offered to the budget
    assert api.sent == [("/repos/o/r", 7), ("/repos/acme/widgets/pulls/1", 8), ("/repos/ACME/other", 8),
                        ("/graphql", 8), ("/repos/o/r/issues", 7)]
    assert budget.offered == [["installation:7"], ["installation:8"], ["installation:8"], ["installation:8"],
                              ["installation:7"]]
    # AND each owner's installation was looked up once, by GitHub's documented endpoint
    assert api.lookups == ["/repos/o/r/installation", "/repos/acme/widgets/installation"]


def test_a_repository_whose_owner_has_no_installation_fails_clearly_and_nothing_is_sent(keypair):
    pem, public = keypair
    api = FakeAppApi(public, lambda: 1_800_000_000.0)
    transport = httpx.MockTransport(api)
    gh = GitHubClient(credentials=GitHubApp("12345", pem, transport=transport, clock=lambda: 1_800_000_000.0),
                      transport=transport)
    gh.get("/repos/o/r")  # an installation's token is at hand
    with pytest.raises(NoInstallation, match="not installed on 'stranger'") as caught:
        gh.get("/repos/stranger/thing")
    assert isinstance(caught.value, NonRetriable)
    with pytest.raises(NoInstallation):
        gh.graphql("repository", {"owner": "stranger", "name": "thing"}, query="query { viewer { login } }")
    assert [p for p, _ in api.sent] == ["/repos/o/r"]  # no other installation's token was tried


def test_an_installation_outside_the_configured_list_is_refused(keypair):
    pem, public = keypair
    api = FakeAppApi(public, lambda: 1_800_000_000.0)
    transport = httpx.MockTransport(api)
    app = GitHubApp("12345", pem, installation_ids=[7], transport=transport, clock=lambda: 1_800_000_000.0)
    with pytest.raises(NoInstallation, match=r"installation 8 .* not among GITHUB_APP_INSTALLATION_ID"):
        GitHubClient(credentials=app, transport=transport).get("/repos/acme/widgets")
    assert api.sent == []


def test_a_request_about_no_repository_uses_the_owner_it_is_made_for(keypair):
    # GIVEN an App on two owners
    pem, public = keypair
    api = FakeAppApi(public, lambda: 1_800_000_000.0)
    transport = httpx.MockTransport(api)
    gh = GitHubClient(credentials=GitHubApp("12345", pem, transport=transport, clock=lambda: 1_800_000_000.0),
                      transport=transport, budget=RecordingBudget())
    # WHEN a nodes(ids:) lookup is made for acme's repository, and another for no owner
    gh.graphql("contributor_profiles", {"ids": ["U_1"]}, query="query { viewer { login } }", owner="acme")
    gh.graphql("contributor_profiles", {"ids": ["U_1"]}, query="query { viewer { login } }")
    # THEN the first used acme's installation; the second could use any installation (public data)
    assert api.sent[0] == ("/graphql", 8)
    assert gh.budget.offered[-1] == ["installation:7", "installation:8"]


def test_personal_tokens_keep_their_own_budget_keys():
    from contribsync.github.auth import StaticTokens, token_id

    assert StaticTokens(["a", "", "b"]).grants("anyone", "repo") == [Grant("a", token_id("a")),
                                                                      Grant("b", token_id("b"))]


def test_an_owner_who_reinstalled_the_app_is_looked_up_again(keypair):
    # GIVEN a client that has read acme's repository with installation 8
    pem, public = keypair
    now = [1_800_000_000.0]
    api = FakeAppApi(public, lambda: now[0])
    transport = httpx.MockTransport(api)
    gh = GitHubClient(credentials=GitHubApp("12345", pem, transport=transport, clock=lambda: now[0]),
                      transport=transport)
    gh.get("/repos/acme/widgets")
    # WHEN acme uninstalls the App and installs it again (installation 9), and the cached token expires
    api.OWNERS = {"o": 7, "acme": 9}
    now[0] += 3500
    gh.get("/repos/acme/widgets")
    # THEN the owner was looked up again and the new installation's token used
    assert api.sent[-1] == ("/repos/acme/widgets", 9)
    assert api.lookups == ["/repos/acme/widgets/installation"] * 2

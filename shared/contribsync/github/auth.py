"""GitHub credentials: personal access tokens, or a GitHub App's installation tokens.

A request asks for the ``Grant``s that may serve it: a token and the budget it draws on. Personal access
tokens serve every repository, each on its own budget (keyed by the token's fingerprint). A GitHub App
serves a repository only with the token of the installation on its owner, and that installation's
budget (``installation:<id>``: GitHub counts an App's budget per installation, and its token changes
every hour). The owner's installation is found as GitHub documents it,
``GET /repos/{owner}/{repo}/installation`` (``/users/{owner}/installation`` when no repository is named)
with the App's JWT, and cached for the container's life (``GET /app/installations`` fills the cache
too: it names every installation's account); an installation that is gone when its token is minted is
forgotten and the owner asked again. An owner with no installation raises ``NoInstallation``:
another installation's token is never tried. A request about no repository and no owner (a ``nodes(ids:)``
lookup whose caller names no owner, ``/users/{login}``) may use any installation: it reads public data.

An App signs a short JWT (RS256, PyJWT) with its private key, exchanges it for an installation
token per installation (``POST /app/installations/{id}/access_tokens``), caches each token and
refreshes it five minutes before its hour runs out, so no request ever carries an expired token.
The ``/app`` endpoints (the App's own webhook and its deliveries) take the JWT itself: ``app_token``
hands one out, reused until a minute before it expires.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

import httpx

from contribsync.errors import NoInstallation, NotFound
from contribsync.github.errors import error_for

if TYPE_CHECKING:
    from collections.abc import Callable

JWT_LIFETIME_S = 540  # GitHub accepts at most 10 minutes; stay under it
CLOCK_SKEW_S = 60  # issue the JWT a minute in the past, as GitHub recommends
REFRESH_MARGIN_S = 300
JWT_REFRESH_MARGIN_S = 60  # a reused JWT is replaced when it has less than this left


def token_id(token: str) -> str:
    """A fingerprint safe to store and log."""
    return hashlib.sha256(token.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Grant:
    """A token and the budget it draws on (``installation:<id>``, or a personal token's fingerprint)."""

    token: str
    budget_key: str


class Credentials(Protocol):
    def grants(self, owner: str | None, repo: str | None = None) -> list[Grant]:
        """The tokens that may serve a request about ``owner`` (``repo`` named when known); ``owner`` None:
        a request about no repository. The budget picks among them; may raise ``NoInstallation``."""
        ...


class StaticTokens:
    """Personal access tokens (or any tokens that do not expire on their own): each serves every owner."""

    def __init__(self, tokens: list[str]) -> None:
        self._tokens = [t for t in tokens if t]

    def tokens(self) -> list[str]:
        return list(self._tokens)

    def grants(self, owner: str | None, repo: str | None = None) -> list[Grant]:
        return [Grant(t, token_id(t)) for t in self._tokens]


@dataclass
class _Token:
    token: str
    expires_at: float


class GitHubApp:
    """Installation tokens of a GitHub App, fetched lazily, cached, refreshed before expiry."""

    def __init__(self, app_id: str, private_key: str, *, base_url: str = "https://api.github.com",
                 installation_ids: list[int] | None = None, transport: httpx.BaseTransport | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.app_id = app_id
        self._key = private_key
        self.base_url = base_url.rstrip("/")
        self._installation_ids = installation_ids
        self._clock = clock
        self._cache: dict[int, _Token] = {}
        self._owners: dict[str, int] = {}  # owner login (lower case) -> installation id
        self._lock = threading.Lock()
        self._jwt: _Token | None = None
        self._jwt_lock = threading.Lock()
        self.exchanges = 0
        self._http = httpx.Client(transport=transport, timeout=15, headers={
            "Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": "contribsync"})

    def jwt(self) -> str:
        import jwt  # PyJWT, with cryptography for RS256

        now = int(self._clock())
        payload = {"iat": now - CLOCK_SKEW_S, "exp": now + JWT_LIFETIME_S, "iss": self.app_id}
        return str(jwt.encode(payload, self._key, algorithm="RS256"))

    def app_token(self) -> str:
        """A JWT to call the ``/app`` endpoints as the App; the same one until a minute before expiry."""
        with self._jwt_lock:
            if self._jwt is None or self._jwt.expires_at - self._clock() <= JWT_REFRESH_MARGIN_S:
                self._jwt = _Token(self.jwt(), self._clock() + JWT_LIFETIME_S)
            return self._jwt.token

    def _app_request(self, method: str, path: str, params: dict[str, int] | None = None) -> httpx.Response:
        response = self._http.request(method, f"{self.base_url}{path}", params=params,
                                      headers={"Authorization": f"Bearer {self.jwt()}"})
        if response.status_code >= httpx.codes.BAD_REQUEST:
            raise error_for(response, f"{method} {path}")
        return response

    def installations(self) -> list[int]:
        """The installations this deployment uses: ``installation_ids`` when configured, else every one."""
        if self._installation_ids is None:
            self._installation_ids = list(self.accounts())
        return list(self._installation_ids)

    def accounts(self) -> dict[int, str]:
        """Every installation of the App and the login of the account it is on (``GET /app/installations``,
        every page), which also fills the owner cache."""
        found: dict[int, str] = {}
        page = 1
        while True:
            items = self._app_request("GET", "/app/installations", {"per_page": 100, "page": page}).json()
            for item in items:
                found[int(item["id"])] = str((item.get("account") or {}).get("login", ""))
            if len(items) < 100:  # noqa: PLR2004 - a short page is the last
                break
            page += 1
        with self._lock:
            self._owners.update({login.lower(): i for i, login in found.items() if login})
        return found

    def installation_for(self, owner: str, repo: str | None = None) -> int:
        """The installation on ``owner``: cached, else asked of GitHub with the JWT
        (``/repos/{owner}/{repo}/installation``, or ``/users/{owner}/installation`` with no repository).
        ``NoInstallation`` when the App is not installed there, or the installation is not one of
        ``installation_ids``."""
        key = owner.lower()
        with self._lock:
            found = self._owners.get(key)
        if found is None:
            path = f"/repos/{owner}/{repo}/installation" if repo else f"/users/{owner}/installation"
            try:
                body = self._app_request("GET", path).json()
            except NotFound as exc:
                raise NoInstallation(f"GitHub App {self.app_id} is not installed on {owner!r} (GET {path}: 404); "
                                     f"install it there, or stop tracking {owner}'s repositories",
                                     status=404, request=f"GET {path}") from exc
            found = int(body["id"])
            with self._lock:
                self._owners[key] = found
        if self._installation_ids is not None and found not in self._installation_ids:
            raise NoInstallation(f"{owner!r} is served by installation {found} of GitHub App {self.app_id}, which is "
                                 f"not among GITHUB_APP_INSTALLATION_ID ({self._installation_ids})")
        return found

    def installation_token(self, installation_id: int) -> str:
        with self._lock:
            cached = self._cache.get(installation_id)
            if cached is not None and cached.expires_at - self._clock() > REFRESH_MARGIN_S:
                return cached.token
            body = self._app_request("POST", f"/app/installations/{installation_id}/access_tokens").json()
            self.exchanges += 1
            expires = datetime.fromisoformat(str(body["expires_at"]).replace("Z", "+00:00")).timestamp()
            self._cache[installation_id] = _Token(str(body["token"]), expires)
            return str(body["token"])

    def tokens(self) -> list[str]:
        """Every installation's token."""
        return [self.installation_token(i) for i in self.installations()]

    def grants(self, owner: str | None, repo: str | None = None) -> list[Grant]:
        """The token of ``owner``'s installation only; with no owner, every installation's (public reads)."""
        if not owner:
            return [Grant(self.installation_token(i), installation_key(i)) for i in self.installations()]
        installation = self.installation_for(owner, repo)
        try:
            token = self.installation_token(installation)
        except NotFound:  # uninstalled since it was cached (perhaps installed again, under a new id): ask again
            with self._lock:
                self._owners = {o: i for o, i in self._owners.items() if i != installation}
            installation = self.installation_for(owner, repo)
            token = self.installation_token(installation)
        return [Grant(token, installation_key(installation))]


def installation_key(installation_id: int) -> str:
    """The budget key of an installation: GitHub's budget belongs to it, not to its hourly token."""
    return f"installation:{installation_id}"


__all__ = ["Credentials", "GitHubApp", "Grant", "StaticTokens", "installation_key", "token_id"]

"""GitHub credentials: personal access tokens, or a GitHub App's installation tokens.

An App signs a short JWT (RS256, PyJWT) with its private key, exchanges it for an installation
token per installation (``POST /app/installations/{id}/access_tokens``), caches each token and
refreshes it five minutes before its hour runs out, so no request ever carries an expired token.
The ``/app`` endpoints (the App's own webhook and its deliveries) take the JWT itself: ``app_token``
hands one out, reused until a minute before it expires.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

import httpx

from contribsync.github.errors import error_for

if TYPE_CHECKING:
    from collections.abc import Callable

JWT_LIFETIME_S = 540  # GitHub accepts at most 10 minutes; stay under it
CLOCK_SKEW_S = 60  # issue the JWT a minute in the past, as GitHub recommends
REFRESH_MARGIN_S = 300
JWT_REFRESH_MARGIN_S = 60  # a reused JWT is replaced when it has less than this left


class Credentials(Protocol):
    def tokens(self) -> list[str]:
        """Tokens usable now (the budget picks among them)."""
        ...


class StaticTokens:
    """Personal access tokens (or any tokens that do not expire on their own)."""

    def __init__(self, tokens: list[str]) -> None:
        self._tokens = [t for t in tokens if t]

    def tokens(self) -> list[str]:
        return list(self._tokens)


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

    def _app_request(self, method: str, path: str) -> httpx.Response:
        response = self._http.request(method, f"{self.base_url}{path}",
                                      headers={"Authorization": f"Bearer {self.jwt()}"})
        if response.status_code >= httpx.codes.BAD_REQUEST:
            raise error_for(response, f"{method} {path}")
        return response

    def installations(self) -> list[int]:
        if self._installation_ids is None:
            self._installation_ids = [int(i["id"]) for i in self._app_request("GET", "/app/installations").json()]
        return list(self._installation_ids)

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
        return [self.installation_token(i) for i in self.installations()]


__all__ = ["Credentials", "GitHubApp", "StaticTokens"]

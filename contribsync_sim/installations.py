"""GitHub App installations in the simulator: several owners, each with an installation of its own.

Off by default (``SimulatorApp(installations=None)``): every token is accepted and gets its own budget, as
before. With ``Installations``:
- the App's endpoints answer as GitHub documents them: ``GET /app/installations`` (each installation with
  its ``account``), ``POST /app/installations/{id}/access_tokens`` (a token for that installation only,
  ``expires_at`` an hour on), ``GET /repos/{owner}/{repo}/installation``, ``/orgs/{org}/installation`` and
  ``/users/{user}/installation`` (404 when the App is not installed there). These and every other
  ``/app/...`` call need the App's JWT, checked as GitHub checks it: an RS256 signature by the App's key
  (verified with its public key), ``iss`` the App's id, ``iat`` not in the future (a minute's skew
  allowed), ``exp`` after now and at most ten minutes after ``iat``. A bad JWT gets 401.
- Every other request needs an installation token (unknown or expired: 401 "Bad credentials"). A request
  naming an owner (REST ``/repos/{owner}/...`` or ``/orgs/{org}/...``, GraphQL variable ``owner``) whose
  installation is not the token's gets 404 (GraphQL: ``repository: null`` and NOT_FOUND), as GitHub hides
  what a token cannot read. A request naming no owner (``nodes(ids:)``, ``/users/{login}``) is served.
- Each installation has its own rate-limit window, keyed ``installation:<id>``, of ``limit`` points an hour
  for core and GraphQL (by default ``Knobs.budget``'s, 5,000; GitHub gives large installations up to 12,500).
- ``used`` records every request (the last ``log_limit``): the installation whose token it carried (None
  for the JWT), the owner it named, its route and whether it was refused, so a test can assert which token
  served which repository; ``tally`` counts them all by (installation, owner, refused), for long runs.

``clock`` times tokens and JWTs; it is the wall clock by default, as a client's ``GitHubApp`` signs its JWT
and caches a token by the wall clock (a scaled clock here must be the client's too). The rate-limit windows
are ``server.SimulatorApp``'s, keyed by installation, on the simulator's one clock. Written by hand, as the
rest of the simulator.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import jwt

from contribsync_sim.dataset import User, node_id

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from werkzeug.wrappers import Request

    from contribsync_sim.dataset import Dataset

Answer = tuple[int, Any, dict[str, str], int, int]
TOKEN_LIFETIME_S = 3600
JWT_MAX_LIFETIME_S = 600
JWT_SKEW_S = 60
DOCS = "https://docs.github.com/rest/apps/apps"
_REPO_OR_ORG = re.compile(r"^/(?:repos/(?P<owner>[^/]+)/[^/]+|orgs/(?P<org>[^/]+))")
_LOOKUP = re.compile(r"^/(?:repos/(?P<owner>[^/]+)/[^/]+|orgs/(?P<org>[^/]+)|users/(?P<user>[^/]+))/installation$")
_ACCESS_TOKENS = re.compile(r"^/app/installations/(?P<id>\d+)/access_tokens$")
_NOT_FOUND = {"message": "Not Found", "documentation_url": DOCS, "status": "404"}


@dataclass(frozen=True)
class Installation:
    id: int
    account: str  # the owner's login
    limit: int | None = None  # points an hour, core and GraphQL each; None: the simulator's Knobs.budget


@dataclass(frozen=True)
class Use:
    installation: int | None  # whose token the request carried; None: the App's JWT (or no valid token)
    owner: str | None  # the owner the request named (or whose installation it looked up)
    route: str
    refused: bool


@dataclass(frozen=True)
class Admission:
    """What ``Installations.admit`` decided: the budget window to charge, or an answer given here."""

    window: str
    limits: dict[str, int] | None = None  # the installation's, over ``Knobs.budget``
    answer: Answer | None = None


@dataclass
class Installations:
    """The App's installations. ``public_key`` checks its JWTs; ``private_key`` (when the simulator made the
    key pair, ``with_new_key``) is what a client configures as ``GITHUB_APP_PRIVATE_KEY``."""

    app_id: str
    public_key: str  # PEM
    installations: Sequence[Installation]
    clock: Callable[[], float] = time.time
    private_key: str | None = None
    log_limit: int = 100_000
    used: deque[Use] = field(init=False)
    tally: Counter[tuple[int | None, str | None, bool]] = field(default_factory=Counter)
    _tokens: dict[str, tuple[int, float]] = field(default_factory=dict)  # token -> (installation, expires)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.used = deque(maxlen=self.log_limit)
        self._by_id = {i.id: i for i in self.installations}
        self._by_account = {i.account.lower(): i for i in self.installations}

    @classmethod
    def with_new_key(cls, app_id: str, installations: Sequence[Installation], *,
                     clock: Callable[[], float] = time.time) -> Installations:
        """An App with a fresh RSA key pair (cryptography), as GitHub makes one for an App."""
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()
        public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo).decode()
        return cls(app_id, public, installations, clock, private)

    def of_owner(self, owner: str) -> Installation | None:
        return self._by_account.get(owner.lower())

    def admit(self, request: Request, path: str, route: str) -> Admission:
        """Decide a request (``path`` without ``/api/v3``): answer the App's endpoints and refusals here, or
        name the budget window the request draws on."""
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ").removeprefix("token ").strip()
        lookup = _LOOKUP.match(path)
        if path.startswith("/app/") or path == "/app" or lookup:
            problem = self._jwt_problem(bearer)
            looked_up = (lookup["owner"] or lookup["org"] or lookup["user"]) if lookup else None
            self._record(None, looked_up, route, refused=problem is not None)
            if problem:
                return Admission("app", answer=(401, {"message": problem, "documentation_url": DOCS}, {}, 0, 0))
            answer = self._app_answer(request, path, lookup)
            return Admission(f"app:{self.app_id}", answer=answer)
        owner = self._owner(request, path)
        with self._lock:
            held = self._tokens.get(bearer)
        if held is None or held[1] <= self.clock():
            self._record(None, owner, route, refused=True)
            return Admission("unauthenticated", answer=(
                401, {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"}, {}, 0, 0))
        installation = self._by_id[held[0]]
        if owner is not None and self.of_owner(owner) is not installation:
            self._record(installation.id, owner, route, refused=True)
            return Admission(f"installation:{installation.id}", answer=self._hidden(request, path, owner))
        self._record(installation.id, owner, route, refused=False)
        limits = None if installation.limit is None else {"core": installation.limit, "graphql": installation.limit}
        return Admission(f"installation:{installation.id}", limits=limits)

    # -- the App's endpoints ---------------------------------------------------------------------

    def _jwt_problem(self, bearer: str) -> str | None:
        try:
            claims = jwt.decode(bearer, self.public_key, algorithms=["RS256"],
                                options={"verify_exp": False, "verify_iat": False, "verify_iss": False})
        except jwt.InvalidTokenError:
            return "A JSON web token could not be decoded"
        now = self.clock()
        try:
            iat, exp = float(claims["iat"]), float(claims["exp"])
        except (KeyError, TypeError, ValueError):
            return "'Issued at' claim ('iat') and 'Expiration time' claim ('exp') must be numbers"
        if str(claims.get("iss")) != self.app_id:
            return "'Issuer' claim ('iss') must be an Integer"
        if iat > now + JWT_SKEW_S or exp <= now or exp - iat > JWT_MAX_LIFETIME_S:
            return "'Expiration time' claim ('exp') is too far in the future, or the JWT has expired"
        return None

    def _app_answer(self, request: Request, path: str, lookup: re.Match[str] | None) -> Answer | None:
        if lookup is not None:
            owner = lookup["owner"] or lookup["org"] or lookup["user"]
            found = self.of_owner(owner)
            return (200, self._shape(found), {}, 1, 0) if found else (404, _NOT_FOUND, {}, 0, 0)
        if path == "/app/installations" and request.method == "GET":
            return 200, [self._shape(i) for i in self.installations], {}, len(self.installations), 0
        minted = _ACCESS_TOKENS.match(path)
        if minted and request.method == "POST":
            installation = self._by_id.get(int(minted["id"]))
            if installation is None:
                return 404, _NOT_FOUND, {}, 0, 0
            token = f"ghs_{secrets.token_hex(18)}"
            expires = self.clock() + TOKEN_LIFETIME_S
            with self._lock:
                self._tokens[token] = (installation.id, expires)
            at = datetime.fromtimestamp(expires, tz=UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
            return 201, {"token": token, "expires_at": at, "permissions": {"contents": "read",
                         "pull_requests": "read", "issues": "read", "metadata": "read"},
                         "repository_selection": "all"}, {}, 1, 0
        return None  # another /app/... endpoint (the App's webhook deliveries): the REST handler answers

    def _shape(self, installation: Installation) -> dict[str, Any]:
        return {"id": installation.id, "app_id": int(self.app_id) if self.app_id.isdigit() else self.app_id,
                "target_type": "Organization", "repository_selection": "all",
                "account": {"login": installation.account, "type": "Organization"}}

    # -- requests for an owner ---------------------------------------------------------------------

    @staticmethod
    def _owner(request: Request, path: str) -> str | None:
        if path in ("/graphql", "/api/graphql"):
            try:
                variables = json.loads(request.get_data() or b"{}").get("variables") or {}
            except (ValueError, AttributeError):
                return None
            owner = variables.get("owner") if isinstance(variables, dict) else None
            return owner if isinstance(owner, str) and owner else None
        match = _REPO_OR_ORG.match(path)
        return (match["owner"] or match["org"]) if match else None

    @staticmethod
    def _hidden(request: Request, path: str, owner: str) -> Answer:
        """GitHub's answer to a token that may not see the owner's repositories: they do not exist."""
        if path in ("/graphql", "/api/graphql"):
            name = (json.loads(request.get_data() or b"{}").get("variables") or {}).get("name", "")
            return 200, {"data": {"repository": None}, "errors": [{
                "type": "NOT_FOUND", "path": ["repository"], "locations": [{"line": 2, "column": 3}],
                "message": f"Could not resolve to a Repository with the name '{owner}/{name}'."}]}, {}, 0, 0
        return 404, _NOT_FOUND, {}, 0, 0

    def _record(self, installation: int | None, owner: str | None, route: str, *, refused: bool) -> None:
        with self._lock:
            self.used.append(Use(installation, owner, route, refused))
            self.tally[installation, owner, refused] += 1


def app_on_owners(ds: Dataset, owners: int, *, app_id: str = "1") -> Installations:
    """``owners`` organisations ``owner-0``… sharing the dataset's repositories, each with an installation
    (ids 1…), and a new key pair: what ``contribsync simulate-github --app-owners`` serves."""
    logins = [f"owner-{i}" for i in range(owners)]
    spread_owners(ds, logins)
    return Installations.with_new_key(app_id, [Installation(i + 1, login) for i, login in enumerate(logins)])


def spread_owners(ds: Dataset, owners: Sequence[str]) -> Dataset:
    """Give the dataset's repositories to ``owners`` (organisations made here), in equal consecutive blocks:
    with 6 repositories and 3 owners, ``repo-0`` and ``repo-1`` go to the first."""
    repos = sorted(ds.repos.values(), key=lambda r: r.id)
    if not owners or len(owners) > len(repos):
        raise ValueError("give between 1 and one owner per repository")
    base = max(ds.users) + 1000
    accounts = []
    for i, login in enumerate(owners):
        uid = base + i
        user = User(uid, login, node_id("O", uid), "Organization", login.capitalize(), None,
                    f"https://avatars.githubusercontent.com/u/{uid}?v=4", ds.now - timedelta(days=3650))
        ds.add_user(user)
        accounts.append(user)
    for index, repo in enumerate(repos):
        del ds.repo_by_name[repo.full_name]
        repo.owner = accounts[index * len(owners) // len(repos)]
        ds.repo_by_name[repo.full_name] = repo
    return ds


__all__ = ["Admission", "Installation", "Installations", "Use", "app_on_owners", "spread_owners"]

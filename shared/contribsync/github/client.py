"""The GitHub client: GraphQL and REST over one httpx client, with one place for HTTP policy.

- GraphQL at ``{base}/graphql``, or ``{base_without_v3}/graphql`` for GitHub Enterprise's
  ``https://host/api/v3`` base (GraphQL there lives at ``/api/graphql``).
- REST with ``per_page=100`` and ``Link: rel="next"`` pagination, followed verbatim.
- ETag / ``If-None-Match`` on GETs: a 304 returns the cached body, costs no rate limit, and is
  counted in ``stats.not_modified``.
- Transient failures (5xx, timeouts, connection errors) get bounded retries with jittered
  exponential backoff; a GraphQL 502/504 on a heavy page halves the page size (``first``) before
  retrying, since GitHub times out on large nested pages rather than on the request itself.
- Everything else is translated once into the error tree (``github.errors``).
- What each request costs (points, the budget left) is counted into the thread's meters
  (``contribsync.meters``), so a run knows what it spent.
- Requests go only to the origin (scheme, host and port) of ``base_url``: a ``Link`` or an absolute URL
  naming another host, or ``http://`` for an ``https://`` API, is refused with ``ForeignHost`` before
  anything is sent, so no token is ever sent elsewhere. (httpx already drops ``Authorization`` when a
  redirect leaves the origin.)
- Every request knows the repository it is about: a REST path ``/repos/{owner}/{repo}/...`` (or
  ``/orgs/{org}/...``), GraphQL variables ``owner`` and ``name``. The credentials hand out the tokens that
  may serve that owner (``Credentials.grants``): a GitHub App's token of the owner's installation only.
  A GraphQL query naming no repository (``nodes(ids:)``) is about the ``owner`` its caller passes (the
  repository the run is about), else about none: any installation may serve it (it reads public data),
  as may any REST path outside ``/repos`` and ``/orgs`` (``/users/{login}``).
- Rate-limit headers and GraphQL ``rateLimit`` go to a ``Budget`` (shared in Postgres on AWS), which
  also picks, among those tokens, the one whose budget has the most left (budgets are kept per
  installation, or per personal token) and may refuse with ``RateLimited``. A request reserves
  what it will cost first: 1 point for REST, the caller's ``points`` for a GraphQL query (GitHub charges
  a query by its page sizes, 13 points for a page of pull requests with their reviews and comments).
- With a GitHub App's credentials, ``/app/...`` endpoints are called with the App's JWT, as GitHub
  requires there; those calls bypass the budget (a JWT's calls are not an installation's budget) but get
  the same retries.
"""

from __future__ import annotations

import random
import time
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Protocol

import httpx

from contribsync.errors import ForeignHost, GitHubUnavailable
from contribsync.github.auth import GitHubApp, Grant, StaticTokens
from contribsync.github.documents import document
from contribsync.github.errors import error_for, graphql_error_for, request_id
from contribsync.github.etags import MemoryEtags
from contribsync.github.scope import request_scope
from contribsync.meters import Stats, count, saw_remaining

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

    from contribsync.github.auth import Credentials
    from contribsync.github.etags import EtagCache

DEFAULT_API_URL = "https://api.github.com"
PER_PAGE = 100
RETRYABLE_STATUS = frozenset({500, 502, 503, 504})
SHRINKABLE_STATUS = frozenset({502, 504})


class Budget(Protocol):
    """Where rate-limit observations go, and which grant (token and budget key) to use next."""

    def pick(self, grants: list[Grant], resource: str, cost: int = 1) -> Grant:
        """The grant to use for ``resource`` (core, graphql, search), ``cost`` points reserved on its budget;
        may raise ``RateLimited``."""
        ...

    def observe(self, key: str, headers: httpx.Headers) -> None: ...

    def observe_graphql(self, key: str, rate_limit: Mapping[str, Any]) -> None: ...

    def in_flight(self, key: str) -> AbstractContextManager[None]:
        """Hold one of the budget key's concurrent-request slots for the duration of a request."""
        ...


class FirstToken:
    """The trivial budget: always the first grant, nothing recorded."""

    def pick(self, grants: list[Grant], resource: str, cost: int = 1) -> Grant:
        return grants[0]

    def observe(self, key: str, headers: httpx.Headers) -> None:
        return None

    def observe_graphql(self, key: str, rate_limit: Mapping[str, Any]) -> None:
        return None

    def in_flight(self, key: str) -> AbstractContextManager[None]:
        return nullcontext()


@dataclass(frozen=True)
class GraphQLResponse:
    data: dict[str, Any]
    variables: dict[str, Any]  # as finally sent: ``first`` may have been shrunk
    cost: int | None
    request_id: str | None


@dataclass(frozen=True)
class RestResponse:
    json: Any
    headers: httpx.Headers
    not_modified: bool = False


def graphql_url(base_url: str) -> str:
    base = base_url.rstrip("/")
    if base.endswith("/api/v3"):
        return base.removesuffix("/v3") + "/graphql"
    return base + "/graphql"


def _resource(path: str) -> str:
    if path.endswith("/graphql"):
        return "graphql"
    return "search" if "/search/" in path else "core"


class GitHubClient:
    def __init__(self, *, base_url: str = DEFAULT_API_URL, tokens: list[str] | None = None,
                 credentials: Credentials | None = None, budget: Budget | None = None,
                 transport: httpx.BaseTransport | None = None, etags: EtagCache | None = None,
                 timeout_s: float = 30.0, max_retries: int = 3, backoff_base_s: float = 1.0,
                 sleep: Callable[[float], None] = time.sleep, rng: Callable[[], float] = random.random,
                 user_agent: str = "contribsync") -> None:
        self.base_url = base_url.rstrip("/")
        self.origin = _origin(self.base_url)
        self.graphql_url = graphql_url(self.base_url)
        self.credentials: Credentials = credentials or StaticTokens(list(tokens or []))
        self.budget = budget or FirstToken()
        self.max_retries = max_retries
        self.backoff_base_s = backoff_base_s
        self._sleep = sleep
        self._rng = rng
        self.etags: EtagCache = etags or MemoryEtags()
        self.stats = Stats()  # everything this client sent; a run's own share is in its meter (contribsync.meters)
        self._http = httpx.Client(transport=transport, timeout=timeout_s, follow_redirects=True, headers={
            "Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": user_agent,
        })

    def close(self) -> None:
        self._http.close()

    # -- accounting -----------------------------------------------------------------------------------

    def _count(self, name: str, n: int = 1) -> None:
        count(name, n, totals=self.stats)

    def _charge(self, url: str, response: httpx.Response) -> None:
        """Count what a budgeted answer cost (a REST one; GraphQL's cost is read from its body) and the
        budget GitHub says is left."""
        if _resource(url) != "graphql" and _charged(response):
            self._count("rest_points")
        if (remaining := _int(response.headers.get("x-ratelimit-remaining"))) is not None:
            saw_remaining(remaining, totals=self.stats)

    # -- transport with retries ------------------------------------------------------------------

    def _pause(self, attempt: int) -> None:
        self._count("retries")
        delay = self.backoff_base_s * 2 ** (attempt - 1)
        self._sleep(delay / 2 + self._rng() * delay / 2)

    def _path(self, url: str) -> str:
        return httpx.URL(url).path.removeprefix(httpx.URL(self.base_url).path.rstrip("/"))

    def _authorization(self, url: str, cost: int, variables: Mapping[str, Any] | None,
                       owner: str | None) -> tuple[Budget, Grant | None]:
        """The budget that governs a request to ``url`` and the grant it carries (``cost`` reserved)."""
        if isinstance(self.credentials, GitHubApp) and self._is_app_endpoint(url):
            return _UNMETERED, Grant(self.credentials.app_token(), "app-jwt")
        grants = self.credentials.grants(*request_scope(self._path(url), variables, owner))
        return self.budget, self.budget.pick(grants, _resource(url), cost) if grants else None

    def _is_app_endpoint(self, url: str) -> bool:
        path = self._path(url)
        return path == "/app" or path.startswith("/app/")

    def _send_once(self, method: str, url: str, what: str, *, json: object = None,
                   headers: Mapping[str, str] | None = None, cost: int = 1,
                   variables: Mapping[str, Any] | None = None,
                   owner: str | None = None) -> tuple[httpx.Response, str | None]:
        """One request; the answer and the budget key it was charged to (None: sent with no token)."""
        if _origin(url) != self.origin:  # before a token is picked: nothing is sent
            raise ForeignHost(f"{what}: {_shown_origin(url)} is not the GitHub API's origin "
                              f"({_shown_origin(self.base_url)}); refused, nothing sent", request=what)
        headers = dict(headers or {})
        budget, grant = self._authorization(url, cost, variables, owner)
        if grant:
            headers["Authorization"] = f"Bearer {grant.token}"
        self._count("requests")
        try:
            with budget.in_flight(grant.budget_key) if grant else nullcontext():
                response = self._http.request(method, url, headers=headers, json=json)
        except httpx.TimeoutException as exc:
            raise GitHubUnavailable(f"{what}: timed out ({type(exc).__name__})", request=what) from exc
        except httpx.TransportError as exc:
            raise GitHubUnavailable(f"{what}: {type(exc).__name__}: {exc}", request=what) from exc
        if grant:
            budget.observe(grant.budget_key, response.headers)
            if budget is not _UNMETERED:  # an App JWT's calls are not the installation's budget
                self._charge(url, response)
        if response.status_code >= HTTPStatus.BAD_REQUEST:
            raise error_for(response, what)
        return response, grant.budget_key if grant else None

    def _send(self, method: str, url: str, what: str, *, json: object = None,
              headers: Mapping[str, str] | None = None) -> httpx.Response:
        attempt = 0
        while True:
            try:
                return self._send_once(method, url, what, json=json, headers=headers)[0]
            except GitHubUnavailable as exc:
                attempt += 1
                if attempt > self.max_retries or (exc.status and exc.status not in RETRYABLE_STATUS):
                    raise
                self._pause(attempt)

    # -- GraphQL ---------------------------------------------------------------------------------

    def graphql(self, name: str, variables: Mapping[str, Any], *, shrink: str = "first",
                query: str | None = None, points: int = 1, missing_ok: bool = False,
                owner: str | None = None) -> GraphQLResponse:
        """Run the document ``name`` (or ``query``). On 502/504 the ``shrink`` variable is halved.
        ``points``: what GitHub will charge for it, reserved from the budget before it is sent (several
        workers each reserving 1 point for a 13-point page would spend the budget past its reserve).
        ``missing_ok``: an answer whose only errors are NOT_FOUND (``nodes(ids:)`` naming a deleted
        account) returns its data, with null where an object was not found.
        ``owner``: for a query whose variables name no repository (``nodes(ids:)``), the owner whose
        installation serves it (the repository the run is about); without it any installation may."""
        text = query or document(name)
        sent = dict(variables)
        what = f"GraphQL {name}"
        attempt = 0
        while True:
            try:
                response, key = self._send_once("POST", self.graphql_url, what, cost=points, variables=sent,
                                                owner=owner, json={"query": text, "variables": sent})
                break
            except GitHubUnavailable as exc:
                attempt += 1
                if attempt > self.max_retries or (exc.status and exc.status not in RETRYABLE_STATUS):
                    raise
                size = sent.get(shrink)
                if exc.status in SHRINKABLE_STATUS and isinstance(size, int) and size > 1:
                    sent[shrink] = max(1, size // 2)
                    self._count("shrunk_pages")
                self._pause(attempt)
        body = response.json()
        data: dict[str, Any] = body.get("data") or {}
        rate = data.get("rateLimit") or {}
        cost = rate.get("cost")
        if isinstance(cost, int):  # charged even when the answer also carries errors
            self._count("graphql_points", cost)
        if (remaining := _int(rate.get("remaining"))) is not None:
            saw_remaining(remaining, totals=self.stats)
        if rate and key:
            self.budget.observe_graphql(key, rate)
        errors = body.get("errors")
        if errors and not (missing_ok and body.get("data") and {e.get("type") for e in errors} == {"NOT_FOUND"}):
            raise graphql_error_for(errors, response, what)
        return GraphQLResponse(data, sent, cost, request_id(response))

    # -- REST ------------------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else f"{self.base_url}/{path.lstrip('/')}"

    def get(self, path: str, params: Mapping[str, Any] | None = None, *, conditional: bool = True) -> RestResponse:
        """GET one resource; with ``conditional``, revalidate a cached copy by ETag (304 = free)."""
        url = str(httpx.URL(self._url(path), params=params)) if params else self._url(path)
        cached = self.etags.get(url) if conditional else None
        headers = {"If-None-Match": cached[0]} if cached else {}
        response = self._send("GET", url, f"GET {path}", headers=headers)
        if response.status_code == HTTPStatus.NOT_MODIFIED and cached is not None:
            self._count("not_modified")
            return RestResponse(cached[1], response.headers, not_modified=True)
        body = response.json() if response.content else None
        if conditional and (etag := response.headers.get("etag")):
            self.etags.put(url, etag, body)
        return RestResponse(body, response.headers)

    def paginate(self, path: str, params: Mapping[str, Any] | None = None, *,
                 conditional: bool = True) -> Iterator[Any]:
        """Every item of a list endpoint, following ``Link: rel="next"`` to the last page (read lazily:
        stop iterating and no further page is fetched). ``conditional`` as in ``get``."""
        query = {"per_page": PER_PAGE, **dict(params or {})}
        page = self.get(path, query, conditional=conditional)
        while True:
            items = page.json
            if isinstance(items, dict) and "items" in items:  # search endpoints wrap their lists
                items = items["items"]
            yield from items or []
            next_url = page.headers.get("link") and _next_link(page.headers["link"])
            if not next_url:
                return
            page = self.get(next_url, conditional=conditional)

    def post(self, path: str, json: object = None) -> RestResponse:
        """POST to a REST endpoint (e.g. asking GitHub to redeliver a webhook delivery), with the same
        token choice, budget and retries as ``get``."""
        response = self._send("POST", self._url(path), f"POST {path}", json=json)
        return RestResponse(response.json() if response.content else None, response.headers)


_UNMETERED = FirstToken()


def _charged(response: httpx.Response) -> bool:
    """Whether GitHub charged a REST answer to the token's budget: every one but a 304 (a conditional
    request answered from the ETag), a server error, and a refusal because the budget is spent."""
    status = response.status_code
    if status == HTTPStatus.NOT_MODIFIED or status >= HTTPStatus.INTERNAL_SERVER_ERROR:
        return False
    refused = status in (HTTPStatus.FORBIDDEN, HTTPStatus.TOO_MANY_REQUESTS)
    return not (refused and response.headers.get("x-ratelimit-remaining") == "0")


def _int(value: object) -> int | None:
    try:
        return int(str(value)) if value is not None else None
    except ValueError:
        return None


def _origin(url: str) -> tuple[str, str, int | None] | None:
    """A URL's scheme, host and port (httpx normalises case and drops a scheme's default port); None for
    what is not a URL."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return None
    return parsed.scheme, parsed.host, parsed.port


def _shown_origin(url: str) -> str:
    """A URL's origin for an error message: never its path or query, which may carry anything."""
    origin = _origin(url)
    if origin is None:
        return "a malformed URL"
    scheme, host, port = origin
    return f"{scheme}://{host}" + (f":{port}" if port is not None else "")


def _next_link(header: str) -> str | None:
    """The ``rel="next"`` URL of a Link header, used verbatim (it carries the cursor and params)."""
    for part in header.split(","):
        url, _, rels = part.partition(";")
        if 'rel="next"' in rels:
            return url.strip().strip("<>")
    return None


__all__ = ["Budget", "FirstToken", "GitHubClient", "GraphQLResponse", "RestResponse", "Stats", "graphql_url"]

"""The simulator's HTTP front: GitHub-shaped budgets, latency and faults around the GraphQL and REST
handlers, served by werkzeug on 127.0.0.1.

Knobs (``Knobs``): latency per request and per returned node; a share of 502s, timeouts (the answer
is held back past the client's timeout, then a 504), secondary rate limits (403 + retry-after) and
abuse responses; the primary budget per token and resource (core / graphql), answered with GitHub's
``x-ratelimit-*`` headers and its 403 "API rate limit exceeded" (GraphQL: a RATE_LIMITED error) when
spent. With ``installations`` (``installations.Installations``, a GitHub App on several owners) the App's
endpoints are answered, tokens are checked against the owner a request names, and the budget is per
installation instead of per token. Faults are drawn from a seeded RNG so a run is repeatable.

Budget windows (``window_s``, an hour), ``x-ratelimit-reset`` and GraphQL ``rateLimit.resetAt`` are on
``clock`` (a callable giving the time; the system's by default), so on a scaled clock an hour's window
passes in a real minute at factor 60. Latency and timeout holds stay real sleeps.

Written by hand: no library simulates GitHub's API; werkzeug does the HTTP.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

if TYPE_CHECKING:
    from collections.abc import Iterable
    from wsgiref.types import StartResponse, WSGIEnvironment

    from contribsync_sim.installations import Installations

# A handler answers (status, JSON body, extra headers, nodes returned, points charged).
Answer = tuple[int, Any, dict[str, str], int, int]
Handler = Callable[[Request], Answer]


@dataclass
class Knobs:
    latency_s: float = 0.0            # per request
    graphql_latency_s: float = 0.0    # per GraphQL request, on top of latency_s (a page's round trip)
    rest_latency_s: float = 0.0       # per REST request, on top of latency_s
    latency_per_node_s: float = 0.0   # per node returned
    fault_502: float = 0.0            # shares of requests, 0..1
    fault_timeout: float = 0.0
    fault_secondary: float = 0.0
    fault_abuse: float = 0.0
    timeout_hold_s: float = 12.0      # how long a "timeout" holds the answer back
    secondary_retry_after_s: int = 60
    budget: dict[str, int] = field(default_factory=lambda: {"core": 5000, "graphql": 5000, "search": 30})
    window_s: int = 3600
    seed: int = 0


@dataclass
class _Window:
    limit: int
    used: int
    reset: int


@dataclass
class Counters:
    requests: int = 0
    faults: dict[str, int] = field(default_factory=dict)
    limited: int = 0
    not_modified: int = 0
    points: int = 0  # GraphQL points charged
    # Requests and points per budget (core / graphql / search). A REST answer costs its budget 1 point, a
    # GraphQL query its cost; a 304, /rate_limit, a fault and a refusal of a spent budget cost nothing.
    requests_by_resource: dict[str, int] = field(default_factory=dict)
    points_by_resource: dict[str, int] = field(default_factory=dict)
    # Requests per route, ids and names as placeholders: "GET /repos/{owner}/{repo}/pulls/{n}".
    endpoints: dict[str, int] = field(default_factory=dict)
    # The least any token had left of each budget after an answer, in any window (how close a client
    # came to running dry; a chaos test checks it never went under the client's reserve).
    lowest_remaining: dict[str, int] = field(default_factory=dict)
    # Points charged and the least left, per budget window's owner (a token, or ``installation:<id>``) and
    # resource: what each installation drew (the fleet scenario's lower bound and reserve check).
    points_by_budget: dict[tuple[str, str], int] = field(default_factory=dict)
    lowest_by_budget: dict[tuple[str, str], int] = field(default_factory=dict)


_NUMBER = re.compile(r"/\d+(?=/|$)")


def endpoint(method: str, path: str) -> str:
    """The route of a request, for ``Counters.endpoints`` (``/api/v3`` dropped: the same REST API)."""
    parts = path.removeprefix("/api/v3").split("/")
    if parts[1:2] == ["repos"] and len(parts) >= 4:  # noqa: PLR2004 - /repos/{owner}/{repo}
        parts[2:4] = ["{owner}", "{repo}"]
    elif parts[1:2] == ["users"] and len(parts) >= 3:  # noqa: PLR2004 - /users/{login}
        parts[2] = "{login}"
    return f"{method} {_NUMBER.sub('/{n}', '/'.join(parts)) or '/'}"


class SimulatorApp:
    """The WSGI app: ``/graphql``, ``/api/graphql`` and REST (also under ``/api/v3``)."""

    def __init__(self, *, graphql: Handler, rest: Handler, knobs: Knobs | None = None,
                 sleep: Callable[[float], None] = time.sleep, installations: Installations | None = None,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.graphql = graphql
        self.rest = rest
        self.installations = installations
        self.knobs = knobs or Knobs()
        self.counters = Counters()
        self._rng = random.Random(self.knobs.seed)
        self._windows: dict[tuple[str, str], _Window] = {}
        self._lock = threading.Lock()
        # Held while a handler reads the dataset; change mode holds it while it mutates the dataset.
        self.data_lock = threading.RLock()
        self._sleep = sleep
        self.clock = clock or (lambda: datetime.now(UTC))  # the budgets' time (see the module's docstring)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        return self.respond(Request(environ))(environ, start_response)

    # -- budgets -----------------------------------------------------------------------------------

    def _window(self, token: str, resource: str, limits: dict[str, int] | None = None) -> _Window:
        """The budget window of ``token`` (a token, or ``installation:<id>``); ``limits`` over ``Knobs.budget``."""
        now = int(self.clock().timestamp())
        key = (token, resource)
        window = self._windows.get(key)
        if window is None or window.reset <= now:
            window = _Window({**self.knobs.budget, **(limits or {})}.get(resource, 5000), 0, now + self.knobs.window_s)
            self._windows[key] = window
        return window

    def _headers(self, window: _Window, resource: str) -> dict[str, str]:
        remaining = max(0, window.limit - window.used)
        return {"x-ratelimit-limit": str(window.limit), "x-ratelimit-remaining": str(remaining),
                "x-ratelimit-used": str(window.used), "x-ratelimit-reset": str(window.reset),
                "x-ratelimit-resource": resource}

    # -- one request -------------------------------------------------------------------------------

    def _fault(self) -> str | None:
        k = self.knobs
        roll = self._rng.random()
        for name, share in (("502", k.fault_502), ("timeout", k.fault_timeout),
                            ("secondary", k.fault_secondary), ("abuse", k.fault_abuse)):
            if roll < share:
                return name
            roll -= share
        return None

    def respond(self, request: Request) -> Response:
        is_graphql = request.path in ("/graphql", "/api/graphql")
        resource = "graphql" if is_graphql else ("search" if "/search/" in request.path else "core")
        token = request.headers.get("authorization", "").split(" ")[-1] or f"ip:{request.remote_addr}"
        with self._lock:  # the RNG too: the n-th request draws the same id and fault in every run
            request_id = f"SIM:{self._rng.getrandbits(32):08X}"
            self.counters.requests += 1
            c = self.counters
            c.requests_by_resource[resource] = c.requests_by_resource.get(resource, 0) + 1
            route = endpoint(request.method, request.path)
            c.endpoints[route] = c.endpoints.get(route, 0) + 1
            fault = self._fault()
        base = {"x-github-request-id": request_id, "content-type": "application/json; charset=utf-8"}
        limits = None
        if self.installations is not None:
            admission = self.installations.admit(request, request.path.removeprefix("/api/v3"), route)
            if admission.answer is not None:
                status, body, extra, _, _ = admission.answer
                return Response(json.dumps(body), status=status, headers={**base, **extra})
            token, limits = admission.window, admission.limits
        with self._lock:
            window = self._window(token, resource, limits)
            spent = window.used >= window.limit
        if request.path.removeprefix("/api/v3") == "/rate_limit":
            return self._rate_limit(token, base, limits)
        delay = self.knobs.latency_s + (self.knobs.graphql_latency_s if is_graphql else self.knobs.rest_latency_s)
        if delay:
            self._sleep(delay)
        if fault is not None:
            return self._faulted(fault, base, window, resource)
        if spent:
            with self._lock:
                self.counters.limited += 1
            message = f"API rate limit exceeded for {token[:6]}…"
            # REST: a 403 with GitHub's message; GraphQL: HTTP 200 with a RATE_LIMITED error, as GitHub answers.
            body = ({"errors": [{"type": "RATE_LIMITED", "message": message}]} if is_graphql else
                    {"message": message, "documentation_url": "https://docs.github.com/rest/rate-limit"})
            return Response(json.dumps(body), status=403 if not is_graphql else 200,
                            headers={**base, **self._headers(window, resource)})
        request.environ["sim.rate"] = {"limit": window.limit, "used": window.used, "reset": window.reset}
        with self.data_lock:
            status, body, extra, nodes, points = (self.graphql if is_graphql else self.rest)(request)
        with self._lock:
            charged = 0 if status == 304 else (points if is_graphql else 1)  # noqa: PLR2004 - a 304 is free
            window.used = min(window.limit, window.used + charged)
            self.counters.points += charged if is_graphql else 0
            by_resource = self.counters.points_by_resource
            by_resource[resource] = by_resource.get(resource, 0) + charged
            left = window.limit - window.used
            self.counters.lowest_remaining[resource] = min(self.counters.lowest_remaining.get(resource, left), left)
            budget = (token, resource)
            self.counters.points_by_budget[budget] = self.counters.points_by_budget.get(budget, 0) + charged
            self.counters.lowest_by_budget[budget] = min(self.counters.lowest_by_budget.get(budget, left), left)
            self.counters.not_modified += status == 304  # noqa: PLR2004
        if self.knobs.latency_per_node_s and nodes:
            self._sleep(self.knobs.latency_per_node_s * nodes)
        payload = b"" if status == 304 else json.dumps(body).encode()  # noqa: PLR2004
        return Response(payload, status=status, headers={**base, **self._headers(window, resource), **extra})

    def _rate_limit(self, token: str, base: dict[str, str], limits: dict[str, int] | None) -> Response:
        """``GET /rate_limit``: every budget of the token (or installation); like GitHub, asking costs nothing."""
        with self._lock:
            windows = {r: self._window(token, r, limits) for r in self.knobs.budget}
        resources = {r: {"limit": w.limit, "used": w.used, "remaining": max(0, w.limit - w.used), "reset": w.reset,
                         "resource": r} for r, w in windows.items()}
        return Response(json.dumps({"resources": resources, "rate": resources.get("core", {})}), status=200,
                        headers={**base, **self._headers(windows["core"], "core")})

    def _faulted(self, fault: str, base: dict[str, str], window: _Window, resource: str) -> Response:
        with self._lock:
            self.counters.faults[fault] = self.counters.faults.get(fault, 0) + 1
        if fault == "502":
            return Response(json.dumps({"message": "Server Error"}), status=502, headers=base)
        if fault == "timeout":
            self._sleep(self.knobs.timeout_hold_s)
            return Response(json.dumps({"message": "We couldn't respond to your request in time."}),
                            status=504, headers=base)
        retry_after = str(self.knobs.secondary_retry_after_s)
        message = ("You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
                   if fault == "secondary" else
                   "You have triggered an abuse detection mechanism. Please wait a few minutes before you try again.")
        return Response(json.dumps({"message": message,
                                    "documentation_url": "https://docs.github.com/rest/overview/rate-limits"}),
                        status=403, headers={**base, **self._headers(window, resource), "retry-after": retry_after})


class _QuietHandler(WSGIRequestHandler):
    """No access log line per request: a sync makes thousands; ``Counters`` has the figures."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class SimulatorServer:
    """``SimulatorApp`` served on 127.0.0.1 in a thread."""

    def __init__(self, app: SimulatorApp, *, port: int = 0) -> None:
        self.app = app
        self._server = make_server("127.0.0.1", port, app, threaded=True, request_handler=_QuietHandler)
        self.port = self._server.server_port
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> SimulatorServer:
        self._thread = threading.Thread(target=self._server.serve_forever, name="github-sim", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        if self._thread:
            self._thread.join(timeout=10)


__all__ = ["Counters", "Knobs", "SimulatorApp", "SimulatorServer", "endpoint"]

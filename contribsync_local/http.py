"""HTTP on 127.0.0.1 in front of the Function URL handlers: ``/e/{key}`` and ``/v1/events``, ``/webhook``,
``/healthz``, and the read-only operator dashboard on every other path (``/``, ``/functions/...``,
``/runs/...``).

Each request to a handler becomes a Lambda Function URL event (payload format 2.0) and goes to the same
handler object the Lambda runs, so what works here works behind a Function URL; a body over a Function
URL's 6 MB (``FUNCTION_URL_MAX_BYTES``) gets its 413 too, from ``Content-Length``, unread. The dashboard is the
local stack's own (``contribsync_local.dashboard``): it is not deployed.

Each request is logged on ``contribsync_local.http.access`` (one plain line: client, request line,
status, size), not on werkzeug's logger, which would print it on the terminal. ``access_log`` sends it
to a file (``.local/logs/http-access.log``: ``contribsync dev`` and the demo) or to standard error
(their ``--verbose``); with neither, the line goes nowhere.
"""

from __future__ import annotations

import base64
import json
import logging
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import unquote, urlsplit

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler
from werkzeug.wrappers import Request, Response

from contribsync_local.poller import LambdaContext, discard_unpublished_metrics

if TYPE_CHECKING:
    import socket
    from collections.abc import Callable, Iterable
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

    UrlHandler = Callable[[dict[str, Any], Any], dict[str, Any]]
    PageHandler = Callable[[Request], Response]


AccessLog = Literal["off", "file", "stderr"]
ACCESS_LOG = logging.getLogger("contribsync_local.http.access")
ACCESS_LOG_FILE = Path(__file__).resolve().parent.parent / ".local" / "logs" / "http-access.log"
# A Function URL takes at most 6 MB per request (Lambda's invocation payload limit) and answers 413
# above it, before the function runs: GitHub's larger deliveries never reach the receiver there.
FUNCTION_URL_MAX_BYTES = 6 * 1024 * 1024


def access_log(where: AccessLog) -> None:
    """Where request lines go from now on in this process: ``"stderr"``, ``"file"`` (``ACCESS_LOG_FILE``,
    appended) or ``"off"``."""
    for old in list(ACCESS_LOG.handlers):
        ACCESS_LOG.removeHandler(old)
        old.close()
    ACCESS_LOG.propagate = False
    handler: logging.Handler
    if where == "off":
        handler = logging.NullHandler()
    elif where == "stderr":
        handler = logging.StreamHandler(sys.stderr)
    else:
        ACCESS_LOG_FILE.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(ACCESS_LOG_FILE, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    ACCESS_LOG.addHandler(handler)
    ACCESS_LOG.setLevel(logging.INFO)


def _masked_request_line(line: str) -> str:
    """The request line with an event key in its path shown as ``/e/***`` (the query stays): the path is
    matched as the router sees it, percent-decoded (``/%65/<key>`` is masked too), and in absolute form."""
    parts = line.split(" ", 2)  # method, target, version (a request target holds no space)
    if len(parts) < 2:  # noqa: PLR2004 - a malformed line has no target to mask
        return line
    target = urlsplit(parts[1])  # origin-form (/e/k) or absolute-form (http://host/e/k)
    if unquote(target.path).startswith("/e/"):
        parts[1] = "/e/***" + (f"?{target.query}" if target.query else "")
    return " ".join(parts)


class _AccessLogHandler(WSGIRequestHandler):
    """werkzeug's request handler, its access line on ``ACCESS_LOG`` instead of werkzeug's logger (which
    adds a terminal handler of its own when nothing configured it), and without colour codes. The event
    key in ``/e/<key>`` is masked."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        ACCESS_LOG.info("%s \"%s\" %s %s", self.address_string(), _masked_request_line(self.requestline), code, size)


def function_url_event(request: Request) -> dict[str, Any]:
    """A werkzeug request as the Lambda Function URL event of payload format 2.0."""
    raw = request.get_data()
    try:
        body, encoded = raw.decode("utf-8"), False
    except UnicodeDecodeError:
        body, encoded = base64.b64encode(raw).decode(), True
    now = time.time()
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": request.path,
        "rawQueryString": request.query_string.decode(),
        "headers": {k.lower(): v for k, v in request.headers.items()},
        "queryStringParameters": dict(request.args) or None,
        "requestContext": {
            "accountId": "anonymous", "apiId": "local", "domainName": request.host, "domainPrefix": "local",
            "http": {"method": request.method, "path": request.path, "protocol": "HTTP/1.1",
                     "sourceIp": request.remote_addr or "127.0.0.1",
                     "userAgent": request.headers.get("user-agent", "")},
            "requestId": str(uuid.uuid4()), "routeKey": "$default", "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)), "timeEpoch": int(now * 1000),
        },
        "body": body,
        "isBase64Encoded": encoded,
    }


def _to_response(result: dict[str, Any]) -> Response:
    body = result.get("body") or ""
    data = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
    return Response(data, status=int(result.get("statusCode", 200)), headers=result.get("headers") or {})


class PooledServer(BaseWSGIServer):
    """werkzeug's server answering from a fixed pool of threads, not a new thread per request.

    Each handler thread keeps its Postgres connection (``Database`` holds one per thread), as a warm
    Lambda container does; with a thread per request, every webhook delivery opened a connection of its
    own. The standard library's ``ThreadingMixIn`` and werkzeug only offer the thread per request."""

    def __init__(self, host: str, port: int, app: WSGIApplication, *, workers: int = 16) -> None:
        super().__init__(host, port, app, handler=_AccessLogHandler)
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="http-request")

    def process_request(self, request: socket.socket, client_address: tuple[str, int]) -> None:  # type: ignore[override]
        self._pool.submit(self._serve, request, client_address)

    def _serve(self, request: socket.socket, client_address: tuple[str, int]) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)

    def server_close(self) -> None:
        super().server_close()
        self._pool.shutdown(wait=True, cancel_futures=True)


def _behind_function_url(path: str) -> bool:
    return path.startswith("/e/") or path in ("/v1/events", "/webhook")


class LocalHttp:
    """A werkzeug server (a pool of threads) routing to Function URL handlers, and to ``dashboard`` for other paths."""

    def __init__(self, *, event_api: UrlHandler, webhook: UrlHandler | None = None,
                 health: Callable[[], dict[str, Any]] | None = None, dashboard: PageHandler | None = None,
                 port: int = 8288) -> None:
        self.event_api = event_api
        self.webhook = webhook
        self.health = health or (lambda: {"status": "ok"})
        self.dashboard = dashboard
        self._server = PooledServer("127.0.0.1", port, self._wsgi)
        self.port = self._server.server_port
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _wsgi(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        try:
            response = self._route(request)
        finally:
            discard_unpublished_metrics()
        return response(environ, start_response)

    def _route(self, request: Request) -> Response:
        if request.path == "/healthz" and request.method == "GET":
            return Response(json.dumps(self.health()), content_type="application/json")
        if _behind_function_url(request.path) and (request.content_length or 0) > FUNCTION_URL_MAX_BYTES:
            # Refused from Content-Length, body unread (werkzeug discards it after answering, so the
            # sender sees the 413 and not a reset connection).
            return Response(json.dumps({"message": "Request Entity Too Large"}), status=413,
                            content_type="application/json")
        if request.path.startswith("/e/") or request.path == "/v1/events":
            return _to_response(self.event_api(function_url_event(request), LambdaContext("EventApi", 10)))
        if request.path == "/webhook" and self.webhook is not None:
            return _to_response(self.webhook(function_url_event(request), LambdaContext("WebhookReceiver", 10)))
        if self.dashboard is not None and request.path not in ("/healthz", "/webhook"):
            return self.dashboard(request)
        return Response(json.dumps({"error": "not found"}), status=404, content_type="application/json")

    def start(self) -> None:
        self._thread = threading.Thread(target=self._server.serve_forever, name="http", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        if self._thread:
            self._thread.join(timeout=10)
        self._server.server_close()

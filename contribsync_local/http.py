"""HTTP on 127.0.0.1 in front of the Function URL handlers: ``/e/{key}`` and ``/v1/events``, ``/webhook``,
``/healthz``, and the read-only operator dashboard on every other path (``/``, ``/functions/...``,
``/runs/...``).

Each request to a handler becomes a Lambda Function URL event (payload format 2.0) and goes to the same
handler object the Lambda runs, so what works here works behind a Function URL, including its 413 (see
below). The dashboard is the local stack's own (``contribsync_local.dashboard``): it is not deployed.

Each request is logged on ``contribsync_local.http.access`` (one plain line: client, request line,
status, size), not on werkzeug's logger, which would print it on the terminal. ``access_log`` sends it
to a file (``.local/logs/http-access.log``: ``contribsync dev`` and the demo) or to standard error
(their ``--verbose``); with neither, the line goes nowhere.

At its door, as an attacker on this machine or a web page in its browser would find it:
- the server (``http_server``): a connection holds no thread until its headers are in (``HEADER_TIMEOUT_S``,
  then 408), and each read and write of a request has ``SOCKET_TIMEOUT_S``;
- a ``Host`` other than ``127.0.0.1:<port>`` or ``localhost:<port>`` is 400, before anything else (a DNS
  rebinding page names its own host);
- an ``Origin`` other than the server's own on ``/e/`` and ``/v1/events`` is 403: a web page cannot post
  events (curl, SDKs and GitHub send no ``Origin``);
- a body over ``FUNCTION_URL_MAX_BYTES`` is 413 with Lambda's own message, refused on its
  ``Content-Length`` before a byte of it is read, a chunked one as soon as it passes the cap (werkzeug's
  ``max_content_length`` and ``LimitedStream``), as AWS refuses it at the Function URL;
- bad framing (a malformed chunk size, a ``Content-Length`` that is not a number, both framings at once, a
  transfer coding other than chunked) is 400, and any error in routing is a 500 JSON answer with no
  traceback in it (the traceback is logged on ``contribsync_local.http``); the pool thread lives on.
"""

from __future__ import annotations

import base64
import json
import logging
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import unquote, urlsplit

from werkzeug.exceptions import BadRequest, RequestEntityTooLarge
from werkzeug.serving import WSGIRequestHandler
from werkzeug.wrappers import Request, Response

from contribsync_local.http_server import PooledServer, then_discard_body
from contribsync_local.poller import LambdaContext, discard_unpublished_metrics

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from wsgiref.types import StartResponse, WSGIEnvironment

    UrlHandler = Callable[[dict[str, Any], Any], dict[str, Any]]
    PageHandler = Callable[[Request], Response]


AccessLog = Literal["off", "file", "stderr"]
ACCESS_LOG = logging.getLogger("contribsync_local.http.access")
ACCESS_LOG_FILE = Path(__file__).resolve().parent.parent / ".local" / "logs" / "http-access.log"
LOG = logging.getLogger("contribsync_local.http")

# AWS Lambda's invocation payload limit for a synchronous invoke, which a Function URL is (6 MB, "Lambda
# quotas"): AWS answers 413 at the URL, before the function runs, so GitHub's larger deliveries never reach
# the receiver there. The answer is Lambda's own words for it, in Function URLs' {"Message": ...} shape.
FUNCTION_URL_MAX_BYTES = 6 * 1024 * 1024
FUNCTION_URL_TOO_LARGE = f"Request must be smaller than {FUNCTION_URL_MAX_BYTES} bytes for the InvokeFunction operation"


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
    """A werkzeug request as the Lambda Function URL event of payload format 2.0.

    Raises werkzeug's ``RequestEntityTooLarge`` where AWS refuses the invocation: a body over
    ``FUNCTION_URL_MAX_BYTES`` (by its ``Content-Length`` before it is read; a chunked one as soon as it
    passes the cap), or an event whose JSON is over it (AWS counts the whole event: headers, and base64
    for a body that is not UTF-8). Reading the body may raise ``OSError`` (a malformed chunk; a timeout)."""
    # One byte over the cap: werkzeug's LimitedStream ends a chunked body at its limit without a word.
    request.max_content_length = FUNCTION_URL_MAX_BYTES + 1
    raw = request.get_data(cache=False)  # not kept on the request, which may outlive this call
    if len(raw) > FUNCTION_URL_MAX_BYTES:
        raise RequestEntityTooLarge
    try:
        body, encoded = raw.decode("utf-8"), False
    except UnicodeDecodeError:
        body, encoded = base64.b64encode(raw).decode(), True
    now = time.time()
    event = {
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
    envelope = len(json.dumps({**event, "body": ""}, ensure_ascii=False).encode()) - 2
    near = envelope + 6 * len(body) + 2 > FUNCTION_URL_MAX_BYTES  # a character is at most 6 bytes of JSON
    if near and envelope + _json_string_size(body) > FUNCTION_URL_MAX_BYTES:
        raise RequestEntityTooLarge
    return event


def _json_string_size(text: str, step: int = 65_536) -> int:
    """Bytes of ``text`` as a JSON string in UTF-8, counted a slice at a time: a copy of a 6 MB body in
    JSON, then in bytes, would triple what a request holds."""
    return 2 + sum(len(json.dumps(text[i:i + step], ensure_ascii=False).encode()) - 2
                   for i in range(0, len(text), step))


def _is_event_api(path: str) -> bool:
    return path.startswith("/e/") or path == "/v1/events"


def _json(status: int, body: dict[str, Any]) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


class _Refusal(Response):
    """An answer given before the request's body was read (``then_discard_body`` reads the rest)."""


def _refuse(status: int, body: dict[str, Any]) -> Response:
    return _Refusal(json.dumps(body), status=status, content_type="application/json")


def _framing_error(request: Request) -> str | None:
    """Why the request's body framing is refused (RFC 9112 section 6), or None. werkzeug reads a
    ``Content-Length`` that is not a number as 0 and honours "chunked" anywhere in ``Transfer-Encoding``."""
    length, coding = request.headers.get("Content-Length"), request.headers.get("Transfer-Encoding")
    if coding is not None and length is not None:
        return "both Content-Length and Transfer-Encoding"
    if coding is not None and coding.strip().lower() != "chunked":
        return "a Transfer-Encoding other than chunked"
    if length is not None and not (length.isascii() and length.isdigit()):
        return "a Content-Length that is not a number"
    return None


def _to_response(result: dict[str, Any]) -> Response:
    body = result.get("body") or ""
    data = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
    return Response(data, status=int(result.get("statusCode", 200)), headers=result.get("headers") or {})


class LocalHttp:
    """A werkzeug server (a pool of threads) routing to Function URL handlers, and to ``dashboard`` for other
    paths, behind the door's checks (see the module's docstring)."""

    def __init__(self, *, event_api: UrlHandler, webhook: UrlHandler | None = None,
                 health: Callable[[], dict[str, Any]] | None = None, dashboard: PageHandler | None = None,
                 port: int = 8288) -> None:
        self.event_api = event_api
        self.webhook = webhook
        self.health = health or (lambda: {"status": "ok"})
        self.dashboard = dashboard
        self._server = PooledServer("127.0.0.1", port, self._wsgi, handler=_AccessLogHandler)
        self.port = self._server.server_port
        self._hosts = {f"127.0.0.1:{self.port}", f"localhost:{self.port}"}
        self._origins = {f"http://{host}" for host in self._hosts}
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _wsgi(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        # populate_request=False: the environ would hold the request in a reference cycle, and the cycle
        # its body (up to 6 MB) until the garbage collector ran, which it does not do on a schedule
        request = Request(environ, populate_request=False)
        try:
            response = self._refusal(request) or self._route(request)
        except Exception:
            LOG.exception("HTTP request failed", extra={"method": request.method})  # no path: /e/<key>
            response = _json(500, {"error": "internal server error"})
        finally:
            discard_unpublished_metrics()
        answer = response(environ, start_response)
        return then_discard_body(answer, environ) if isinstance(response, _Refusal) else answer

    def _refusal(self, request: Request) -> Response | None:
        """The door's answer to a request it refuses before routing it, or None."""
        # werkzeug's Request.trusted_hosts ignores the port, and lets a request without Host through.
        if (request.headers.get("Host") or "").lower() not in self._hosts:
            return _refuse(400, {"error": f"the Host header must be one of {sorted(self._hosts)}: this server "
                                        "answers its own names only (DNS rebinding)"})
        origin = request.headers.get("Origin")
        if origin is not None and origin.lower() not in self._origins and _is_event_api(request.path):
            return _refuse(403, {"error": "a request with an Origin other than this server's own cannot post "
                                        "events (a web page in a browser)"})
        if (framing := _framing_error(request)) is not None:
            return _refuse(400, {"error": f"bad request framing: {framing}"})
        return None

    def _route(self, request: Request) -> Response:
        if request.path == "/healthz" and request.method == "GET":
            return Response(json.dumps(self.health()), content_type="application/json")
        if _is_event_api(request.path):
            return self._invoke(self.event_api, "EventApi", request)
        if request.path == "/webhook" and self.webhook is not None:
            return self._invoke(self.webhook, "WebhookReceiver", request)
        if self.dashboard is not None and request.path not in ("/healthz", "/webhook"):
            return self.dashboard(request)
        return _json(404, {"error": "not found"})

    @staticmethod
    def _invoke(handler: UrlHandler, function: str, request: Request) -> Response:
        try:
            event = function_url_event(request)
        except RequestEntityTooLarge:
            return _refuse(413, {"Message": FUNCTION_URL_TOO_LARGE})
        except TimeoutError:
            return _refuse(408, {"error": "the request body did not arrive in time"})
        except (OSError, BadRequest) as exc:  # werkzeug's DechunkedInput: OSError("Invalid chunk header")
            return _refuse(400, {"error": f"bad request body: {exc}"})
        return _to_response(handler(event, LambdaContext(function, 10)))

    def start(self) -> None:
        self._thread = threading.Thread(target=self._server.serve_forever, name="http", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        if self._thread:
            self._thread.join(timeout=10)
        self._server.server_close()

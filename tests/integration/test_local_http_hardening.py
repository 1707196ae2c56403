"""The local HTTP server's door, probed as an attacker on this machine or a web page in its browser would:
idle and half-sent connections, bodies over the Function URL's cap, bad framing, DNS rebinding, a foreign
Origin, and a handler that raises. Every answer is asserted with generous client timeouts, never a timing."""

from __future__ import annotations

import contextlib
import gc
import json
import socket
import subprocess
import sys
import threading
import tracemalloc
from pathlib import Path

import httpx
import pytest

from contribsync_local.http import FUNCTION_URL_MAX_BYTES, FUNCTION_URL_TOO_LARGE, LocalHttp

MB = 1024 * 1024
PATIENCE_S = 30  # a client's timeout; far above any answer the server owes


class Recorder:
    """A Function URL handler that answers 202 with the size of the body it was given."""

    def __init__(self) -> None:
        self.bodies: list[int] = []

    def __call__(self, event, context):
        self.bodies.append(len(event["body"]))
        return {"statusCode": 202, "body": json.dumps({"bytes": len(event["body"])})}


@pytest.fixture
def handler():
    return Recorder()


@pytest.fixture
def server(handler):
    http = LocalHttp(event_api=handler, webhook=handler, port=0)
    http.start()
    yield http
    http.stop()


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=PATIENCE_S)
    sock.settimeout(PATIENCE_S)
    return sock


def read_until_closed(sock: socket.socket) -> bytes:
    """What the server sent until it closed (or reset) the connection; times out if it never does."""
    received = b""
    with contextlib.suppress(ConnectionResetError):
        while chunk := sock.recv(65536):
            received += chunk
    return received


def exchange(port: int, head: bytes, body: bytes | list[bytes] = b"") -> bytes:
    """Send ``head`` then ``body`` (a thread sends it, so an answer given before the body is all sent is read
    meanwhile); what the server answered until it closed. A server that closes while the body still goes
    is fine: the answer is what counts."""
    sock = connect(port)
    parts = [body] if isinstance(body, bytes) else body

    def send() -> None:
        with contextlib.suppress(OSError):
            sock.sendall(head)
            for part in parts:
                sock.sendall(part)

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    try:
        received = read_until_closed(sock)
    finally:
        sender.join(PATIENCE_S)
        sock.close()
    return received


def status_and_json(answer: bytes) -> tuple[int, dict]:
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


def post_head(port: int, path: str, *headers: str) -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", *headers, "", ""]
    return "\r\n".join(lines).encode()


def chunked(size: int, piece: int = 64 * 1024) -> list[bytes]:
    parts = []
    while size > 0:
        n = min(piece, size)
        parts.append(f"{n:x}\r\n".encode() + b"x" * n + b"\r\n")
        size -= n
    return [*parts, b"0\r\n\r\n"]


# 1. Idle connections


def test_a_request_is_answered_while_40_idle_and_20_half_sent_connections_are_open(server):
    # GIVEN more silent connections, and connections stuck mid-headers, than the pool has threads (16)
    idle = [connect(server.port) for _ in range(40)]
    half = [connect(server.port) for _ in range(20)]
    for sock in half:
        sock.sendall(b"POST /e/key HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    try:
        # WHEN a real request comes
        response = httpx.post(f"{server.url}/e/key", content=b"[]", timeout=PATIENCE_S)
        # THEN it is answered
        assert response.status_code == 202
    finally:
        for sock in idle + half:
            sock.close()


def test_a_connection_that_does_not_finish_its_headers_is_answered_408_and_closed(server):
    with connect(server.port) as sock:
        sock.sendall(b"POST /e/key HTTP/1.1\r\nHost: 127.0.0.1:")
        answer = read_until_closed(sock)  # times out if the server never closes
    assert answer.startswith(b"HTTP/1.1 408 ")


# 2. Bodies over the cap


@pytest.mark.parametrize("path", ["/e/key", "/v1/events", "/webhook"])
def test_a_content_length_over_the_cap_is_refused_before_the_body_is_sent(server, handler, path):
    # GIVEN a request announcing 30 MB, of which nothing is sent
    with connect(server.port) as sock:
        sock.sendall(post_head(server.port, path, f"Content-Length: {30 * MB}"))
        # WHEN the client waits for an answer THEN it gets Lambda's 413 without sending a byte of the body
        answer = read_until_closed(sock)
    status, body = status_and_json(answer)
    assert status == 413
    assert body == {"Message": FUNCTION_URL_TOO_LARGE}
    assert FUNCTION_URL_MAX_BYTES == 6_291_456
    assert handler.bodies == []


def test_a_chunked_body_is_cut_off_at_the_cap_and_one_under_it_goes_through(server, handler):
    big = exchange(server.port, post_head(server.port, "/e/key", "Transfer-Encoding: chunked"), chunked(8 * MB))
    assert status_and_json(big) == (413, {"Message": FUNCTION_URL_TOO_LARGE})
    small = exchange(server.port, post_head(server.port, "/e/key", "Transfer-Encoding: chunked"), chunked(5 * MB))
    assert status_and_json(small) == (202, {"bytes": 5 * MB})
    assert handler.bodies == [5 * MB]


def test_an_event_over_the_cap_is_refused_though_its_body_is_under_it(server, handler):
    # AWS counts the whole invocation payload: a binary body goes base64 (4/3 its size) into the event
    body = b"\xff" * (5 * MB)
    answer = exchange(server.port, post_head(server.port, "/webhook", f"Content-Length: {len(body)}"), body)
    assert status_and_json(answer) == (413, {"Message": FUNCTION_URL_TOO_LARGE})
    assert handler.bodies == []


SERVE = """
import sys
from contribsync_local.http import LocalHttp
ok = lambda event, context: {"statusCode": 202, "body": "{}"}
http = LocalHttp(event_api=ok, webhook=ok, port=0)
http.start()
print(http.port, flush=True)
sys.stdin.read()
http.stop()
"""


def peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the server's peak RSS in /proc")
def test_bodies_over_the_cap_do_not_grow_the_server_by_their_size(report):
    # GIVEN the server alone in a process, warmed up by a small request
    child = subprocess.Popen([sys.executable, "-c", SERVE], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert child.stdout is not None
        port = int(child.stdout.readline())
        assert httpx.post(f"http://127.0.0.1:{port}/e/key", content=b"[]", timeout=PATIENCE_S).status_code == 202
        before = peak_rss(child.pid)
        # WHEN 30 MB bodies are sent whole, with their Content-Length, and 8 MB ones chunked
        body = b"x" * (30 * MB)
        for _ in range(3):
            answer = exchange(port, post_head(port, "/webhook", f"Content-Length: {len(body)}"), body)
            assert answer.startswith(b"HTTP/1.0 413 ")
            answer = exchange(port, post_head(port, "/e/key", "Transfer-Encoding: chunked"), chunked(8 * MB))
            assert answer.startswith(b"HTTP/1.0 413 ")
        grown = peak_rss(child.pid) - before
        report(f"local HTTP server: peak RSS grew {grown / MB:.1f} MB over 3 x 30 MB and 3 x 8 MB chunked bodies")
        # THEN its peak memory grew by less than one body: they were refused, not read into memory
        assert grown < 30 * MB
    finally:
        child.communicate(b"", timeout=PATIENCE_S)


def test_a_served_body_is_not_kept_once_answered(server, handler):
    # GIVEN no garbage collection: what is freed is freed by reference counting, as it is between collections
    body = b"x" * (2 * MB)  # one object, sent by a plain socket: the client holds nothing more per request
    gc.disable()
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        # WHEN bodies under the cap are served
        for _ in range(5):
            answer = exchange(server.port, post_head(server.port, "/webhook", f"Content-Length: {len(body)}"), body)
            assert answer.startswith(b"HTTP/1.0 202 ")
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        gc.enable()
    # THEN none of them is still held (a request held in a reference cycle kept its body until a collection)
    assert handler.bodies == [2 * MB] * 5
    assert after - before < 2 * MB


# 3. Framing


@pytest.mark.parametrize(("headers", "body"), [
    (["Transfer-Encoding: chunked"], b"zz\r\nabc\r\n0\r\n\r\n"),  # a chunk size that is not hex
    (["Transfer-Encoding: chunked"], b"3\r\nabcXY0\r\n\r\n"),  # a chunk without its CRLF
    (["Content-Length: abc"], b"[]"),
    (["Content-Length: 2", "Transfer-Encoding: chunked"], b"2\r\n[]\r\n0\r\n\r\n"),
    (["Transfer-Encoding: gzip, chunked"], b"2\r\n[]\r\n0\r\n\r\n"),
])
def test_bad_framing_is_400_not_500(server, handler, headers, body):
    answer = exchange(server.port, post_head(server.port, "/e/key", *headers), body)
    status, payload = status_and_json(answer)
    assert status == 400
    assert "error" in payload
    assert handler.bodies == []


# 4. DNS rebinding


@pytest.mark.parametrize("host", ["evil.example:{port}", "evil.example", "127.0.0.1:1", "localhost", "[::1]:{port}",
                                  "127.0.0.1.evil.example:{port}"])
def test_a_foreign_host_header_is_refused(server, handler, host):
    response = httpx.post(f"{server.url}/e/key", content=b"[]", headers={"Host": host.format(port=server.port)},
                          timeout=PATIENCE_S)
    assert response.status_code == 400
    assert "Host" in response.json()["error"]
    assert httpx.get(f"{server.url}/healthz", headers={"Host": "evil.example"}, timeout=PATIENCE_S).status_code == 400
    assert handler.bodies == []


def test_a_request_without_host_is_refused(server):
    answer = exchange(server.port, b"GET /healthz HTTP/1.0\r\n\r\n")
    assert status_and_json(answer)[0] == 400


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "LocalHost:{port}"])
def test_the_servers_own_names_are_served(server, host):
    response = httpx.post(f"{server.url}/e/key", content=b"[]", headers={"Host": host.format(port=server.port)},
                          timeout=PATIENCE_S)
    assert response.status_code == 202


# 5. Origin


@pytest.mark.parametrize("path", ["/e/key", "/v1/events"])
@pytest.mark.parametrize("origin", ["http://evil.example", "null", "http://127.0.0.1:1", "https://127.0.0.1:{port}"])
def test_a_web_page_cannot_post_events(server, handler, path, origin):
    response = httpx.post(f"{server.url}{path}", content=b"[]", timeout=PATIENCE_S,
                          headers={"Origin": origin.format(port=server.port)})
    assert response.status_code == 403
    assert handler.bodies == []


@pytest.mark.parametrize("origin", [None, "http://127.0.0.1:{port}", "http://localhost:{port}"])
def test_clients_without_origin_or_with_the_servers_own_post_events(server, handler, origin):
    headers = {} if origin is None else {"Origin": origin.format(port=server.port)}
    assert httpx.post(f"{server.url}/e/key", content=b"[]", headers=headers, timeout=PATIENCE_S).status_code == 202


# 6. Errors


def test_a_handler_that_raises_is_a_500_json_without_a_traceback_and_the_pool_lives_on(caplog):
    def broken(event, context):
        raise RuntimeError("internal detail 7f3a")

    http = LocalHttp(event_api=broken, webhook=Recorder(), port=0)
    http.start()
    try:
        # WHEN more requests fail than the pool has threads
        for _ in range(40):
            response = httpx.post(f"{http.url}/e/key", content=b"[]", timeout=PATIENCE_S)
            # THEN each answer is a JSON 500 that tells nothing of the code
            assert response.status_code == 500
            assert response.json() == {"error": "internal server error"}
            assert "7f3a" not in response.text
            assert "Traceback" not in response.text
        # AND the server still answers, and logged the traceback for its operator
        assert httpx.get(f"{http.url}/healthz", timeout=PATIENCE_S).status_code == 200
        assert httpx.post(f"{http.url}/webhook", content=b"{}", timeout=PATIENCE_S).status_code == 202
    finally:
        http.stop()
    failures = [r for r in caplog.records if r.name == "contribsync_local.http" and r.exc_info]
    assert len(failures) == 40
    assert "7f3a" in str(failures[0].exc_info[1])


def test_a_client_reusing_its_connections_is_served_every_time(server, handler):
    # werkzeug closes each connection after its answer; a pooling client opens the next one by itself
    with httpx.Client(base_url=server.url, timeout=PATIENCE_S) as client:
        statuses = [client.post("/webhook", content=b"{}").status_code for _ in range(50)]
    assert statuses == [202] * 50

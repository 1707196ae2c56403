"""The local stack's HTTP server: werkzeug's, answering from a fixed pool of threads, with no thread held by
a connection that has not sent its request yet.

werkzeug's servers, and the standard library's ``socketserver`` under them, give a thread to a
connection as soon as it is accepted, and that thread then blocks on its first read with no timeout:
16 idle TCP connections took the 16 threads of the pool and froze the server for good. Here an accepted
connection waits in ``_HeaderWaiter`` (one thread, one selector, no thread per connection) until its
request line and headers have arrived, then goes to the pool; one that has not sent them within
``HEADER_TIMEOUT_S`` of its accept is answered 408 and closed. The pool thread reads the body and writes
the answer under ``SOCKET_TIMEOUT_S`` per socket operation. Neither werkzeug nor the standard library
offers this (waitress does, but it would replace werkzeug's request handler and its access log), hence
the selector by hand.

``then_discard_body`` reads the rest of a body refused unread, a piece at a time (see there).

werkzeug's handler closes the connection after every answer (``Connection: close``: it has no
keep-alive), so a connection passes through the waiter once; a client's pool of connections (httpx)
opens a new one per request and works as before.
"""

from __future__ import annotations

import contextlib
import logging
import selectors
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from werkzeug.serving import BaseWSGIServer

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from wsgiref.types import WSGIApplication, WSGIEnvironment

    from werkzeug.serving import WSGIRequestHandler

    Address = tuple[str, int]

LOG = logging.getLogger("contribsync_local.http")

DISCARD_MAX_BYTES = 64 * 1024 * 1024  # of a refused body, read after the answer: above GitHub's 25 MB deliveries
DISCARD_PAUSE_S = 1.0  # a client that pauses this long while sending a refused body is cut off
HEADER_TIMEOUT_S = 5.0  # from accept to the end of the headers, as a client sends them in one write
SOCKET_TIMEOUT_S = 10.0  # each read of the body and each write of the answer
MAX_WAITING = 512  # connections without their headers yet; past it the oldest is closed (file descriptors)
_PEEK_BYTES = 65_536  # http.server's longest request line; a full peek without a blank line is its to refuse
_PARTIAL_RECHECK_S = 0.05
_TIMED_OUT = b"HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


def _headers_state(sock: socket.socket) -> str:
    """``"ready"`` (the headers are in, or as much as http.server reads), ``"none"`` (nothing sent yet),
    ``"partial"``, or ``"closed"``: looked at with ``MSG_PEEK``, so the handler reads every byte itself."""
    try:
        data = sock.recv(_PEEK_BYTES, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except BlockingIOError:
        return "none"
    except OSError:
        return "closed"
    if not data:
        return "closed"
    if b"\r\n\r\n" in data or b"\n\n" in data or len(data) >= _PEEK_BYTES:
        return "ready"
    return "partial"


def _answer_timed_out(sock: socket.socket) -> None:
    """408, best effort and without blocking. What the client sent is read first: closing a socket with
    unread bytes resets the connection, and the client would lose the answer."""
    with contextlib.suppress(OSError):
        while sock.recv(_PEEK_BYTES, socket.MSG_DONTWAIT):
            pass
    with contextlib.suppress(OSError):
        sock.send(_TIMED_OUT, socket.MSG_DONTWAIT)
        sock.shutdown(socket.SHUT_WR)


class _HeaderWaiter:
    """Accepted connections wait here, without a thread each, until their headers are in: then ``ready``
    gets them. A connection with nothing to read is watched by the selector; one with part of its headers
    is peeked again every ``_PARTIAL_RECHECK_S`` (the selector, level-triggered, would report it readable
    without end)."""

    def __init__(self, ready: Callable[[socket.socket, Address], None], *, timeout_s: float) -> None:
        self._ready = ready
        self._timeout_s = timeout_s
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_w.setblocking(False)
        self._selector.register(self._wake_r, selectors.EVENT_READ)
        self._lock = threading.Lock()
        self._incoming: list[tuple[socket.socket, Address]] = []
        self._waiting: dict[socket.socket, tuple[Address, float]] = {}  # oldest first (same timeout for all)
        self._partial: set[socket.socket] = set()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="http-headers", daemon=True)
        self._thread.start()

    def add(self, sock: socket.socket, address: Address) -> None:
        if _headers_state(sock) == "ready":  # the usual case under load: no hop through the waiting thread
            self._ready(sock, address)
            return
        with self._lock:
            if self._closed:
                sock.close()
                return
            self._incoming.append((sock, address))
        with contextlib.suppress(BlockingIOError):  # a wake-up byte is already pending
            self._wake_w.send(b"\0")

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        with contextlib.suppress(OSError):
            self._wake_w.send(b"\0")
        self._thread.join(timeout=10)
        for sock in [*self._waiting, *(s for s, _ in self._incoming)]:
            sock.close()
        self._waiting.clear()
        self._selector.close()
        self._wake_r.close()
        self._wake_w.close()

    def _run(self) -> None:
        while True:
            with self._lock:
                if self._closed:
                    return
                incoming, self._incoming = self._incoming, []
            for sock, address in incoming:
                self._waiting[sock] = (address, time.monotonic() + self._timeout_s)
                self._check(sock)
            while len(self._waiting) > MAX_WAITING:
                self._drop(next(iter(self._waiting)))
            for key, _ in self._selector.select(self._wait_s()):
                if key.fileobj is self._wake_r:
                    with contextlib.suppress(BlockingIOError):
                        self._wake_r.recv(4096, socket.MSG_DONTWAIT)
                else:
                    self._check(key.fileobj)  # type: ignore[arg-type]
            for sock in list(self._partial):
                self._check(sock)
            now = time.monotonic()
            for sock, (_, deadline) in list(self._waiting.items()):
                if deadline > now:
                    break
                _answer_timed_out(sock)
                self._drop(sock)

    def _wait_s(self) -> float | None:
        if self._partial:
            return _PARTIAL_RECHECK_S
        if self._waiting:
            _, deadline = next(iter(self._waiting.values()))
            return max(0.0, deadline - time.monotonic())
        return None

    def _check(self, sock: socket.socket) -> None:
        try:
            self._move(sock)
        except Exception:  # one connection's trouble must not end the thread every connection waits in
            LOG.exception("HTTP connection dropped while waiting for its headers")
            with contextlib.suppress(Exception):
                self._drop(sock)

    def _move(self, sock: socket.socket) -> None:
        state = _headers_state(sock)
        if state == "none":
            self._partial.discard(sock)
            if sock not in self._selector.get_map():
                self._selector.register(sock, selectors.EVENT_READ)
        elif state == "partial":
            self._unwatch(sock)
            self._partial.add(sock)
        elif state == "closed":
            self._drop(sock)
        else:
            address, _ = self._waiting.pop(sock)
            self._unwatch(sock)
            self._ready(sock, address)

    def _unwatch(self, sock: socket.socket) -> None:
        self._partial.discard(sock)
        if sock in self._selector.get_map():
            self._selector.unregister(sock)

    def _drop(self, sock: socket.socket) -> None:
        self._unwatch(sock)
        self._waiting.pop(sock, None)
        sock.close()


def then_discard_body(answer: Iterable[bytes], environ: WSGIEnvironment) -> Iterator[bytes]:
    """A WSGI answer given before the request's body was read, then the rest of that body read and dropped
    64 KB at a time, so that the client, still sending, gets the answer rather than a reset connection.

    werkzeug's handler drops it too, after any answer, but in reads of 10 MB that each wait for their
    10 MB or the end of the connection: a refused 30 MB body took 10 MB or more of memory, and held a pool
    thread until the client closed (or ``SOCKET_TIMEOUT_S``). Here the reading stops when the client pauses
    for ``DISCARD_PAUSE_S`` or after ``DISCARD_MAX_BYTES``; the reading side is then shut, so werkzeug's
    own reads find the end of the stream at once."""
    try:
        yield from answer  # werkzeug writes each piece before asking for the next
    finally:
        if hasattr(answer, "close"):
            answer.close()
    sock: socket.socket = environ["werkzeug.socket"]
    discarded = 0
    sock.settimeout(DISCARD_PAUSE_S)
    with contextlib.suppress(OSError):  # a pause (TimeoutError) or a client gone
        while discarded < DISCARD_MAX_BYTES and (piece := sock.recv(65_536)):
            discarded += len(piece)
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RD)


class PooledServer(BaseWSGIServer):
    """werkzeug's server answering from a fixed pool of threads, not a new thread per request.

    Each handler thread keeps its Postgres connection (``Database`` holds one per thread), as a warm
    Lambda container does; with a thread per request, every webhook delivery opened a connection of its
    own. The standard library's ``ThreadingMixIn`` and werkzeug only offer the thread per request. A
    connection reaches the pool once its headers are in (``_HeaderWaiter``)."""

    def __init__(self, host: str, port: int, app: WSGIApplication, *, handler: type[WSGIRequestHandler],
                 workers: int = 16, header_timeout_s: float = HEADER_TIMEOUT_S,
                 socket_timeout_s: float = SOCKET_TIMEOUT_S) -> None:
        super().__init__(host, port, app, handler=handler)
        self.socket_timeout_s = socket_timeout_s
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="http-request")
        self._waiter = _HeaderWaiter(self._dispatch, timeout_s=header_timeout_s)

    def process_request(self, request: socket.socket, client_address: Address) -> None:  # type: ignore[override]
        self._waiter.add(request, client_address)

    def _dispatch(self, request: socket.socket, client_address: Address) -> None:
        try:
            self._pool.submit(self._serve, request, client_address)
        except RuntimeError:  # the pool is shut down: the server is closing
            request.close()

    def _serve(self, request: socket.socket, client_address: Address) -> None:
        try:
            request.settimeout(self.socket_timeout_s)
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)

    def server_close(self) -> None:
        super().server_close()
        self._waiter.close()
        self._pool.shutdown(wait=True, cancel_futures=True)


__all__ = ["HEADER_TIMEOUT_S", "SOCKET_TIMEOUT_S", "PooledServer", "then_discard_body"]

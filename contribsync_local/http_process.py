"""The local stack's HTTP endpoint (webhook receiver, event API, dashboard) in a process of its own.

On AWS the webhook receiver is a Lambda of its own, never in the interpreter of the functions it feeds.
In the local stack's process, each receiver request waited for the interpreter behind the pollers'
batches at every socket and database round trip: GitHub's senders saw 90 ms a delivery where moto's
send alone took 55 ms, and the stack kept 0.70x moto's raw rate; served from here, 0.76x to 0.87x
over eight runs (``make bench``, webhook ingest). This child serves the same ``LocalHttp`` with its own
handlers and clients, built from the environment the stack set before starting it; it ends when its
parent closes the pipe (or dies), so it cannot outlive the stack. Its health answer is fixed at start
(the pollers' count).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    from contribsync_local.http import AccessLog


def _serve(port: int, functions: int, prefix: str, log: AccessLog, conn: Connection) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the stack, and the stack stops this
    from contribsync.db import Database
    from contribsync.queues import Queues
    from contribsync.settings import Settings
    from contribsync_local.aws import sqs_client
    from contribsync_local.dashboard import Dashboard
    from contribsync_local.http import LocalHttp, access_log
    from contribsync_local.stack import close_handler, load_handler

    access_log(log)
    settings = Settings.from_env()
    db = Database(settings.database_url, application_name="contribsync-local-http")
    queues = Queues(sqs_client(), prefix=prefix)
    event_api, webhook = load_handler("EventApi"), load_handler("WebhookReceiver")
    http = LocalHttp(event_api=event_api.lambda_handler, webhook=webhook.lambda_handler,
                     health=lambda: {"status": "ok", "functions": functions, "queue_prefix": prefix,
                                     "pid": os.getpid()},
                     dashboard=Dashboard(db, queues), port=port)
    http.start()
    conn.send(http.port)
    try:
        conn.recv()  # returns (or raises EOFError) when the parent stops the stack or dies
    except EOFError:
        pass
    finally:
        http.stop()
        close_handler(event_api)
        close_handler(webhook)
        db.close()


class HttpProcess:
    """``LocalHttp``'s interface (``url``, ``port``, ``start``, ``stop``), served by a child process."""

    def __init__(self, *, port: int, functions: int, prefix: str, access_log: AccessLog = "off") -> None:
        self._args: tuple[Any, ...] = (port, functions, prefix, access_log)
        self.port = 0
        self._conn: Connection | None = None
        self._process: multiprocessing.process.BaseProcess | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        """The serving process's id while it runs (the benchmarks account its CPU time)."""
        return self._process.pid if self._process is not None else None

    def start(self) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(*self._args, child), name="contribsync-http",
                                        daemon=True)
        self._process.start()
        child.close()
        if not self._conn.poll(60):
            self.stop()
            raise RuntimeError("the HTTP process did not start in 60 s")
        self.port = int(self._conn.recv())

    def stop(self) -> None:
        if self._conn is not None:
            self._conn.close()  # the child's recv ends: it stops its server
            self._conn = None
        if self._process is not None:
            self._process.join(timeout=15)
            if self._process.is_alive():
                self._process.kill()
                self._process.join()
            self._process = None


__all__ = ["HttpProcess"]

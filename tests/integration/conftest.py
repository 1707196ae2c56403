"""Integration fixtures: moto's real server on 127.0.0.1, the template's queues under a fresh prefix."""

from __future__ import annotations

import json
import os
import threading
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from contribsync.queues import Queues
from contribsync_local.aws import MotoServer, aws_environment, create_queues, sqs_client
from tests.conftest import FIGURE


@pytest.fixture(scope="session")
def aws_endpoint():
    server = MotoServer()
    endpoint = server.start()
    saved = {k: os.environ.get(k) for k in aws_environment(endpoint)}
    os.environ.update(aws_environment(endpoint))
    yield endpoint
    server.stop()
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture
def sqs(aws_endpoint):
    return sqs_client()


@pytest.fixture
def queues(sqs):
    """Every queue and DLQ of template.yaml, created under a prefix no other test uses."""
    prefix = f"t{uuid.uuid4().hex[:8]}"
    create_queues(sqs, prefix)
    return Queues(sqs, prefix=prefix)


@pytest.fixture
def report(request):
    """``report(line)``: a figure a test measured, printed in the run's summary (``-q`` shows no test's
    own output). It travels as a user property of the test's report, so pytest-xdist's workers hand it
    to the controller, which prints it (``pytest_terminal_summary`` in tests/conftest.py)."""
    return lambda line: request.node.user_properties.append((FIGURE, line))


class FakeClock:
    """A clock the test moves by hand."""

    factor = 1.0  # not scaled (contribsync.clock)

    def __init__(self, start: datetime | None = None) -> None:
        self.t = start or datetime.now(UTC)

    def now(self) -> datetime:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += timedelta(seconds=seconds)


@pytest.fixture
def fake_clock():
    return FakeClock()


class ResponseListener:
    """An HTTP server on 127.0.0.1 standing in for CloudFormation's pre-signed ResponseURL: it keeps each
    PUT's body (JSON) and headers, and answers ``status``."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []
        self.headers: list[dict[str, str]] = []
        self.status = 200
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                listener.headers.append(dict(self.headers))
                listener.bodies.append(json.loads(body))
                self.send_response(listener.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/cloudformation/response?X-Amz-Signature=sample"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def response_listener():
    listener = ResponseListener()
    yield listener
    listener.close()

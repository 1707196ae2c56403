"""The local HTTP endpoint's request lines: never on the terminal unless asked for (``--verbose``)."""

from __future__ import annotations

import uuid

import httpx
import pytest

from contribsync_local import http as local_http
from contribsync_local.http import LocalHttp, access_log


@pytest.fixture
def served():
    server = LocalHttp(event_api=lambda event, context: {"statusCode": 202, "body": "{}"}, port=0)
    server.start()
    yield server
    server.stop()
    access_log("off")


def probe(server: LocalHttp) -> str:
    marker = uuid.uuid4().hex
    assert httpx.get(f"{server.url}/healthz?probe={marker}").status_code == 200
    assert httpx.post(f"{server.url}/e/key?probe={marker}", content=b"[]").status_code == 202
    return marker


def logged(caplog) -> list[str]:
    """Request lines that reached a propagating logger (werkzeug's own prints them on the terminal)."""
    return [r.getMessage() for r in caplog.records if "HTTP/1.1" in r.getMessage()]


def test_by_default_a_request_prints_nothing(served, capfd, caplog):
    access_log("off")
    probe(served)
    out, err = capfd.readouterr()
    assert "HTTP/1.1" not in out + err
    assert logged(caplog) == []


def test_file_mode_writes_one_plain_line_per_request_and_prints_nothing(served, capfd, caplog, tmp_path,
                                                                        monkeypatch):
    monkeypatch.setattr(local_http, "ACCESS_LOG_FILE", tmp_path / "logs" / "http-access.log")
    access_log("file")
    marker = probe(served)
    out, err = capfd.readouterr()
    assert "HTTP/1.1" not in out + err
    assert logged(caplog) == []
    lines = [line for line in (tmp_path / "logs" / "http-access.log").read_text().splitlines() if marker in line]
    assert len(lines) == 2
    assert f'"GET /healthz?probe={marker} HTTP/1.1" 200' in lines[0]
    assert f'"POST /e/***?probe={marker} HTTP/1.1" 202' in lines[1]
    assert "\x1b[" not in "".join(lines)  # werkzeug colours its own lines; these are plain


def test_verbose_prints_the_lines_on_standard_error(served, capfd):
    access_log("stderr")
    marker = probe(served)
    out, err = capfd.readouterr()
    assert marker not in out
    assert err.count(marker) == 2

"""Secrets stay out of what is printed and written: Settings' repr, the access log, `contribsync dev`'s banner
and `.local/stack.json`."""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import stat
from types import SimpleNamespace

import httpx
import pytest

from contribsync.settings import Settings
from contribsync_cli import local_env
from contribsync_cli.dev import banner
from contribsync_local.http import ACCESS_LOG, LocalHttp, access_log
from contribsync_local.stack import LocalStack, write_private

PASSWORD = "db-c4n4ry/pass+word"
ENCODED = "db-c4n4ry%2Fpass%2Bword"
DB_URL = f"postgresql://app:{ENCODED}@db.example:5432/contribsync"
EVENT_KEY = "event-key-c4n4ry-0123456789abcdef"


def test_settings_repr_shows_neither_the_database_password_nor_the_event_keys():
    settings = Settings(database_url=DB_URL, event_keys=(EVENT_KEY,), github_tokens=("ghp_c4n4ry",))
    shown = repr(settings) + str(settings) + f"{settings}"
    assert ENCODED not in shown and PASSWORD not in shown and EVENT_KEY not in shown
    assert "ghp_c4n4ry" not in shown
    assert "queue_prefix='contribsync'" in shown  # the rest is still shown
    assert settings.database_url == DB_URL and settings.event_keys == (EVENT_KEY,)  # and the fields usable


def test_the_database_password_is_a_secret_as_the_url_spells_it_and_decoded():
    assert {ENCODED, PASSWORD} <= set(Settings(database_url=DB_URL).secrets())


@pytest.fixture
def access_lines():
    lines: list[str] = []
    server = LocalHttp(event_api=lambda event, context: {"statusCode": 202, "body": "{}"}, port=0)
    server.start()
    access_log("off")

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    keep = Keep()
    ACCESS_LOG.addHandler(keep)
    yield server, lines
    ACCESS_LOG.removeHandler(keep)
    server.stop()


def test_the_event_key_is_masked_in_access_log_lines(access_lines):
    server, lines = access_lines
    httpx.post(f"{server.url}/e/{EVENT_KEY}?probe=1", content=b"[]")
    httpx.post(f"{server.url}/%65/{EVENT_KEY}", content=b"[]")  # the router decodes /%65/ to /e/
    httpx.get(f"{server.url}/healthz?probe=2")
    assert len(lines) == 3
    assert not [line for line in lines if EVENT_KEY in line]
    assert '"POST /e/***?probe=1 HTTP/1.1" 202' in lines[0]
    assert '"POST /e/*** HTTP/1.1" 202' in lines[1]
    assert '"GET /healthz?probe=2 HTTP/1.1" 200' in lines[2]


def test_the_dev_banner_masks_the_database_password():
    stack = SimpleNamespace(http=SimpleNamespace(url="http://127.0.0.1:8288"), aws_endpoint="http://127.0.0.1:5000",
                            database_url=DB_URL, simulator=None, access_log="file", pollers={})
    text = "\n".join(banner(stack, argparse.Namespace(change_every=0.0)))
    assert ENCODED not in text and PASSWORD not in text
    assert "postgresql://app:***@db.example:5432/contribsync" in text


def test_stack_json_is_created_owner_only_and_holds_no_password(tmp_path, monkeypatch):
    # GIVEN an old world-readable stack.json and a permissive umask
    path = tmp_path / ".local" / "stack.json"
    path.parent.mkdir()
    path.write_text("{}")
    path.chmod(0o644)
    old_umask = os.umask(0)
    try:
        stack = LocalStack(database_url=DB_URL, aws_endpoint="http://127.0.0.1:9", github="env")
        stack.prefix = "dev-prefix"
        write_private(path, json.dumps(stack.state()))
    finally:
        os.umask(old_umask)
    # THEN the file is the owner's alone, and shows the database without its password
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert ENCODED not in path.read_text() and PASSWORD not in path.read_text()
    assert [p.name for p in path.parent.iterdir()] == ["stack.json"]  # no temporary file left
    # AND the CLI's commands still find the running stack through it
    monkeypatch.setattr(local_env, "STATE_FILE", path)
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SQS"):
        monkeypatch.delenv(name, raising=False)
    assert local_env.running_stack()["queue_prefix"] == "dev-prefix"
    target = local_env.aws_target()
    assert target["CONTRIBSYNC_QUEUE_PREFIX"] == "dev-prefix"
    assert target["AWS_ENDPOINT_URL"] == "http://127.0.0.1:9"


@pytest.fixture
def powertools_lines():
    """What the layer's Powertools logger writes (its handler's stream, made when it was imported, is not
    the one capfd captures)."""
    from contribsync.observability import logger

    lines = io.StringIO()
    previous = logger.registered_handler.setStream(lines)
    yield lines
    logger.registered_handler.setStream(previous)


def test_log_lines_are_masked_of_the_configured_secrets_and_of_credential_shapes(powertools_lines):
    from contribsync.clients import Clients
    from contribsync.observability import logger

    # GIVEN a container's clients made from settings holding the secrets
    Clients(Settings(database_url=DB_URL, openai_api_key="plain-openai-c4n4ry-key"))
    # WHEN a log line quotes them in its message, its extra keys and its exception
    try:
        raise RuntimeError(f"refused plain-openai-c4n4ry-key for {DB_URL}")
    except RuntimeError:
        logger.exception("call failed plain-openai-c4n4ry-key", extra={
            "detail": {"keys": ["plain-openai-c4n4ry-key", "ghp_" + "x" * 36]}, "dsn": DB_URL})
    out = powertools_lines.getvalue()
    # THEN none is written
    for secret in ("plain-openai-c4n4ry-key", ENCODED, PASSWORD, "ghp_" + "x" * 36):
        assert secret not in out
    assert '"message":"call failed ***"' in out and '"exception_name":"RuntimeError"' in out

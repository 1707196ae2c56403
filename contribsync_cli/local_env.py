"""How CLI commands find the database and the AWS endpoint.

``DATABASE_URL`` wins; otherwise the embedded Postgres under ``.local/`` is started (or reused).
An AWS endpoint comes from ``AWS_ENDPOINT_URL`` when set (real AWS when it is not, if credentials
exist); otherwise from a running ``contribsync dev`` (its ``.local/stack.json``).
"""

from __future__ import annotations

import json
import os

from contribsync.db import Database, migrate
from contribsync_local import postgres
from contribsync_local.aws import aws_environment
from contribsync_local.stack import STATE_FILE


def database() -> Database:
    url = postgres.database_url()
    os.environ["DATABASE_URL"] = url
    db = Database(url, application_name="contribsync-cli")
    migrate(db)
    return db


def running_stack() -> dict[str, str] | None:
    if not STATE_FILE.exists():
        return None
    state: dict[str, str] = json.loads(STATE_FILE.read_text())
    try:
        os.kill(int(state["pid"]), 0)
    except (OSError, ValueError):
        return None
    return state


def use_aws() -> str:
    """Point boto3 at AWS: an explicit endpoint, else the running dev stack. Returns a description."""
    if os.environ.get("AWS_ENDPOINT_URL") or os.environ.get("AWS_ENDPOINT_URL_SQS"):
        return os.environ.get("AWS_ENDPOINT_URL_SQS") or os.environ["AWS_ENDPOINT_URL"]
    state = running_stack()
    if state is None:
        if os.environ.get("AWS_PROFILE") or os.environ.get("AWS_ACCESS_KEY_ID"):
            return "AWS"
        raise SystemExit("no AWS endpoint: start `contribsync dev` in another terminal, or set AWS_ENDPOINT_URL")
    os.environ.update(aws_environment(state["aws_endpoint"]))
    os.environ.setdefault("CONTRIBSYNC_QUEUE_PREFIX", state["queue_prefix"])
    os.environ.setdefault("DATABASE_URL", state["database_url"])
    return state["aws_endpoint"]

"""The CLI's clients: where its commands find the database, the queues and GitHub.

``DATABASE_URL`` wins; otherwise the embedded Postgres under ``.local/`` is started (or reused). The
queues: ``AWS_ENDPOINT_URL`` (or ``AWS_ENDPOINT_URL_SQS``) when set, real AWS when credentials exist, else
a running ``contribsync dev`` (its ``.local/stack.json``: endpoint and queue prefix). GitHub:
the configured ``GITHUB_*``, or a simulator the command starts (never github.com unless configured).

Nothing here writes the environment: each command builds one ``Clients`` from the settings read here and
hands it on. Only ``contribsync invoke`` sets variables, for the handler it runs, as Lambda would.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

from contribsync.clients import Clients
from contribsync.db import Database, migrate
from contribsync.settings import Settings
from contribsync_local import postgres
from contribsync_local.aws import aws_environment
from contribsync_local.stack import REAL_GITHUB_ENV, STATE_FILE

if TYPE_CHECKING:
    from collections.abc import Mapping

    from contribsync.ai.summarizer import Summarizer
    from contribsync.queues import Queues
    from contribsync_sim.simulator import Simulator


def database_url() -> str:
    """``DATABASE_URL``, else the embedded Postgres (started on first use)."""
    return postgres.database_url()


def database() -> Database:
    """The database, migrated."""
    db = Database(database_url(), application_name="contribsync-cli")
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


def aws_target() -> dict[str, str]:
    """Where SQS is, as the variables boto3 reads: an explicit endpoint, real AWS, or the running dev stack
    (its endpoint, fake credentials and queue prefix). Exits when there is none."""
    if os.environ.get("AWS_ENDPOINT_URL") or os.environ.get("AWS_ENDPOINT_URL_SQS"):
        return {}
    state = running_stack()
    if state is None:
        if os.environ.get("AWS_PROFILE") or os.environ.get("AWS_ACCESS_KEY_ID"):
            return {}
        raise SystemExit("no AWS endpoint: start `contribsync dev` in another terminal, or set AWS_ENDPOINT_URL")
    return {**aws_environment(state["aws_endpoint"]), "CONTRIBSYNC_QUEUE_PREFIX": state["queue_prefix"]}


def environment(*, aws: bool = False) -> dict[str, str]:
    """The variables the commands read: this process's, and with ``aws`` the running dev stack's where
    this process sets none."""
    return {**(aws_target() if aws else {}), **os.environ}


def queues() -> Queues:
    """The queues (exits when no endpoint is known), under ``CONTRIBSYNC_QUEUE_PREFIX``."""
    return _queues(environment(aws=True))


def _queues(env: Mapping[str, str]) -> Queues:
    import boto3

    from contribsync.queues import Queues

    client: Any = boto3.client(
        "sqs", region_name=env.get("AWS_REGION", env.get("AWS_DEFAULT_REGION", "us-east-1")),
        endpoint_url=env.get("AWS_ENDPOINT_URL_SQS") or env.get("AWS_ENDPOINT_URL") or None,
        aws_access_key_id=env.get("AWS_ACCESS_KEY_ID"), aws_secret_access_key=env.get("AWS_SECRET_ACCESS_KEY"),
        aws_session_token=env.get("AWS_SESSION_TOKEN"))
    return Queues(client, prefix=env.get("CONTRIBSYNC_QUEUE_PREFIX", "contribsync"))


def simulator_unless_configured() -> Simulator | None:
    """A started GitHub simulator when no real GitHub is configured (the caller stops it)."""
    if any(os.environ.get(k) for k in REAL_GITHUB_ENV):
        return None
    from contribsync_sim.simulator import Simulator

    return Simulator().start()


def github_overrides(simulator: Simulator | None) -> dict[str, str]:
    from contribsync_sim.simulator import SIM_TOKEN

    return {"GITHUB_API_URL": simulator.url, "GITHUB_TOKEN": SIM_TOKEN} if simulator is not None else {}


def clients(*, with_queues: bool = False, simulator: Simulator | None = None,
            summarizer: Summarizer | None = None) -> Clients:
    """One command's clients: the migrated database; the queues with ``with_queues`` (exits when no endpoint
    is known); GitHub at ``simulator`` when given; ``summarizer`` in place of the configured one."""
    env = environment(aws=with_queues)
    settings = Settings.from_env({**env, "DATABASE_URL": database_url(), **github_overrides(simulator)})
    mine = Clients(settings, queues=_queues(env) if with_queues else None, summarizer=summarizer,
                   application_name="contribsync-cli")
    migrate(mine.db)
    return mine


__all__ = ["aws_target", "clients", "database", "database_url", "environment", "github_overrides",
           "queues", "running_stack", "simulator_unless_configured"]

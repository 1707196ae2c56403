"""``contribsync invoke FUNCTION -e EVENT``: one handler run in this process with a sample event, like
``sam local invoke`` without Docker.

The handler reads its configuration from the environment, as on Lambda, so this is the one command that
sets variables (for the handler it runs): the configured database, GitHub (a simulator unless one is
configured), and SQS (the running ``contribsync dev``'s, ``AWS_ENDPOINT_URL``, or a moto server of its own).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse

    from rich.console import Console


def invoke(args: argparse.Namespace) -> None:
    from contribsync.settings import LOCAL_STACK_ENV
    from contribsync_cli.local_env import (
        aws_target,
        database,
        github_overrides,
        running_stack,
        simulator_unless_configured,
    )
    from contribsync_local.aws import MotoServer, aws_environment, create_queues, sqs_client
    from contribsync_local.poller import LambdaContext
    from contribsync_local.stack import load_handler

    event = json.loads(Path(args.event).read_text())
    os.environ["DATABASE_URL"] = database().dsn
    simulator = simulator_unless_configured()
    os.environ.update(github_overrides(simulator))
    moto = None
    if not (os.environ.get("AWS_ENDPOINT_URL") or running_stack()):
        moto = MotoServer()
        os.environ.update(aws_environment(moto.start()))
        os.environ.setdefault("CONTRIBSYNC_QUEUE_PREFIX", "contribsync-invoke")
        create_queues(sqs_client(), os.environ["CONTRIBSYNC_QUEUE_PREFIX"])
    else:
        target = aws_target()
        os.environ.setdefault("CONTRIBSYNC_QUEUE_PREFIX", target.pop("CONTRIBSYNC_QUEUE_PREFIX", "contribsync"))
        os.environ.update(target)
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    os.environ[LOCAL_STACK_ENV] = "1"  # a local run: EventApi takes contributor-info from 127.0.0.1
    try:
        module = load_handler(args.function)
        result = module.lambda_handler(event, LambdaContext(args.function))
        print(json.dumps(result, indent=2, default=str))
    finally:
        if moto:
            moto.stop()
        if simulator:
            simulator.stop()


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], console: Console) -> None:
    i = sub.add_parser("invoke", help="run one handler in-process with an event file (sam local invoke, no Docker)")
    i.add_argument("function", help="Lambda function name, e.g. ClassifySingleRepository")
    i.add_argument("-e", "--event", required=True, help="event JSON file, e.g. events/....json")
    i.set_defaults(func=invoke)

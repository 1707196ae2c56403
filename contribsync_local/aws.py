"""moto's server as the local AWS endpoint, and the queues and DLQs of template.yaml created in it.

moto is used for every AWS call here because it implements the SQS semantics the runtime relies on
(redrive to the DLQ, visibility changes, DelaySeconds, long polling) and also Scheduler, SSM and
Secrets Manager. Its SQS slows down as a queue grows (about 200 messages/s with a
10-message backlog, 50/s with 100, measured here), which does not
matter for the tests and the demo (tens of messages). A faster SQS endpoint can be chosen without a
code change through ``AWS_ENDPOINT_URL_SQS``; the benchmarks do that.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import yaml

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

TEMPLATE = Path(__file__).resolve().parent.parent / "template.yaml"
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                    "AWS_SESSION_TOKEN": "testing"}


# Run in the child: moto's threaded server on a free port, which it prints, until its stdin closes (the
# parent stopped it, or died: no orphan is left behind). Its SQS queues are made thread-safe first
# (moto_sqs).
_CHILD = """
import logging, os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the stack, and the stack stops this
from contribsync_local import moto_sqs
moto_sqs.apply()
from moto.server import ThreadedMotoServer
logging.getLogger("werkzeug").setLevel(logging.WARNING)  # else one access-log line per SQS call
server = ThreadedMotoServer(ip_address="127.0.0.1", port=int(sys.argv[1]), verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
sys.stdin.read()
os._exit(0)  # nothing to flush: moto keeps its state in memory
"""


class MotoServer:
    """moto's server on 127.0.0.1 (a free port unless one is given), in a process of its own.

    Its own process, as AWS is outside a Lambda: moto's request handling is Python, and in the process of
    the local stack it would compete for the interpreter with every handler and poller there (measured:
    the webhook path ran at 0.73x moto's raw rate in one process). The child ends when its stdin
    closes, so it cannot outlive the process that started it."""

    def __init__(self, port: int = 0) -> None:
        self.port = port
        self.endpoint = ""
        self._process: subprocess.Popen[str] | None = None

    def start(self) -> str:
        self._process = subprocess.Popen(  # our own interpreter, fixed code
            [sys.executable, "-c", _CHILD, str(self.port)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True)
        assert self._process.stdout is not None
        line = self._process.stdout.readline().strip()
        if not line.isdigit():
            self.stop()
            raise RuntimeError(f"moto's server did not start (exit code {self._process.poll()})")
        self.endpoint = f"http://127.0.0.1:{line}"
        return self.endpoint

    @property
    def pid(self) -> int | None:
        """The server process's id while it runs (the benchmarks account its CPU time)."""
        return self._process.pid if self._process is not None else None

    def stop(self) -> None:
        if self._process is None:
            return
        with contextlib.suppress(OSError):
            assert self._process.stdin is not None
            self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()
        self._process = None


def aws_environment(endpoint: str, region: str = "us-east-1") -> dict[str, str]:
    """The variables that point boto3 (in this process and in handlers) at the local endpoint."""
    return {**FAKE_CREDENTIALS, "AWS_ENDPOINT_URL": endpoint, "AWS_DEFAULT_REGION": region,
            "AWS_REGION": region}


def sqs_client(region: str = "us-east-1", *, pool: int = 64) -> SQSClient:
    """An SQS client configured from the environment, as a Lambda would build it; its connection pool
    is sized for the local stack's poller threads, which share it."""
    from botocore.config import Config

    return boto3.client("sqs", region_name=os.environ.get("AWS_REGION", region),
                        config=Config(max_pool_connections=pool))


def template_queues(template: Path = TEMPLATE) -> dict[str, dict[str, Any]]:
    """The AWS::SQS::Queue resources of template.yaml, by logical id."""
    return copy.deepcopy(_queues(template, template.stat().st_mtime_ns))


@cache
def _queues(template: Path, mtime_ns: int) -> dict[str, dict[str, Any]]:
    # libyaml's loader when PyYAML has it: the pure-Python one takes about 1 s for the template, paid by
    # every `contribsync invoke` and every local stack start.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    resources = yaml.load(template.read_text(), Loader=loader)["Resources"]
    return {k: v["Properties"] for k, v in resources.items() if v["Type"] == "AWS::SQS::Queue"}


def _queue_name(props: dict[str, Any], prefix: str) -> str:
    name = props["QueueName"]
    text = name["Fn::Sub"] if isinstance(name, dict) else name
    return str(text).replace("${AWS::StackName}", prefix)


def create_queues(sqs: SQSClient, prefix: str, template: Path = TEMPLATE) -> dict[str, str]:
    """Create every queue of the template (DLQs first, so redrive policies can name them).

    Returns queue name → URL. Idempotent: existing queues are reused.
    """
    queues = template_queues(template)
    urls: dict[str, str] = {}
    arns: dict[str, str] = {}
    ordered = sorted(queues.items(), key=lambda kv: "RedrivePolicy" in kv[1])
    for logical_id, props in ordered:
        name = _queue_name(props, prefix)
        attributes: dict[str, str] = {
            k: str(props[k]) for k in ("VisibilityTimeout", "MessageRetentionPeriod") if k in props
        }
        if redrive := props.get("RedrivePolicy"):
            target = redrive["deadLetterTargetArn"]["Fn::GetAtt"][0]
            attributes["RedrivePolicy"] = json.dumps(
                {"deadLetterTargetArn": arns[target], "maxReceiveCount": int(redrive["maxReceiveCount"])}
            )
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]  # type: ignore[arg-type]
        urls[name] = url
        arns[logical_id] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
    return urls

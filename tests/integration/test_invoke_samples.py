"""Every events/*.json sample is accepted by `contribsync invoke` (the real handler, in-process).

One sample runs as a user's first `contribsync invoke` does, with nothing running: the command starts its
own moto and creates every queue. The others point it at an AWS endpoint whose queues exist
(``AWS_ENDPOINT_URL``), as with `contribsync dev` running, which saves each about two seconds.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from contribsync_local.aws import aws_environment, create_queues, sqs_client

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = sorted((ROOT / "events").glob("*.json"))

pytestmark = pytest.mark.integration


def _function(sample: Path) -> str:
    return "".join(part.capitalize() for part in sample.stem.split("_"))


def test_there_is_a_sample_for_every_function():
    from contribsync import catalog

    names = {_function(s) for s in SAMPLES}
    assert {e.function for e in catalog.EVENTS} | {"EventApi", "WebhookReceiver", "MigrateDatabase"} <= names


STANDALONE = "cancel_function"  # the sample invoked with nothing running


@pytest.fixture(scope="module")
def queues(aws_endpoint) -> str:
    prefix = f"invoke{uuid.uuid4().hex[:6]}"
    create_queues(sqs_client(), prefix)
    return prefix


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.stem)
def test_invoke_accepts_the_sample(sample, pg_dsn, tmp_path, aws_endpoint, queues, response_listener):
    event = json.loads(sample.read_text())
    if "ResponseURL" in event:  # CloudFormation's request: the answer goes to a listener here, not to S3
        sample = tmp_path / sample.name
        sample.write_text(json.dumps({**event, "ResponseURL": response_listener.url}))
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": pg_dsn, "HOME": str(tmp_path),
           "GITHUB_WEBHOOK_SECRET": "demo-webhook-secret", "POWERTOOLS_METRICS_DISABLED": "true"}
    if sample.stem != STANDALONE:
        env |= {**aws_environment(aws_endpoint), "CONTRIBSYNC_QUEUE_PREFIX": queues}
    command = [sys.executable, "-m", "contribsync_cli.main", "invoke", _function(sample), "-e", str(sample)]
    proc = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    # the pretty-printed result comes last, after the handler's JSON log lines; it opens with "{" alone
    out = "\n" + proc.stdout
    result = json.loads(out[out.rindex("\n{\n"):])
    if "ResponseURL" in event:  # the migrations of a migrated database: none to apply, and SUCCESS sent
        assert result["Status"] == "SUCCESS" and response_listener.bodies == [result]
    elif "Records" in event:
        # accepted = not reported back to SQS as a failure (a missing service dead-letters, by design)
        assert result == {"batchItemFailures": []}
    else:
        assert result["statusCode"] in (200, 202)

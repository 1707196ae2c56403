"""Every events/*.json sample is accepted by `contribsync invoke` (the real handler, in-process)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = sorted((ROOT / "events").glob("*.json"))

pytestmark = pytest.mark.integration


def _function(sample: Path) -> str:
    return "".join(part.capitalize() for part in sample.stem.split("_"))


def test_there_is_a_sample_for_every_function():
    from contribsync import catalog

    names = {_function(s) for s in SAMPLES}
    assert {e.function for e in catalog.EVENTS} | {"EventApi", "WebhookReceiver"} <= names


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.stem)
def test_invoke_accepts_the_sample(sample, pg_dsn, tmp_path):
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": pg_dsn, "HOME": str(tmp_path),
           "GITHUB_WEBHOOK_SECRET": "demo-webhook-secret", "POWERTOOLS_METRICS_DISABLED": "true"}
    command = [sys.executable, "-m", "contribsync_cli.main", "invoke", _function(sample), "-e", str(sample)]
    proc = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    # the pretty-printed result comes last, after the handler's JSON log lines; it opens with "{" alone
    out = "\n" + proc.stdout
    result = json.loads(out[out.rindex("\n{\n"):])
    if "Records" in json.loads(sample.read_text()):
        # accepted = not reported back to SQS as a failure (a missing service dead-letters, by design)
        assert result == {"batchItemFailures": []}
    else:
        assert result["statusCode"] in (200, 202)

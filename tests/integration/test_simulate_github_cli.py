"""``contribsync simulate-github`` as a user runs it: serves until interrupted, then reports its counters."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def test_simulate_github_serves_writes_ground_truth_and_reports(tmp_path):
    truth = tmp_path / "truth.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "contribsync_cli.main", "simulate-github", "--port", "0", "--repos", "1", "--prs", "12",
         "--seed", "5", "--ground-truth", str(truth)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+", first)
        assert url, first
        repo = httpx.get(f"{url.group(0)}/api/v3/repos/simorg/repo-0").json()
        pulls = httpx.get(f"{url.group(0)}/repos/simorg/repo-0/pulls", params={"state": "all"}).json()
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    facts = json.loads(truth.read_text())["repos"]["simorg/repo-0"]
    assert repo["id"] == facts["id"]
    assert len(pulls) == facts["pull_requests"]["total"] == 12
    assert "served 2 requests" in out

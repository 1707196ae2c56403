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


def test_simulate_github_as_an_app_on_several_owners(tmp_path):
    import time

    import jwt

    proc = subprocess.Popen(
        [sys.executable, "-m", "contribsync_cli.main", "simulate-github", "--port", "0", "--repos", "4", "--prs", "10",
         "--app-owners", "2"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout is not None
        url = re.search(r"http://127\.0\.0\.1:\d+", proc.stdout.readline()).group(0)
        proc.stdout.readline()  # the dataset
        hint = proc.stdout.readline()
        assert "GITHUB_APP_ID=1" in hint and "GITHUB_TOKEN" not in hint
        key = (tmp_path / ".local" / "github-sim-app.pem").read_text()
        now = int(time.time())
        bearer = jwt.encode({"iat": now - 60, "exp": now + 500, "iss": "1"}, key, algorithm="RS256")
        listed = httpx.get(f"{url}/app/installations", headers={"Authorization": f"Bearer {bearer}"}).json()
        token = httpx.post(f"{url}/app/installations/2/access_tokens",
                           headers={"Authorization": f"Bearer {bearer}"}).json()["token"]
        mine = httpx.get(f"{url}/repos/owner-1/repo-3", headers={"Authorization": f"Bearer {token}"})
        theirs = httpx.get(f"{url}/repos/owner-0/repo-0", headers={"Authorization": f"Bearer {token}"})
        anyone = httpx.get(f"{url}/repos/owner-1/repo-3", headers={"Authorization": "Bearer sim-token"})
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)
    assert [(i["id"], i["account"]["login"]) for i in listed] == [(1, "owner-0"), (2, "owner-1")]
    assert (mine.status_code, theirs.status_code, anyone.status_code) == (200, 404, 401)

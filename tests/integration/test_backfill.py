"""``contribsync backfill`` end to end on the local stack, against a simulated repository of about
2,000 pull requests: the dry run's plan, the run through the queues, its verification table (read as
a person would, from the captured terminal output), and the plan's points against those spent."""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from contribsync_cli.main import main
from contribsync_local.openai_fake import FakeOpenAI
from contribsync_local.stack import LocalStack
from contribsync_ops import OPS_SQL
from contribsync_sim.dataset import RepoSpec, generate
from contribsync_sim.simulator import Simulator

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def openai():
    with FakeOpenAI() as server:
        yield server


@pytest.fixture(scope="module")
def stack(isolated_database, aws_endpoint, openai):
    openai_env = {"OPENAI_API_KEY": "sk-test-not-a-real-key", "OPENAI_BASE_URL": openai.base_url}
    # repo-0 is backfilled; "small" stays on GitHub only, for what a backfill does with a repository not stored
    simulator = Simulator(dataset=generate(2024, layout=[RepoSpec("repo-0", 2000, True), RepoSpec("small", 30, False)]))
    with LocalStack(database_url=isolated_database(), port=0, prefix=f"bf{uuid.uuid4().hex[:6]}", cron=False,
                    retry_base_s=1, aws_endpoint=aws_endpoint, simulator=simulator, poller_concurrency=3,
                    environment=openai_env) as running:
        workspace = running.db.connection().execute(
            "INSERT INTO workspaces (name, slug) VALUES ('backfill', 'backfill') RETURNING id").fetchone()["id"]
        running.workspace_id = str(workspace)
        yield running


def repo_of(stack):
    return next(iter(stack.simulator.ds.repos.values()))


def test_backfill_plans_runs_and_verifies_a_2000_pr_repository(stack, capsys):
    repo = repo_of(stack)
    owner, name = repo.owner.login, repo.name
    truth = stack.simulator.ds.prs_by_repo[repo.id]
    assert len(truth) >= 2000

    # the dry run: GitHub's counts, points and cost, and nothing sent
    capsys.readouterr()
    main(["backfill", owner, name, "--dry-run", "--json"])
    plan = json.loads(capsys.readouterr().out)
    planned = plan["repositories"][0]
    assert planned["pull_requests"] == len(truth) and planned["stored"] is False
    assert planned["points"] > 0 and planned["embeddingTokens"] == planned["embeddingItems"] * 350
    assert stack.db.connection().execute("SELECT count(*) AS n FROM repositories").fetchone()["n"] == 0

    # the backfill itself, as a person runs it in a terminal
    started = datetime.now(UTC)
    main(["backfill", f"{owner}/{name}", "--full", "--wait-minutes", "6", "--skip-workspace"])
    out = capsys.readouterr().out
    assert "backfill complete" in out and "✘" not in out
    assert "verification" in out and f"{owner}/{name}" in out
    assert out.count("sent ") >= 3  # every event id sent is printed
    # ... and every follow-up the functions queued, with its id (the discovery's first sync, classify, ...)
    assert "follow-ups of" in out and "capture/repository.sync-enhanced (1)" in out
    follow_up = stack.db.connection().execute(
        "SELECT event_id FROM function_runs WHERE function = 'CaptureRepositorySyncEnhanced'").fetchone()
    assert follow_up["event_id"] in out
    for line in out.splitlines():
        assert len(line) <= 200  # a terminal's width, not a JSON dump

    stored = stack.db.query_one("repository_by_full_name", {"owner": owner, "name": name})
    assert stored is not None
    verified = stack.db.query_one("backfill_verify", {"repository_id": stored["id"], "since": started}, folder=OPS_SQL)
    assert verified["pull_requests"] == len(truth)
    coverage = stack.db.query("embeddings_coverage", {"workspace_id": None, "repository_id": stored["id"],
                                                      "model": "text-embedding-3-small"}, folder=OPS_SQL)
    assert coverage and all(c["fresh"] == c["items"] for c in coverage)
    # the plan's GitHub points are within 20% of what the sync logs recorded
    used = verified["points_used"]
    assert used > 0
    assert abs(planned["points"] - used) <= 0.2 * used, (planned["points"], used)


def test_a_workspace_backfill_aggregates_it_and_a_missing_repository_fails(stack, capsys):
    repo = repo_of(stack)
    stored = stack.db.query_one("repository_by_full_name", {"owner": repo.owner.login, "name": repo.name})
    stack.db.connection().execute("INSERT INTO workspace_repositories (workspace_id, repository_id) VALUES (%s, %s)"
                                  " ON CONFLICT DO NOTHING", (stack.workspace_id, stored["id"]))
    capsys.readouterr()
    main(["backfill", "--workspace", stack.workspace_id, "--skip-embeddings", "--time-range", "7",
          "--wait-minutes", "3"])
    out = capsys.readouterr().out
    assert "3. workspace aggregation: 1/1 workspaces aggregated" in out and "backfill complete" in out
    cached = stack.db.query("workspace_metrics_read", {"workspace_id": stack.workspace_id}, folder=OPS_SQL)
    assert len(cached) == 5

    with pytest.raises(SystemExit) as exited:
        main(["backfill", "nobody/nothing-here", "--dry-run"])
    assert "GitHub has no such repository" in str(exited.value)
    assert os.environ.get("GITHUB_API_URL", "").startswith("http://127.0.0.1")


def test_a_full_backfill_rereads_a_synced_repository_and_restores_what_was_lost(stack, capsys):
    repo = repo_of(stack)
    stored = stack.db.query_one("repository_by_full_name", {"owner": repo.owner.login, "name": repo.name})
    truth = len(stack.simulator.ds.prs_by_repo[repo.id])
    db = stack.db.connection()
    db.execute("DELETE FROM comments WHERE pull_request_id IN (SELECT id FROM pull_requests WHERE repository_id = %s"
               " AND number %% 10 = 0)", (stored["id"],))
    db.execute("DELETE FROM reviews WHERE pull_request_id IN (SELECT id FROM pull_requests WHERE repository_id = %s"
               " AND number %% 10 = 0)", (stored["id"],))
    db.execute("DELETE FROM pull_requests WHERE repository_id = %s AND number %% 10 = 0", (stored["id"],))
    db.commit()
    # an incremental sync would stop at the watermark; --full reads everything again
    main(["backfill", f"{repo.owner.login}/{repo.name}", "--full", "--skip-embeddings", "--skip-workspace",
          "--wait-minutes", "6"])
    out = capsys.readouterr().out
    assert '"full": true' in out and "backfill complete" in out
    count = db.execute("SELECT count(*) AS n FROM pull_requests WHERE repository_id = %s", (stored["id"],)).fetchone()
    assert count["n"] == truth


def test_embeddings_only_on_a_repository_not_stored_fails_clearly(stack, capsys):
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        main(["backfill", "simorg/small", "--embeddings-only", "--wait-minutes", "1"])
    assert exited.value.code == 1
    out = capsys.readouterr().out
    assert "--embeddings-only: simorg/small not stored" in out and "backfill complete" not in out
    assert stack.db.query_one("repository_by_full_name", {"owner": "simorg", "name": "small"}) is None


def test_a_time_range_backfill_of_a_repository_not_stored_reads_only_those_days(stack, capsys):
    small = next(r for r in stack.simulator.ds.repos.values() if r.name == "small")
    prs = sorted(stack.simulator.ds.prs_by_repo[small.id], key=lambda pr: pr.updated_at)
    started = datetime.now(UTC)
    days = (started - prs[len(prs) // 2].updated_at).days  # the simulated history ends in the past: half in range
    capsys.readouterr()
    main(["backfill", "simorg/small", "--time-range", str(days), "--skip-embeddings", "--skip-workspace",
          "--wait-minutes", "3"])
    out = capsys.readouterr().out
    assert f'"timeRange": {days}' in out and "backfill complete" in out
    stored = {r["number"] for r in stack.db.connection().execute(
        "SELECT p.number FROM pull_requests p JOIN repositories r ON r.id = p.repository_id WHERE r.name = 'small'")}
    slack = timedelta(minutes=2)  # the sync's "now" and this test's a moment apart
    recent = {pr.number for pr in prs if pr.updated_at >= started - timedelta(days=days) + slack}
    older = {pr.number for pr in prs if pr.updated_at < started - timedelta(days=days) - slack}
    assert recent and older  # the range takes some and leaves some out
    assert recent <= stored and not stored & older


def test_embeddings_skipped_for_want_of_a_key_say_why_and_fail_the_backfill(isolated_database, aws_endpoint, capsys):
    simulator = Simulator(dataset=generate(5, repos=1, prs_per_repo=12))
    with LocalStack(database_url=isolated_database(), port=0, prefix=f"bk{uuid.uuid4().hex[:6]}", cron=False,
                    retry_base_s=1, aws_endpoint=aws_endpoint, simulator=simulator,
                    environment={"OPENAI_API_KEY": ""}):
        repo = next(iter(simulator.ds.repos.values()))
        capsys.readouterr()
        with pytest.raises(SystemExit) as exited:
            main(["backfill", repo.full_name, "--full", "--skip-workspace", "--wait-minutes", "3"])
        out = capsys.readouterr().out
    assert exited.value.code == 1
    assert "2. embeddings" in out and "skipped: OPENAI_API_KEY is not set" in out.replace("\n", " ")
    assert "backfill incomplete" in out and "✘" in out  # the verification fails on the embeddings

"""The workspace jobs on the local stack: crons fired by the cron driver's (fast-forwarded) clock, a
repository joining a workspace through its queue (discovery and first sync of a repository never
synced), the aggregation after it, and the cleanup's 90-day boundary."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from contribsync.history import RunHistory
from contribsync_local.scheduler import CronDriver
from contribsync_local.stack import LocalStack
from contribsync_sim.dataset import generate
from contribsync_sim.simulator import Simulator

pytestmark = pytest.mark.integration

SUNDAY = datetime(2026, 3, 1, 0, 30, tzinfo=UTC)  # the weekly cleanup fires at 03:00 on Sundays


@pytest.fixture(scope="module")
def simulator():
    return Simulator(dataset=generate(811, repos=2, prs_per_repo=12))


@pytest.fixture(scope="module")
def stack(isolated_database, aws_endpoint, simulator):
    with LocalStack(database_url=isolated_database(), port=0, prefix=f"wsj{uuid.uuid4().hex[:6]}", cron=False,
                    retry_base_s=1, aws_endpoint=aws_endpoint, simulator=simulator) as running:
        yield running


def sql(stack, query: str, *params) -> list[dict]:
    cur = stack.db.connection().execute(query, params)
    return cur.fetchall() if cur.description else []


def workspace(stack, name: str) -> str:
    return str(sql(stack, "INSERT INTO workspaces (name, slug) VALUES (%s, %s) RETURNING id", name, name)[0]["id"])


def completed(stack, function: str) -> list[dict]:
    return [r for r in RunHistory(stack.db).recent(function=function, limit=200) if r["status"] == "completed"]


def test_each_cron_runs_as_of_the_time_the_driver_fired_it(stack):
    ws = workspace(stack, "cron-clock")
    repo = sql(stack, """INSERT INTO repositories (github_id, full_name, owner, name)
                         VALUES (990001, 'c/one', 'c', 'one') RETURNING id""")[0]["id"]
    sql(stack, "INSERT INTO workspace_repositories (workspace_id, repository_id) VALUES (%s, %s)", ws, repo)
    author = sql(stack, "INSERT INTO contributors (github_id, username) VALUES (990001, 'cron-author') "
                        "RETURNING id")[0]["id"]
    # one PR on the day before the aggregation fires, one an hour after it fired (in the future of its as_of)
    for number, created in ((1, datetime(2026, 3, 1, 12, tzinfo=UTC)), (2, datetime(2026, 3, 2, 1, tzinfo=UTC))):
        sql(stack, """INSERT INTO pull_requests (github_id, repository_id, repository_full_name, number, title, state,
                          author_id, base_branch, head_branch, created_at, updated_at)
                      VALUES (%s, %s, 'c/one', %s, 't', 'open', %s, 'main', 'h', %s, %s)""",
            990000 + number, repo, number, author, created, created)
    # daily rows on each side of the cleanup's boundary: the run on Sunday 2026-03-01 keeps 90 days
    for day in (date(2025, 11, 30), date(2025, 12, 1)):
        sql(stack, "INSERT INTO workspace_metrics_history (workspace_id, metric_date) VALUES (%s, %s)", ws, day)

    driver = CronDriver(stack.queues, start=SUNDAY, only=(
        "scheduled/workspace-aggregation", "cleanup/workspace-metrics", "sync/workspace-priorities"))
    fired = driver.tick(datetime(2026, 3, 2, 1, 30, tzinfo=UTC))
    names = [name for name, _ in fired]
    assert names.count("scheduled/workspace-aggregation") == 1
    assert names.count("cleanup/workspace-metrics") == 1
    assert names.count("sync/workspace-priorities") == 25  # hourly, 01:00 Sunday to 01:00 Monday
    assert stack.wait_idle(120, until=lambda: len(completed(stack, "AggregateWorkspaceMetrics")) >= 1
                           and len(completed(stack, "CleanupWorkspaceMetrics")) >= 1
                           and len(completed(stack, "SyncWorkspacePriorities")) >= 25)

    fanout = completed(stack, "ScheduledWorkspaceAggregation")[0]["result"]
    assert fanout["asOf"] == "2026-03-02T00:00:00+00:00"
    cache = sql(stack, "SELECT period_end, total_prs FROM workspace_metrics_cache WHERE workspace_id = %s "
                       "AND time_range = 'all'", ws)[0]
    assert cache["period_end"] == datetime(2026, 3, 2, tzinfo=UTC)
    assert cache["total_prs"] == 1  # the PR created after the fire time is not in these metrics
    days = {r["metric_date"]: r for r in sql(
        stack, "SELECT metric_date, daily_prs, total_prs FROM workspace_metrics_history WHERE workspace_id = %s", ws)}
    assert days[date(2026, 3, 1)]["daily_prs"] == 1 and days[date(2026, 3, 1)]["total_prs"] == 1
    assert days[date(2026, 3, 2)]["daily_prs"] == 0

    cleanup = completed(stack, "CleanupWorkspaceMetrics")[0]["result"]
    assert cleanup["before"] == "2025-12-01" and cleanup["deleted"] == 1 and cleanup["retentionDays"] == 90
    assert date(2025, 12, 1) in days and date(2025, 11, 30) not in days  # exactly 90 days old stays

    as_of = sorted(r["result"]["asOf"] for r in completed(stack, "SyncWorkspacePriorities"))
    assert as_of[0] == "2026-03-01T01:00:00+00:00" and as_of[-1] == "2026-03-02T01:00:00+00:00"


def test_a_repository_never_synced_joins_through_its_queue_and_is_discovered_and_synced(stack, simulator):
    ws = workspace(stack, "joiners")
    repos = sorted(simulator.ds.repos.values(), key=lambda r: r.id)
    ids = []
    for r in repos:  # stored (e.g. by a webhook) but never synced and not tracked
        ids.append(str(sql(stack, """INSERT INTO repositories (github_id, full_name, owner, name)
                                     VALUES (%s, %s, %s, %s) RETURNING id""",
                           r.id, f"{r.owner.login}/{r.name}", r.owner.login, r.name)[0]["id"]))
    for repository_id in ids:
        stack.queues.send_event("workspace/repository-change",
                                {"workspaceId": ws, "repositoryId": repository_id, "action": "added"})
    assert stack.wait_idle(180)

    changes = completed(stack, "WorkspaceRepositoryChange")
    assert sorted(c["result"]["followUp"] for c in changes) == ["discover/new-repository"] * 2
    expected = {str(i): len(simulator.ds.prs_by_repo[r.id]) for i, r in zip(ids, repos, strict=True)}
    stored = {str(r["repository_id"]): r["n"] for r in sql(
        stack, "SELECT repository_id, count(*) AS n FROM pull_requests WHERE repository_id = ANY(%s::uuid[]) "
               "GROUP BY repository_id", ids)}
    assert stored == expected

    stack.queues.send_event("aggregate/workspace-metrics", {"workspaceId": ws, "forceRefresh": True})
    assert stack.wait_idle(60)
    total = sql(stack, "SELECT total_prs FROM workspace_metrics_cache WHERE workspace_id = %s AND time_range = 'all'",
                ws)[0]["total_prs"]
    assert total == sum(expected.values())
    totals = sql(stack, "SELECT total_repositories, total_pull_requests FROM workspaces WHERE id = %s", ws)[0]
    assert totals == {"total_repositories": 2, "total_pull_requests": sum(expected.values())}
    queue = sql(stack, "SELECT status, priority, triggered_by FROM workspace_aggregation_queue WHERE workspace_id = %s "
                       "ORDER BY time_range", ws)
    assert {(q["status"], q["triggered_by"]) for q in queue} >= {("completed", "event"),
                                                                  ("completed", "repository-added")}


def test_a_change_for_a_missing_workspace_or_repository_fails_for_good(stack):
    ws = workspace(stack, "missing-things")
    stack.queues.send_event("workspace/repository-change",
                            {"workspaceId": str(uuid.uuid4()), "repositoryId": str(uuid.uuid4()), "action": "added"})
    stack.queues.send_event("workspace/repository-change",
                            {"workspaceId": ws, "repositoryId": str(uuid.uuid4()), "action": "added"})
    assert stack.wait_idle(60)
    failed = [r for r in RunHistory(stack.db).recent(function="WorkspaceRepositoryChange", limit=50)
              if r["status"] == "failed"]
    errors = sorted(r["error"] for r in failed)
    assert len(failed) == 2 and all(r["dead_lettered"] for r in failed)
    assert "is not stored" in errors[0] + errors[1] and "does not exist" in errors[0] + errors[1]


def test_the_driver_sends_what_the_template_schedule_sends_with_its_own_fire_time():
    queues = _NullQueues()
    driver = CronDriver(queues, start=datetime(2026, 1, 1, tzinfo=UTC), only=("cleanup/workspace-metrics",))
    fired = driver.tick(datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=21))
    assert [at for _, at in fired] == [datetime(2026, 1, 4, 3, tzinfo=UTC), datetime(2026, 1, 11, 3, tzinfo=UTC),
                                       datetime(2026, 1, 18, 3, tzinfo=UTC)]
    assert queues.sent[0] == ("cleanup/workspace-metrics", {"scheduledAt": "2026-01-04T03:00:00+00:00"},
                              "cron:cleanup/workspace-metrics:2026-01-04T03:00:00+00:00")


class _NullQueues:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict, str | None]] = []

    def send_event(self, name, data=None, *, id=None):
        self.sent.append((name, dict(data or {}), id))
        return id

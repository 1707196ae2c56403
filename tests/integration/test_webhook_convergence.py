"""Webhooks end to end: after a full sync, the simulator's change mode makes 150 changes (500 in
``make chaos``); every delivery is sent three times, all of them shuffled, through the receiver, SQS and
the webhook functions. The database must then equal the simulator's dataset exactly: nothing lost,
nothing duplicated, nothing deleted brought back, no older state winning."""

from __future__ import annotations

import os
import random
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from contribsync_local.stack import LocalStack
from contribsync_sim.dataset import generate
from contribsync_sim.graphql_api import iso
from contribsync_sim.simulator import Simulator

pytestmark = pytest.mark.integration

# Sized for `make test` on a busy 2-core machine (about 15 s here when idle, against the 300 s timeout);
# `make chaos` runs the full size (CONTRIBSYNC_TEST_SIZE=full).
CHANGES = 500 if os.environ.get("CONTRIBSYNC_TEST_SIZE") == "full" else 150
COPIES = 3
SECRET = "convergence-secret"


@pytest.fixture(scope="module")
def converged(isolated_database, aws_endpoint):
    simulator = Simulator(dataset=generate(83, repos=2, prs_per_repo=40))
    with LocalStack(database_url=isolated_database(), port=0, prefix=f"conv{uuid.uuid4().hex[:6]}", cron=False,
                    retry_base_s=1, aws_endpoint=aws_endpoint, simulator=simulator,
                    poller_concurrency=4, environment={"GITHUB_WEBHOOK_SECRET": SECRET}) as stack:
        ds = simulator.ds
        for repo in ds.repos.values():
            stack.queues.send_event("capture/repository.sync-enhanced", {"owner": repo.owner.login,
                                                                         "repo": repo.name})
        assert stack.wait_idle(240)
        for row in stack.db.connection().execute("SELECT id FROM repositories").fetchall():
            stack.queues.send_event("capture/repository.issues", {"repositoryId": str(row["id"]), "timeRange": 3650})
        assert stack.wait_idle(240)
        feed = simulator.feed(SECRET, seed=84)
        deliveries = [d for _ in range(CHANGES) for d in feed.step()]
        sends = deliveries * COPIES
        random.Random(85).shuffle(sends)
        with httpx.Client(timeout=30) as client, ThreadPoolExecutor(8) as pool:
            statuses = Counter(pool.map(
                lambda d: client.post(f"{stack.http.url}/webhook", content=d.body, headers=d.headers).status_code,
                sends))
        assert stack.wait_idle(300), "the webhook functions did not drain their queues"
        yield stack, ds, deliveries, statuses


def rows(stack: LocalStack, query: str, *params: object) -> list[dict]:
    return stack.db.connection().execute(query, params).fetchall()


def test_every_copy_is_acknowledged_and_each_delivery_processed_once(converged):
    stack, _, deliveries, statuses = converged
    assert statuses == Counter({202: len(deliveries) * COPIES})
    stored = rows(stack, "SELECT delivery_id, status FROM webhook_deliveries")
    assert sorted(r["delivery_id"] for r in stored) == sorted(d.id for d in deliveries)
    assert {r["status"] for r in stored} == {"processed"}
    completed = rows(stack, "SELECT event_id, count(*) AS n FROM function_runs WHERE function LIKE 'Apply%%'"
                            " AND status = 'completed' GROUP BY event_id")
    assert len(completed) == len(deliveries) and {r["n"] for r in completed} == {1}
    assert rows(stack, "SELECT function, error FROM function_runs WHERE status = 'failed'") == []
    assert {d.event for d in deliveries} >= {"pull_request", "pull_request_review", "pull_request_review_comment",
                                             "issues", "issue_comment"}


def test_pull_requests_equal_the_dataset(converged):
    stack, ds, deliveries, _ = converged
    stored = {r["github_id"]: r for r in rows(stack, "SELECT * FROM pull_requests")}
    prs = [pr for repo_prs in ds.prs_by_repo.values() for pr in repo_prs]
    assert sorted(stored) == sorted(pr.id for pr in prs)
    states = {"OPEN": "open", "CLOSED": "closed", "MERGED": "merged"}
    payloads = [(d.event, d.action, d.payload) for d in deliveries]

    def seen(pr) -> list[tuple]:  # what GitHub sent about a pull request, for the failure message only
        return [(event, action, (p.get("pull_request") or p.get("issue") or {}).get("updated_at"),
                 (p.get("pull_request") or p.get("issue") or {}).get("state"))
                for event, action, p in payloads if (p.get("pull_request") or {}).get("id") == pr.id
                or ((p.get("issue") or {}).get("number") == pr.number and p["repository"]["id"] == pr.repo_id)]

    for pr in prs:
        row = stored[pr.id]
        assert (row["number"], row["title"], row["body"] or "", row["state"], row["draft"]) == (
            pr.number, pr.title, pr.body, states[pr.state], pr.draft), (seen(pr), row["updated_at"],
                                                                        row["last_synced_at"])
        assert (iso(row["updated_at"]), iso(row["merged_at"]), iso(row["closed_at"])) == (
            iso(pr.updated_at), iso(pr.merged_at), iso(pr.closed_at))


def test_reviews_and_review_comments_equal_the_dataset(converged):
    stack, ds, _, _ = converged
    reviews = {r["github_id"]: r for r in rows(stack, "SELECT github_id, state, body FROM reviews")}
    expected = [r for pr_reviews in ds.reviews_by_pr.values() for r in pr_reviews]
    assert sorted(reviews) == sorted(r.id for r in expected)
    for review in expected:
        assert (reviews[review.id]["state"], reviews[review.id]["body"]) == (review.state, review.body)
    inline = {r["github_id"]: r["body"] for r in rows(
        stack, "SELECT github_id, body FROM comments WHERE comment_type = 'review_comment'")}
    assert inline == {c.id: c.body for pr_comments in ds.review_comments_by_pr.values() for c in pr_comments}


def test_conversation_comments_and_issues_equal_the_dataset(converged):
    stack, ds, deliveries, _ = converged
    comments = {r["github_id"]: r["body"] for r in rows(
        stack, "SELECT github_id, body FROM comments WHERE comment_type = 'issue_comment'")}
    assert comments == {c.id: c.body for c in ds.issue_comments.values()}
    deleted = {d.payload["comment"]["id"] for d in deliveries
               if d.event == "issue_comment" and d.action == "deleted"}
    assert deleted and not deleted & set(comments)  # deletions stuck whatever the order
    issues = {r["github_id"]: r for r in rows(stack, "SELECT github_id, number, title, state FROM issues")}
    expected = [i for repo_issues in ds.issues_by_repo.values() for i in repo_issues]
    assert sorted(issues) == sorted(i.id for i in expected)
    for issue in expected:
        assert (issues[issue.id]["number"], issues[issue.id]["title"], issues[issue.id]["state"]) == (
            issue.number, issue.title, issue.state.lower())

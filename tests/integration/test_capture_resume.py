"""A sync killed mid-run (the Lambda dies; SQS redelivers the message) resumes from its checkpoint: the
simulator sees no page fetched twice except those in flight, and the database has no duplicates.
(The sync pages three state streams in parallel; the kill stops all of them, as a dying Lambda would.)"""

from __future__ import annotations

import json
import threading

import httpx
import pytest

from contribsync import catalog, services
from contribsync.github.client import GitHubClient
from contribsync.history import RunHistory
from contribsync.runtime import Runtime
from contribsync.services import capture
from contribsync_local.poller import lambda_sqs_event
from contribsync_sim.dataset import generate, ground_truth
from contribsync_sim.simulator import Simulator
from tests.fakes import clients

pytestmark = pytest.mark.integration

PRS = 600  # seven pages of up to 100 over the three state streams
KILL_AT_PAGE = 4


class Killed(BaseException):
    """The Lambda process dying: nothing in the runtime may catch it."""


class KillingTransport(httpx.BaseTransport):
    """Lets the ``kill_at``-th pull request page reach GitHub, then dies before the answer is used;
    after that nothing more leaves the (dead) process."""

    def __init__(self, kill_at: int) -> None:
        self.inner = httpx.HTTPTransport()
        self.kill_at = kill_at
        self.pages = 0
        self.dead = False
        self.lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.dead:
            raise Killed
        response = self.inner.handle_request(request)
        if b"PullRequestsPage" in request.content:
            with self.lock:
                self.pages += 1
                if self.pages == self.kill_at:
                    self.dead = True
            if self.dead:
                response.read()
                raise Killed
        return response


@pytest.fixture
def simulator():
    sim = Simulator(dataset=generate(51, repos=1, prs_per_repo=PRS))
    served = sim.app.graphql
    cursors: list[str | None] = []

    def recording(request):
        payload = json.loads(request.get_data() or b"{}")
        if "PullRequestsPage" in payload.get("query", ""):
            variables = payload["variables"]
            cursors.append((tuple(variables.get("states") or ()), variables.get("after")))
        return served(request)

    sim.app.graphql = recording
    sim.cursors = cursors
    with sim:
        yield sim


def deliver(queues, sqs, event) -> dict:
    messages = sqs.receive_message(QueueUrl=queues.url(event.queue), MaxNumberOfMessages=1, WaitTimeSeconds=2,
                                   AttributeNames=["All"], MessageAttributeNames=["All"])["Messages"]
    return lambda_sqs_event(messages, queue_arn=f"arn:aws:sqs:us-east-1:000000000000:{event.queue}",
                            region="us-east-1")


def test_a_killed_sync_resumes_from_its_checkpoint(simulator, isolated_db, queues, sqs):
    db = isolated_db
    event = catalog.resolve("capture/repository.sync-enhanced")
    repo = next(iter(simulator.ds.repos.values()))
    event_id = queues.send_event(event.name, {"owner": repo.owner.login, "repo": repo.name})

    killer = GitHubClient(base_url=simulator.url, tokens=["t"], transport=KillingTransport(KILL_AT_PAGE))
    first = deliver(queues, sqs, event)
    with pytest.raises(Killed):
        Runtime(event, clients(db, queues, github=killer), service=services.load(event)).handle(first, None)
    stored_before = db.connection().execute("SELECT count(*) AS n FROM pull_requests").fetchone()["n"]
    assert 0 < stored_before < PRS  # the pages stored before the one in flight

    sqs.change_message_visibility(QueueUrl=queues.url(event.queue),
                                  ReceiptHandle=first["Records"][0]["receiptHandle"], VisibilityTimeout=0)
    again = deliver(queues, sqs, event)
    assert again["Records"][0]["attributes"]["ApproximateReceiveCount"] == "2"
    fresh = GitHubClient(base_url=simulator.url, tokens=["t"])
    assert Runtime(event, clients(db, queues, github=fresh),
                   service=services.load(event)).handle(again, None) == {"batchItemFailures": []}

    by_state = {s: sum(p.state == s for p in simulator.ds.prs.values()) for s in ("OPEN", "CLOSED", "MERGED")}
    pages = sum(-(-n // capture.PAGE_PRS) for n in by_state.values())
    cursors = simulator.cursors
    # Every page once, plus those in flight when it died: the one that killed it and, as the three state
    # streams page in parallel, any other stream's page GitHub had answered but the dead process never
    # stored (on a busy machine, two or three were seen in flight). Each of those is fetched once more.
    repeated = [c for c in set(cursors) if cursors.count(c) > 1]
    assert 1 <= len(repeated) <= len(by_state)
    assert all(cursors.count(c) == 2 for c in repeated)
    assert len(cursors) == pages + len(repeated)
    counts = db.connection().execute(
        "SELECT count(*) AS n, count(DISTINCT github_id) AS d, count(DISTINCT number) AS numbers"
        " FROM pull_requests").fetchone()
    assert counts["n"] == counts["d"] == counts["numbers"] == PRS
    truth = ground_truth(simulator.ds)["repos"][repo.full_name]
    reviews = db.connection().execute("SELECT count(*) AS n FROM reviews").fetchone()["n"]
    assert reviews == truth["reviews"]
    runs = [r for r in RunHistory(db).recent(limit=50) if r["event_id"] == event_id]
    completed = next(r for r in runs if r["status"] == "completed")
    assert completed["result"]["resumed"] is True and completed["result"]["pages"] == pages
    assert db.connection().execute("SELECT count(*) AS n FROM run_progress").fetchone()["n"] == 0


def test_a_page_lost_with_its_transaction_is_fetched_again_while_other_streams_store_theirs(
        simulator, isolated_db, queues, sqs):
    """The three state streams share the run's progress. When one stream's page is lost (its transaction
    fails: the connection dropped), the other streams keep storing theirs, each with the progress; the
    lost page's cursor must not be among it, or the retry would resume after a page never stored."""
    from contextlib import contextmanager

    from contribsync.db import Database
    from contribsync.errors import StoreError

    class LosesTheFirstPage(Database):
        lost = False
        lock = threading.Lock()

        @contextmanager
        def transaction(self):
            with super().transaction() as conn:
                yield conn
                with self.lock:
                    lose = not self.lost and threading.current_thread().name.startswith("sync-stream")
                    self.lost = self.lost or lose
                if lose:  # rolled back, as a transaction whose connection dropped
                    raise StoreError("database error: terminating connection due to administrator command")

    event = catalog.resolve("capture/repository.sync-enhanced")
    repo = next(iter(simulator.ds.repos.values()))
    queues.send_event(event.name, {"owner": repo.owner.login, "repo": repo.name})
    flaky = LosesTheFirstPage(isolated_db.dsn)
    github = GitHubClient(base_url=simulator.url, tokens=["t"])
    first = deliver(queues, sqs, event)
    try:
        response = Runtime(event, clients(flaky, queues, github=github, retry_base_s=1),
                           service=services.load(event)).handle(first, None)
    finally:
        flaky.close()
    assert flaky.lost and len(response["batchItemFailures"]) == 1  # retried
    sqs.change_message_visibility(QueueUrl=queues.url(event.queue),
                                  ReceiptHandle=first["Records"][0]["receiptHandle"], VisibilityTimeout=0)
    again = deliver(queues, sqs, event)
    assert Runtime(event, clients(isolated_db, queues, github=github),
                   service=services.load(event)).handle(again, None) == {
        "batchItemFailures": []}
    counts = isolated_db.connection().execute(
        "SELECT count(*) AS n, count(DISTINCT github_id) AS d FROM pull_requests").fetchone()
    assert counts["n"] == counts["d"] == PRS

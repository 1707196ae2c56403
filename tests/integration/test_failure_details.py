"""A failed or retried run keeps its failure in full, on the real parts: the GitHub simulator answering 502
in the middle of a sync's pages, moto's SQS, the embedded Postgres. What is kept (type, message, the
traceback of our frames, the step with GitHub's request id) is read back from ``function_runs``, through
``contribsync runs --failed`` and ``contribsync runs RUN_ID``."""

from __future__ import annotations

import io
import json
import re
import uuid

import pytest
from rich.console import Console

from contribsync import catalog, services
from contribsync.catalog import Event
from contribsync.db import Database
from contribsync.errors import GitHubUnavailable
from contribsync.github.client import GitHubClient
from contribsync.history import FAILED_STATUSES, RunHistory
from contribsync.payloads import RepositoryIssues
from contribsync.queues import Queues
from contribsync.runtime import Runtime
from contribsync_cli import main as cli
from contribsync_local.aws import create_queues, sqs_client
from contribsync_local.poller import lambda_sqs_event
from contribsync_sim.dataset import generate
from contribsync_sim.simulator import Simulator
from tests.fakes import clients

pytestmark = pytest.mark.integration

PRS = 450  # the largest of the three state streams has more than one page of 100
TOKEN = "ghp_" + "Q7w8E9r0" * 5  # the token the GitHub client sends: never in what a run keeps
OPENAI_KEY = "sk-" + "M1n2B3v4" * 4
FILE_OF_THIS_TEST = "integration/test_failure_details.py"


def deliver(queues: Queues, event: Event, *, receive_count: int | None = None) -> dict:
    """The next message of ``event``'s queue as Lambda hands it over (``receive_count`` as if SQS had
    handed it out that many times, so a test can reach the last attempt at once)."""
    sqs = queues.sqs
    messages = sqs.receive_message(QueueUrl=queues.url(event.queue), MaxNumberOfMessages=1, WaitTimeSeconds=2,
                                   AttributeNames=["All"], MessageAttributeNames=["All"])["Messages"]
    if receive_count is not None:
        messages[0]["Attributes"]["ApproximateReceiveCount"] = str(receive_count)
    return lambda_sqs_event(messages, queue_arn=f"arn:aws:sqs:us-east-1:000000000000:{event.queue}",
                            region="us-east-1")


def frames(traceback: str) -> list[str]:
    """The files of a stored traceback's frames, in order."""
    return re.findall(r'^  File "([^"]+)", line \d+, in ', traceback, re.MULTILINE)


def request_id_in(message: str) -> str:
    found = re.search(r"X-GitHub-Request-Id: (SIM:[0-9A-F]+)", message)
    assert found, message
    return found.group(1)


@pytest.fixture(scope="module")
def module_queues(aws_endpoint):
    sqs = sqs_client()
    prefix = f"f{uuid.uuid4().hex[:8]}"
    create_queues(sqs, prefix)
    return Queues(sqs, prefix=prefix)


@pytest.fixture(scope="module")
def failed_sync(isolated_database, module_queues):
    """An enhanced sync whose largest state stream is answered 502 from its second page on (the simulator's
    own error answer, with its request id): the run is retried, and keeps where it failed."""
    db = Database(isolated_database(), application_name="contribsync-tests")
    sim = Simulator(dataset=generate(52, repos=1, prs_per_repo=PRS))
    by_state = {s: sum(p.state == s for p in sim.ds.prs.values()) for s in ("OPEN", "CLOSED", "MERGED")}
    state = max(by_state, key=lambda s: by_state[s])
    assert by_state[state] > 100
    served = sim.app.graphql

    def second_page_fails(request):
        payload = json.loads(request.get_data() or b"{}")
        variables = payload.get("variables") or {}
        if ("PullRequestsPage" in payload.get("query", "") and variables.get("states") == [state]
                and variables.get("after") is not None):
            return 502, {"message": "Server Error"}, {}, 0, 0
        return served(request)

    sim.app.graphql = second_page_fails
    event = catalog.resolve("capture/repository.sync-enhanced")
    repo = next(iter(sim.ds.repos.values()))
    with sim:
        github = GitHubClient(base_url=sim.url, tokens=[TOKEN], sleep=lambda _s: None)
        event_id = module_queues.send_event(event.name, {"owner": repo.owner.login, "repo": repo.name})
        runtime = Runtime(event, clients(db, module_queues, github=github, github_tokens=(TOKEN,)),
                          service=services.load(event))
        response = runtime.handle(deliver(module_queues, event), None)
    assert len(response["batchItemFailures"]) == 1  # retried: SQS hands it out again after the backoff
    run = next(r for r in RunHistory(db).recent(limit=20) if r["event_id"] == event_id)
    progress = db.connection().execute("SELECT progress FROM run_progress WHERE event_id = %s",
                                       (event_id,)).fetchone()["progress"]
    yield {"db": db, "run": run, "state": state, "progress": progress}
    db.close()


def test_a_sync_failing_mid_page_keeps_the_type_message_step_and_request_id(failed_sync):
    run, state = failed_sync["run"], failed_sync["state"]
    stream = failed_sync["progress"]["streams"][state]
    # THEN the run is retrying, with the error's type and GitHub's message as before
    assert (run["status"], run["attempt"], run["dead_lettered"]) == ("retrying", 1, False)
    assert run["error_type"] == "GitHubUnavailable"
    assert run["error"].startswith("GraphQL pull_requests_page: 502 Server Error (X-GitHub-Request-Id: SIM:")
    # and the step: the stream, its page and the cursor it was asked after (the first page's, stored with
    # it), the request and GitHub's request id
    assert stream["pages"] == 1
    assert run["error_step"] == {"stream": state, "page": 2, "after": stream["cursor"],
                                 "github_request": "GraphQL pull_requests_page",
                                 "github_request_id": request_id_in(run["error"])}


def test_the_traceback_holds_our_frames_only_most_recent_last(failed_sync):
    traceback = failed_sync["run"]["error_traceback"]
    files = frames(traceback)
    # our frames, from the runtime through the stream's thread to the client, and nothing else
    assert files[0] == "contribsync/runtime/attempt.py"
    assert files[-2:] == ["contribsync/github/client.py", "contribsync/github/client.py"]
    assert all(f.startswith("contribsync/") for f in files)
    for where in ("in repository_sync_enhanced\n", "in stream\n", "in _page_stream\n", "in _send_once\n"):
        assert where in traceback
    assert re.search(r"^  \[\d+ frames? of other code\]$", traceback, re.MULTILINE)  # the thread pool's
    for foreign in ("concurrent", "threading", "httpx", "site-packages", "/work/", "/usr/"):
        assert foreign not in traceback
    assert traceback.endswith(f"contribsync.errors.GitHubUnavailable: {failed_sync['run']['error']}\n")
    assert len(traceback) <= 4096
    assert TOKEN not in json.dumps(failed_sync["run"], default=str)


def test_runs_failed_shows_the_error_the_step_and_where(failed_sync, monkeypatch):
    # GIVEN the CLI reading this database, printing wide enough for a row per line
    out = io.StringIO()
    monkeypatch.setenv("DATABASE_URL", failed_sync["db"].dsn)
    monkeypatch.setattr(cli, "console", Console(file=out, width=400))
    run = failed_sync["run"]
    # WHEN
    cli.main(["runs", "--failed", "--function", "CaptureRepositorySyncEnhanced"])
    # THEN its row: the run's 8 characters, the error, the step and the last frame of ours
    lines = out.getvalue().splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith(str(run["id"])[:8]))
    assert lines[first].endswith("CaptureRepositorySyncEnhanced  attempt 1  retrying")
    assert lines[first + 1] == f"  GitHubUnavailable: {run['error']}"
    step = lines[first + 2]
    assert step.startswith("  at ") and f"stream={failed_sync['state']}" in step and " page=2 " in step
    assert step.endswith(f"github_request=GraphQL pull_requests_page "
                         f"github_request_id={run['error_step']['github_request_id']}")
    assert re.fullmatch(r"  in contribsync/github/client\.py:\d+ in _send_once", lines[first + 3])
    # --failed is retrying and failed runs only
    monkeypatch.setattr(cli, "console", Console(file=(other := io.StringIO()), width=400))
    cli.main(["runs", "--failed", "--function", "CapturePrReviews"])
    assert str(run["id"])[:8] not in other.getvalue()


def test_runs_run_id_shows_one_run_in_full(failed_sync, monkeypatch, capsys):
    out = io.StringIO()
    monkeypatch.setenv("DATABASE_URL", failed_sync["db"].dsn)
    monkeypatch.setattr(cli, "console", Console(file=out, width=400))
    run = failed_sync["run"]
    # WHEN asked by the 8 characters `runs` prints
    cli.main(["runs", str(run["id"])[:8]])
    printed = out.getvalue()
    # THEN the run, its error, every key of its step, and its traceback as stored
    assert str(run["id"]) in printed and "CaptureRepositorySyncEnhanced" in printed
    assert f"GitHubUnavailable: {run['error']}" in printed
    for key, value in run["error_step"].items():
        assert re.search(rf"^  {key} +{re.escape(str(value))} *$", printed, re.MULTILINE), key
    assert run["error_traceback"].rstrip("\n") in printed
    assert "attempts of this event" in printed
    # and as JSON
    cli.main(["runs", str(run["id"]), "--json"])
    shown = json.loads(capsys.readouterr().out)
    assert shown["error_step"] == run["error_step"] and shown["error_traceback"] == run["error_traceback"]
    assert [a["status"] for a in shown["attempts"]] == ["retrying"]
    # an unknown run is said so
    with pytest.raises(SystemExit, match="no run ffffffff"):
        cli.main(["runs", "ffffffff"])


def test_a_non_retriable_failure_is_dead_lettered_with_its_pull_request_and_request_id(isolated_db, module_queues):
    # GIVEN a pull request GitHub does not have
    sim = Simulator(dataset=generate(53, repos=1, prs_per_repo=5))
    event = catalog.resolve("capture/pr.details")
    repo = next(iter(sim.ds.repos.values()))
    with sim:
        github = GitHubClient(base_url=sim.url, tokens=[TOKEN], sleep=lambda _s: None)
        event_id = module_queues.send_event(event.name, {"repository": {"owner": repo.owner.login,
                                                                         "name": repo.name}, "pr_number": 99999})
        # WHEN its details are captured
        response = Runtime(event, clients(isolated_db, module_queues, github=github, github_tokens=(TOKEN,)),
                           service=services.load(event)).handle(deliver(module_queues, event), None)
    # THEN it fails for good at once, and keeps which pull request, which page, and GitHub's request id
    assert response == {"batchItemFailures": []}
    run = next(r for r in RunHistory(isolated_db).recent(limit=20) if r["event_id"] == event_id)
    assert (run["status"], run["dead_lettered"], run["error_type"]) == ("failed", True, "NotFound")
    step = run["error_step"]
    assert {k: step[k] for k in ("pr", "page", "github_request")} == {
        "pr": 99999, "page": 1, "github_request": "GraphQL pull_request_details"}
    assert step["github_request_id"].startswith("SIM:")
    assert "in _pr_details\n" in run["error_traceback"]
    (dead,) = module_queues.dead_letters(event.dlq)
    assert dead["error"] == f"NotFound: {run['error']}"


def test_retries_spent_keep_the_failure_with_the_services_own_frames_and_no_secret(db, module_queues):
    # GIVEN a service (defined here, as a handler may define its own) that fails inside a step of its own,
    # with the GitHub token and the OpenAI key in its messages, from an error GitHub answered
    def leaky(data, ctx):
        ctx.at(listing="issues")
        with ctx.step(issue=7, url=f"https://api.github.com/x?access_token={TOKEN}"):
            try:
                raise GitHubUnavailable(f"GET /x: 502 with {TOKEN}", request_id="AB:CD", request="GET /x?page=3")
            except GitHubUnavailable as exc:
                raise RuntimeError(f"gave up with token {TOKEN} and key {OPENAI_KEY}") from exc

    event = Event(name="test/failure-details", model=RepositoryIssues, function="CaptureRepositoryIssues",
                  service=None, retries=2)
    runtime = Runtime(event, clients(db, module_queues, github_tokens=(TOKEN,), openai_api_key=OPENAI_KEY),
                      service=leaky)
    event_id = str(uuid.uuid4())
    module_queues.send_raw(event.queue, json.dumps({"name": event.name, "id": event_id,
                                                    "data": {"repositoryId": str(uuid.uuid4())}}))
    # WHEN its last attempt fails
    runtime.handle(deliver(module_queues, event, receive_count=event.max_receive_count), None)
    # THEN it failed for good, with everything kept, masked
    (run,) = [r for r in RunHistory(db).recent(status=FAILED_STATUSES, limit=500) if r["event_id"] == event_id]
    assert (run["status"], run["attempt"], run["dead_lettered"]) == ("failed", 3, True)
    assert (run["error_type"], run["error"]) == ("RuntimeError", "gave up with token *** and key ***")
    assert run["error_step"] == {"listing": "issues", "issue": 7, "url": "https://api.github.com/x?access_token=***",
                                 "github_request": "GET /x?page=3", "github_request_id": "AB:CD"}
    # the cause's frame, then the runtime's and the service's: the step's context manager leaves no frame
    assert frames(run["error_traceback"]) == [FILE_OF_THIS_TEST, "contribsync/runtime/attempt.py", FILE_OF_THIS_TEST]
    assert "GitHubUnavailable: GET /x: 502 with *** (X-GitHub-Request-Id: AB:CD)" in run["error_traceback"]
    stored = json.dumps(run, default=str)
    dead = [m for m in module_queues.dead_letters(event.dlq) if event_id in m["body"]]
    for secret in (TOKEN, OPENAI_KEY):
        assert secret not in stored
        assert secret not in dead[0]["error"]

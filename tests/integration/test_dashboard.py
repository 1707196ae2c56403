"""The dashboard ``contribsync dev`` serves, looked at as a person would: Debian's headless Chromium
(``make .chromium``) loads the pages of a local stack that has a completed run, two failures and their
dead letters, and the test reads what is shown on screen and follows the links."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime

import httpx
import pytest

from contribsync.history import RunHistory
from contribsync.runtime.failure import Failure
from contribsync_local.stack import LocalStack
from devtools.browser import ChromiumNotFound, chromium

pytestmark = pytest.mark.integration

POISON = '<b>not json</b> {"name": '


@pytest.fixture(scope="module")
def stack(isolated_database, aws_endpoint):
    with LocalStack(database_url=isolated_database(), port=0, prefix=f"ui{uuid.uuid4().hex[:6]}", cron=False,
                    retry_base_s=1, aws_endpoint=aws_endpoint, github="sim") as running:
        yield running


@pytest.fixture(scope="module")
def runs(stack):
    """A completed run, a run that fails for good (its message dead-lettered), and a poison message."""
    # GIVEN
    missing = str(uuid.uuid4())
    stack.queues.send_event("cleanup/workspace-metrics", {"retentionDays": 30})
    stack.queues.send_event("classify/single-repository", {"repositoryId": missing})
    stack.queues.send_raw("capture-pr-details", POISON)
    history = RunHistory(stack.db)

    def settled() -> bool:
        return (len(history.recent(status="failed", limit=10)) == 2
                and len(history.recent(status="completed", limit=10)) == 1
                and len(stack.queues.dead_letters("classify-single-repository-dlq")) == 1
                and len(stack.queues.dead_letters("capture-pr-details-dlq")) == 1)

    assert stack.wait_idle(30, until=settled), history.recent(limit=10)
    return {"missing": missing}


@pytest.fixture(scope="module")
def browser():
    try:
        with chromium() as running:
            yield running
    except ChromiumNotFound as exc:
        pytest.fail(f"the dashboard test needs headless Chromium: {exc}")


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    yield context.new_page()
    context.close()


def cells(row) -> list[str]:
    """A table row as a person reads it: one text per cell."""
    return [c.strip() for c in row.locator("td").all_inner_texts()]


def test_the_overview_shows_totals_functions_and_failures(stack, runs, page):
    # WHEN
    page.goto(f"{stack.http.url}/")

    # THEN
    assert page.title() == "Overview · contribsync"
    cards = {" ".join(t.split()[1:]): t.split()[0] for t in page.locator(".card").all_inner_texts()}
    assert cards["dead-lettered"] == "2"
    assert cards["failed in the last hour"] == "2"
    assert cards["queued"] == "0"

    header = [h.strip() for h in page.locator("#functions th").all_inner_texts()]
    classify = cells(page.locator("#functions tbody tr", has_text="ClassifySingleRepository"))
    row = dict(zip(header, classify, strict=True))
    assert row["Function"].split() == ["ClassifySingleRepository", "classify/single-repository"]
    assert (row["DLQ"], row["Failed 1 h"], row["Done 1 h"], row["Running"]) == ("1", "1", "0", "0")
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\n.* ago", row["Last run (UTC)"])
    cleanup = dict(zip(header, cells(page.locator("#functions tbody tr", has_text="CleanupWorkspaceMetrics")),
                       strict=True))
    assert (cleanup["Done 1 h"], cleanup["DLQ"], cleanup["Schedule"]) == ("1", "0", "0 3 * * 0")
    assert cleanup["Last cron fire (UTC)"] == "never"
    idle = dict(zip(header, cells(page.locator("#functions tbody tr", has_text="CapturePrReviews")), strict=True))
    assert (idle["Last run (UTC)"], idle["Schedule"]) == ("never", "on events")

    failures = page.locator("#failures").inner_text()
    assert f"NotFound: repository {runs['missing']} is not stored" in failures
    assert "CapturePrDetails" in failures and "InvalidEvent: invalid message" in failures
    assert "No GitHub budget recorded yet" in page.locator("main").inner_text()


def test_from_the_overview_to_a_function_to_its_failed_run(stack, runs, page):
    page.goto(f"{stack.http.url}/")

    # WHEN a person follows the function's link, then the run's
    page.locator("#functions").get_by_role("link", name="ClassifySingleRepository").click()

    # THEN the function's page: its history and its dead letter with the reason
    assert page.url == f"{stack.http.url}/functions/ClassifySingleRepository"
    assert page.locator("h1").inner_text() == "ClassifySingleRepository"
    history = cells(page.locator("#runs tbody tr").first)
    assert history[1].split() == ["failed", "→", "DLQ"]
    assert history[2] == "1"  # attempt
    assert re.fullmatch(r"\d+ ms|\d+\.\d s", history[3])
    assert history[5] == f"NotFound: repository {runs['missing']} is not stored"
    dead = cells(page.locator("#dlq tbody tr"))
    assert dead[1].startswith("classify/single-repository")
    assert dead[2] == "1"  # attempts spent
    assert dead[3] == f"NotFound: repository {runs['missing']} is not stored"
    assert json.loads(dead[4]) == {"repositoryId": runs["missing"]}

    page.locator("#runs").get_by_role("link", name="details").first.click()
    assert re.fullmatch(rf"{re.escape(stack.http.url)}/runs/[0-9a-f-]{{36}}", page.url)
    assert page.locator("h1").inner_text().split() == ["ClassifySingleRepository", "·", "failed", "→", "DLQ"]
    assert page.locator("#error").inner_text() == f"NotFound: repository {runs['missing']} is not stored"
    traceback = page.locator("#traceback").inner_text()  # our frames, down to the service that raised
    assert 'File "contribsync/services/classify.py"' in traceback and "in classify_single" in traceback
    assert traceback.endswith(f"contribsync.errors.NotFound: repository {runs['missing']} is not stored")
    assert page.locator("#step").count() == 0  # the service said no step, and GitHub was not asked
    assert json.loads(page.locator("#data").inner_text()) == {"repositoryId": runs["missing"]}
    assert "No result." in page.locator("main").inner_text()
    assert [cells(r)[2].split()[0] for r in page.locator("#attempts tbody tr").all()] == ["failed"]

    # and back up through the breadcrumb
    page.locator("main").get_by_role("link", name="ClassifySingleRepository").first.click()
    assert page.url == f"{stack.http.url}/functions/ClassifySingleRepository"


def test_a_completed_run_shows_its_result(stack, runs, page):
    page.goto(f"{stack.http.url}/functions/CleanupWorkspaceMetrics")
    row = cells(page.locator("#runs tbody tr").first)
    assert row[1] == "completed"
    assert '"retentionDays": 30' in row[5]
    assert page.locator("#dlq").count() == 0
    assert "The DLQ is empty." in page.locator("main").inner_text()

    page.locator("#runs").get_by_role("link", name="details").click()
    assert json.loads(page.locator("#result").inner_text())["retentionDays"] == 30
    assert json.loads(page.locator("#data").inner_text()) == {"retentionDays": 30}
    assert page.locator("#error").count() == 0


def test_a_poison_message_is_shown_as_text_with_its_reason(stack, runs, page):
    page.goto(f"{stack.http.url}/functions/CapturePrDetails")
    dead = cells(page.locator("#dlq tbody tr"))
    assert dead[1] == "not an event"
    assert dead[3].startswith("InvalidEvent: invalid message")
    assert dead[4] == POISON.strip()  # escaped: the markup is shown, not rendered
    assert page.locator("#dlq b").count() == 0


def test_the_status_filter_shows_only_that_status(stack, runs, page):
    page.goto(f"{stack.http.url}/functions/ClassifySingleRepository")
    page.locator("nav.filters").get_by_role("link", name="completed").click()
    assert page.url.endswith("?status=completed")
    assert "No completed runs yet." in page.locator("main").inner_text()
    page.locator("nav.filters").get_by_role("link", name="failed").click()
    assert [cells(r)[1].split()[0] for r in page.locator("#runs tbody tr").all()] == ["failed"]


def test_a_failures_step_and_traceback_are_shown_as_text(stack, runs, page):
    # GIVEN a retried run whose message, step and traceback hold markup
    traceback = ('Traceback (most recent call last):\n  File "contribsync/services/issues.py", line 9, in f\n'
                 '    raise ValueError("<i>x</i>")\nValueError: <b>bold</b> & <script>alert(1)</script>\n')
    failure = Failure("ValueError", "<b>bold</b> & <script>alert(1)</script>", traceback,
                      {"stream": "<em>OPEN</em>", "page": 2, "github_request_id": "<u>AB:1</u>"})
    run_id = RunHistory(stack.db).record(
        event_id=str(uuid.uuid4()), event_name="capture/issue.comments", function="CaptureIssueComments",
        key=None, attempt=1, status="retrying", data={"issueNumber": 1}, message_id=None,
        now=datetime.now(UTC), failure=failure)
    # WHEN its function's page, then its own, are loaded
    page.goto(f"{stack.http.url}/functions/CaptureIssueComments")
    row = page.locator("#runs tbody tr", has_text="<b>bold</b>")
    assert row.locator(".step").inner_text() == "page=2 stream=<em>OPEN</em> github_request_id=<u>AB:1</u>"
    page.goto(f"{stack.http.url}/runs/{run_id}")
    # THEN every part is the text stored, and nothing of it became markup
    assert page.locator("#error").inner_text() == "ValueError: <b>bold</b> & <script>alert(1)</script>"
    facts = dict(zip(page.locator("#step dt").all_inner_texts(), page.locator("#step dd").all_inner_texts(),
                     strict=True))
    assert facts == {"page": "2", "stream": "<em>OPEN</em>", "github_request_id": "<u>AB:1</u>"}
    assert page.locator("#traceback").inner_text() == traceback.rstrip("\n")
    assert page.locator("main b, main i, main em, main u, script").count() == 0


def test_unknown_pages_say_so(stack, runs, page):
    response = page.goto(f"{stack.http.url}/functions/NoSuchFunction")
    assert response is not None and response.status == 404
    assert "No function named 'NoSuchFunction'" in page.locator("main").inner_text()
    response = page.goto(f"{stack.http.url}/runs/{uuid.uuid4()}")
    assert response is not None and response.status == 404
    assert "run history" in page.locator("main").inner_text()


def test_the_dashboard_is_read_only(stack, runs):
    for path in ("/", "/functions/ClassifySingleRepository", "/dashboard"):
        for method in ("POST", "PUT", "DELETE"):
            response = httpx.request(method, f"{stack.http.url}{path}", content=b"{}")
            assert response.status_code == 405, (method, path)
            assert response.headers["allow"] == "GET, HEAD"
            assert "read-only" in response.text.lower()
    assert httpx.head(f"{stack.http.url}/").status_code == 200
    # the Function URL routes are unchanged
    assert httpx.get(f"{stack.http.url}/healthz").json()["status"] == "ok"
    assert httpx.post(f"{stack.http.url}/e/not-the-key", json={"name": "x", "data": {}}).status_code == 401

"""What a failed run keeps (``contribsync.runtime.failure``): the traceback trimmed to our frames, the step
a service said it was at (``RunContext.step`` / ``at``), GitHub's request id, and secrets masked."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from contribsync.errors import GitHubUnavailable, NotFound
from contribsync.github.client import GitHubClient
from contribsync.runtime import RunContext
from contribsync.runtime.failure import (
    MAX_CHARS,
    MAX_FRAMES,
    Failure,
    Masker,
    innermost_frame,
    step_line,
    step_of,
    trimmed_traceback,
)
from contribsync.settings import Settings
from tests.fakes import clients

HERE = [__file__]  # this file is "ours" in these tests, as a handler's file is for its own service
TOKEN = "ghp_" + "A1b2C3d4" * 5
OPENAI_KEY = "sk-proj-" + "Z9y8X7w6" * 4


def raised(function, *args):
    try:
        function(*args)
    except Exception as exc:
        return exc
    raise AssertionError("nothing raised")


def context() -> RunContext:
    return RunContext("event-1", "test/job", "TestFunction", 1, {}, clients())


# -- the traceback ----------------------------------------------------------------------------------------


def parse(text: str) -> None:
    secret_local = "a-local-variable-no-traceback-may-show"  # noqa: F841 - the frames must not show it
    json.loads(text)


def test_other_code_is_one_line_and_our_frames_are_shown_with_their_source():
    # GIVEN a failure raised inside the standard library, called from our code
    exc = raised(parse, "{not json")
    # WHEN its traceback is trimmed
    text = trimmed_traceback(exc, code=HERE)
    # THEN our frames are there, relative and with their source line; json's are counted, not shown
    assert 'File "unit/test_failure.py"' in text
    assert "in parse\n    json.loads(text)\n" in text
    assert "  [3 frames of other code]\n" in text
    assert "json/decoder.py" not in text and "/usr/" not in text
    assert text.startswith("Traceback (most recent call last):\n")
    assert text.endswith("json.decoder.JSONDecodeError: Expecting property name enclosed in double quotes: "
                         "line 1 column 2 (char 1)\n")
    # frames, never local variables
    assert "a-local-variable" not in text


def test_without_code_of_its_own_only_the_layer_counts_as_ours():
    exc = raised(parse, "{")
    text = trimmed_traceback(exc)
    assert "test_failure.py" not in text
    assert "[5 frames of other code]" in text  # raised(), parse() and json's three


def ping(depth: int) -> None:
    if depth == 0:
        raise ValueError("deep")
    pong(depth - 1)


def pong(depth: int) -> None:  # two functions in turn: Python would fold one function's repeated frames
    ping(depth)


def test_at_most_the_last_frames_of_ours_are_kept():
    exc = raised(ping, 15)  # raised(), then 16 ping and 15 pong frames
    text = trimmed_traceback(exc, code=HERE)
    assert text.count('File "unit/test_failure.py"') == MAX_FRAMES
    assert "[12 earlier frames of ours left out]" in text
    assert text.endswith('    raise ValueError("deep")\nValueError: deep\n')  # most recent call last


def chained(n: int) -> None:
    try:
        if n == 0:
            raise RuntimeError("x" * 3000)
        chained(n - 1)
    except Exception as exc:
        raise ValueError(f"level {n} " + "y" * 3000) from exc


def test_a_long_chain_is_cut_from_its_start_to_the_size_cap():
    exc = raised(chained, 5)
    text = trimmed_traceback(exc, code=HERE)
    assert len(text) <= MAX_CHARS
    assert text.startswith(f"[cut to its last {MAX_CHARS} characters]\n")
    assert text.rstrip().endswith("…")  # the last exception's line, itself cut
    assert "ValueError: level 5 yyy" in text
    assert "The above exception was the direct cause of the following exception:" in text


def test_the_layer_is_ours_and_httpx_is_not():
    # GIVEN the GitHub client failing on 502s, in a worker thread as the enhanced sync pages
    def bad_gateway(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502, json={"message": "Server Error"}, headers={"x-github-request-id": "AB12:3"})

    github = GitHubClient(base_url="https://api.github.com", tokens=[TOKEN],
                          transport=httpx.MockTransport(bad_gateway), sleep=lambda _s: None)

    def page() -> None:
        with ThreadPoolExecutor(1) as pool:
            pool.submit(github.graphql, "issues_page", {"first": 50}).result()

    exc = raised(page)
    # WHEN
    failure = Failure.of(exc, code=HERE)
    # THEN
    assert failure.type == "GitHubUnavailable"
    assert failure.message == "GraphQL issues_page: 502 Server Error (X-GitHub-Request-Id: AB12:3)"
    assert failure.step == {"github_request": "GraphQL issues_page", "github_request_id": "AB12:3"}
    text = failure.traceback or ""
    frames = [line for line in text.splitlines() if line.startswith('  File "')]
    assert [f.split('"')[1] for f in frames] == ["unit/test_failure.py", "unit/test_failure.py",
                                                 "contribsync/github/client.py", "contribsync/github/client.py"]
    assert "concurrent" not in text and "httpx" not in text and "site-packages" not in text
    assert innermost_frame(text) is not None and innermost_frame(text).endswith(" in _send_once")


# -- the step ---------------------------------------------------------------------------------------------


def test_a_step_merges_over_the_steps_around_it_and_an_inner_one_wins():
    ctx = context()

    def fail() -> None:
        with ctx.step(stream="OPEN"):
            ctx.at(page=1)
            ctx.at(page=2, after="Y3Vyc29y")
            with ctx.step(pr=42):
                ctx.at(after=None)  # None removes a key
                raise NotFound("no pull request #42")

    with ctx.step():
        exc = raised(fail)
    assert step_of(exc) == {"stream": "OPEN", "page": 2, "pr": 42}


def test_at_holds_until_its_step_ends_and_does_nothing_outside_one():
    ctx = context()
    ctx.at(page=9)  # no step open: nothing kept, nothing raised
    with ctx.step(stream="MERGED"):
        ctx.at(page=3)
    with ctx.step():
        caught = raised(ping, 0)  # raised and caught inside the block: it never left a step
    assert step_of(caught) is None

    def fail() -> None:
        with ctx.step():
            ctx.at(issue=7)
            raise ValueError("x")

    assert step_of(raised(fail)) == {"issue": 7}  # nothing of the MERGED step, nor of page=9


def test_each_thread_has_its_own_steps():
    ctx = context()
    seen: dict[str, dict | None] = {}
    ready = threading.Barrier(3)

    def stream(state: str) -> None:
        try:
            with ctx.step(stream=state):
                ready.wait()
                ctx.at(page={"OPEN": 1, "CLOSED": 2, "MERGED": 3}[state])
                ready.wait()
                raise GitHubUnavailable(f"{state} page failed")
        except GitHubUnavailable as exc:
            seen[state] = step_of(exc)

    threads = [threading.Thread(target=stream, args=(s,)) for s in ("OPEN", "CLOSED", "MERGED")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == {"OPEN": {"stream": "OPEN", "page": 1}, "CLOSED": {"stream": "CLOSED", "page": 2},
                    "MERGED": {"stream": "MERGED", "page": 3}}


def test_the_step_and_githubs_request_id_are_found_through_the_chain():
    ctx = context()

    def translated() -> None:
        try:
            with ctx.step(pr=5):
                raise NotFound("GET /repos/o/r/pulls/5: 404 Not Found", request_id="F00D:1", status=404,
                               request="GET /repos/o/r/pulls/5")
        except NotFound as exc:
            raise NotFound("o/r has no pull request #5") from exc

    failure = Failure.of(raised(translated))
    assert failure.message == "o/r has no pull request #5"
    assert failure.step == {"pr": 5, "github_request": "GET /repos/o/r/pulls/5", "github_request_id": "F00D:1"}
    assert step_line(failure.step) == "pr=5 github_request=GET /repos/o/r/pulls/5 github_request_id=F00D:1"


# -- secrets ----------------------------------------------------------------------------------------------


def leak(secret: str) -> None:
    try:
        raise ConnectionError(f"refused for Bearer {secret}")
    except ConnectionError as exc:
        raise RuntimeError(f"token {secret} and key {OPENAI_KEY} at postgresql://app:pa55word-9@db/x") from exc


def test_secrets_are_masked_in_the_message_the_traceback_and_the_step():
    ctx = context()

    def failing() -> None:
        with ctx.step(request=f"https://x/?token={TOKEN}"):
            leak(TOKEN)

    failure = Failure.of(raised(failing), code=HERE, mask=Masker(["configured-secret-value"]))
    stored = json.dumps([failure.message, failure.traceback, failure.step])
    for secret in (TOKEN, OPENAI_KEY, "pa55word-9"):
        assert secret not in stored
    assert failure.message == "token *** and key *** at postgresql://app:***@db/x"
    assert "ConnectionError: refused for Bearer ***" in (failure.traceback or "")
    assert failure.step == {"request": "https://x/?token=***"}


def test_configured_secrets_are_masked_whatever_their_shape_but_not_short_ones():
    mask = Masker(["plain-webhook-secret", "t"])
    assert mask("signed with plain-webhook-secret by t") == "signed with *** by t"
    assert mask("nul\x00byte") == "nulbyte"  # what a Postgres text refuses


def test_settings_name_every_secret_they_hold():
    settings = Settings(database_url="postgresql://app:db-pass-1234@host/db", github_tokens=(TOKEN, "ghp_2"),
                        github_app_private_key="-----BEGIN KEY-----", webhook_secrets=("hook-secret",),
                        openai_api_key=OPENAI_KEY, event_keys=("contributor-info", "private-event-key"))
    assert set(settings.secrets()) == {TOKEN, "ghp_2", "-----BEGIN KEY-----", "hook-secret", OPENAI_KEY,
                                       "private-event-key", "db-pass-1234"}
    assert Settings(database_url="host=h password=x").secrets() == ()


def test_a_brief_failure_keeps_the_reason_alone():
    failure = Failure.brief(GitHubUnavailable(f"down for {TOKEN}", request_id="R:1"))
    assert failure == Failure("GitHubUnavailable", "down for *** (X-GitHub-Request-Id: R:1)")
    assert failure.summary == "GitHubUnavailable: down for *** (X-GitHub-Request-Id: R:1)"


@pytest.mark.parametrize(("text", "frame"), [
    (None, None),
    ("ValueError: x\n", None),
    ('Traceback (most recent call last):\n  File "contribsync/a.py", line 3, in f\n    g()\n'
     '  File "contribsync/b.py", line 9, in g\n    raise ValueError\nValueError\n', "contribsync/b.py:9 in g"),
])
def test_the_innermost_frame_is_read_from_a_stored_traceback(text, frame):
    assert innermost_frame(text) == frame

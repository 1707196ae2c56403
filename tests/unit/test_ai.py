"""The summary client: contributor.info's prompt, the hash, cleaning and cutting, spacing, and failures as reasons.

OpenAI is replaced by ``httpx.MockTransport``, under the official client (``http_client=``); nothing leaves
the process, except for a fresh interpreter that checks when ``openai`` is imported.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from contribsync.ai.summarizer import (
    NoSummaries,
    OpenAISummarizer,
    Summary,
    content_hash,
    cut,
    plain_text,
    summarizer_from_settings,
    summary_prompt,
)
from contribsync.observability import logger
from contribsync.settings import Settings

KEY = "sk-test-Zq81SECRETkey0000"


def completion(content, **message):
    return {"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content, **message},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 80, "completion_tokens": 20, "total_tokens": 100}}


class Recorder:
    """A MockTransport handler that records requests and answers what the test says."""

    def __init__(self, answer=None, clock=None):
        self.answer = answer or (lambda request: httpx.Response(200, json=completion("A summary.")))
        self.clock = clock
        self.requests: list[httpx.Request] = []
        self.times: list[float] = []

    def __call__(self, request):
        self.requests.append(request)
        if self.clock is not None:
            self.times.append(self.clock.now)
        return self.answer(request)


class FakeClock:
    def __init__(self):
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def summarizer(answer=None, *, key=KEY, clock=None, **kwargs):
    recorder = Recorder(answer, clock)
    if clock is not None:
        kwargs.update(clock=clock, sleep=clock.sleep)
    return OpenAISummarizer(key, http_client=httpx.Client(transport=httpx.MockTransport(recorder)), **kwargs), recorder


@pytest.fixture
def log_output():
    """What the Powertools logger writes, formatted as on Lambda."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    yield stream.getvalue
    logger.removeHandler(handler)


# -- prompt and hash --------------------------------------------------------------------------------


def test_prompt_is_contributor_infos():
    assert summary_prompt("How to cache?", "Body text") == (
        "Summarize this GitHub discussion in 1-2 concise sentences (max 150 chars). Focus on the MAIN QUESTION "
        "or TOPIC and KEY POINTS. Use plain text only.\n\nTitle: How to cache?\nBody: Body text\n\nSummary:"
    )


def test_prompt_takes_the_first_500_characters_of_the_body():
    prompt = summary_prompt("T", "a" * 500 + "b" * 100)
    assert "Body: " + "a" * 500 + "\n\nSummary:" in prompt
    assert "b" not in prompt.split("Body: ")[1]


def test_prompt_without_body():
    assert "Title: T\nBody: \n\nSummary:" in summary_prompt("T", None)


def test_content_hash_is_sha256_of_title_newline_body():
    assert content_hash("Title", "Body") == hashlib.sha256(b"Title\nBody").hexdigest()
    assert content_hash("T", None) == content_hash("T", "")
    assert len({content_hash("a", "b"), content_hash("a", "c"), content_hash("b", "b"), content_hash("a\nb", "")}) == 4


def test_content_hash_accepts_lone_surrogates():
    assert content_hash("T", "broken \ud800 emoji") != content_hash("T", "broken  emoji")


# -- cleaning and cutting ---------------------------------------------------------------------------


@pytest.mark.parametrize(("answer", "expected"), [
    ("  A short one.  ", "A short one."),
    ("Summary: **Caching** in `redis` with [docs](https://x.y/z).", "Caching in redis with docs."),
    ('"Asks how to cache results."', "Asks how to cache results."),
    ("# Heading\n- first point\n- second *point*", "Heading first point second point"),
    ("Keeps __init__ and snake_case_names.", "Keeps __init__ and snake_case_names."),
    ("1. Asks why\n2. Proposes a fix", "Asks why Proposes a fix"),
])
def test_plain_text(answer, expected):
    assert plain_text(answer) == expected


def test_cut_keeps_short_text():
    text = "x" * 150
    assert cut(text) == text


def test_cut_at_a_word_boundary_with_an_ellipsis():
    text = " ".join(["word"] * 30) + " averyveryverylongwordattheend"
    result = cut(text)
    assert len(result) <= 150
    assert result.endswith("…")
    assert text.startswith(result[:-1])
    assert text[len(result) - 1] == " "  # the cut falls on a space: no word is split


def test_cut_keeps_whole_sentences_when_they_say_enough():
    first = "Asks how to configure caching for the GraphQL layer when the schema is split across services."
    text = first + " " + "It also mentions " + "many other things " * 10
    assert cut(text) == first


def test_cut_ignores_a_sentence_too_short_to_summarize():
    text = "Hi. " + "This discussion goes on and on " * 10
    result = cut(text)
    assert result.startswith("Hi. This discussion")
    assert result.endswith("…")


def test_cut_splits_a_single_long_word():
    assert cut("x" * 400) == "x" * 149 + "…"


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=400))
def test_cut_never_exceeds_150_and_only_drops_a_tail(text):
    result = cut(text)
    assert len(result) <= 150
    assert text.startswith(result.removesuffix("…"))


# -- requests ---------------------------------------------------------------------------------------


def test_request_is_openais_chat_completion():
    client, recorder = summarizer(min_interval_s=0)
    assert client.summarize("How to cache?", "Body") == Summary("A summary.")
    (request,) = recorder.requests
    assert str(request.url) == "https://api.openai.com/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    body = json.loads(request.content)
    assert body == {"model": "gpt-4o-mini", "max_tokens": 50, "temperature": 0.3,
                    "messages": [{"role": "user", "content": summary_prompt("How to cache?", "Body")}]}


def test_base_url_is_honoured_with_or_without_a_trailing_slash():
    for base in ("http://127.0.0.1:9/v1", "http://127.0.0.1:9/v1/"):
        client, recorder = summarizer(base_url=base, min_interval_s=0)
        client.summarize("T", "B")
        assert str(recorder.requests[0].url) == "http://127.0.0.1:9/v1/chat/completions"


def test_answer_is_cleaned_and_cut():
    long = "**Asks** " + " ".join(["whether"] * 40)
    client, _ = summarizer(lambda r: httpx.Response(200, json=completion(long)), min_interval_s=0)
    text = client.summarize("T", "B").text
    assert text is not None
    assert text.startswith("Asks whether")
    assert len(text) <= 150


def test_lone_surrogates_in_a_body_do_not_break_the_request():
    client, recorder = summarizer(min_interval_s=0)
    assert client.summarize("T", "half an emoji \ud83d").text == "A summary."
    assert "half an emoji ?" in json.loads(recorder.requests[0].content)["messages"][0]["content"]


# -- spacing ----------------------------------------------------------------------------------------


def test_requests_are_spaced_by_min_interval():
    clock = FakeClock()
    client, recorder = summarizer(clock=clock, min_interval_s=0.1)
    for _ in range(3):
        client.summarize("T", "B")
    assert recorder.times == pytest.approx([0.0, 0.1, 0.2])
    assert clock.sleeps == pytest.approx([0.1, 0.1])


def test_no_wait_when_time_has_passed_anyway():
    clock = FakeClock()
    client, _ = summarizer(clock=clock, min_interval_s=0.1)
    client.summarize("T", "B")
    clock.now += 0.5
    client.summarize("T", "B")
    assert clock.sleeps == []


def test_requests_per_minute_sets_a_longer_interval():
    clock = FakeClock()
    client, recorder = summarizer(clock=clock, min_interval_s=0.1, requests_per_minute=30)
    for _ in range(3):
        client.summarize("T", "B")
    assert recorder.times == pytest.approx([0.0, 2.0, 4.0])
    # ... but never a shorter one than min_interval_s
    assert summarizer(min_interval_s=0.1, requests_per_minute=6000)[0].interval_s == pytest.approx(0.1)


def test_spacing_hands_each_thread_its_own_slot():
    # GIVEN a clock that stands still and a sleep that only records, so all threads ask at t=0
    clock = FakeClock()
    sleeps: list[float] = []
    lock = threading.Lock()

    def sleep(seconds):
        with lock:
            sleeps.append(seconds)

    client = OpenAISummarizer(KEY, min_interval_s=0.1, clock=clock, sleep=sleep,
                              http_client=httpx.Client(transport=httpx.MockTransport(Recorder())))
    # WHEN 8 threads summarize at once
    threads = [threading.Thread(target=client.summarize, args=("T", "B")) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # THEN they got 8 distinct slots 0.1 s apart: one went at once, the others waited 0.1 .. 0.7 s
    assert sorted(sleeps) == pytest.approx([0.1 * i for i in range(1, 8)])


def test_rejects_a_non_positive_rate():
    with pytest.raises(ValueError, match="requests_per_minute"):
        OpenAISummarizer(KEY, requests_per_minute=0)


# -- failures become reasons ------------------------------------------------------------------------


def raising(exc):
    def answer(request):
        raise exc
    return answer


FAILURES = [
    (lambda r: httpx.Response(500, json={"error": {"message": "oops", "type": "server_error"}}),
     "HTTP 500 server_error"),
    (lambda r: httpx.Response(503, text="<html>overloaded</html>"), "HTTP 503"),
    (lambda r: httpx.Response(429, json={"error": {"message": "Rate limit reached", "type": "requests",
                                                   "code": "rate_limit_exceeded"}}),
     "HTTP 429 rate_limit_exceeded: Rate limit reached"),
    # OpenAI quotes part of the key in a 401's message; here it quotes all of it
    (lambda r: httpx.Response(401, json={"error": {"message": f"Incorrect API key provided: {KEY}.",
                                                   "type": "invalid_request_error", "code": "invalid_api_key"}}),
     "HTTP 401 invalid_api_key"),
    (lambda r: httpx.Response(400, json={"error": {"message": f"Bad request for {KEY}",
                                                   "type": "invalid_request_error"}}),
     "HTTP 400 invalid_request_error: Bad request for ***"),
    (raising(httpx.ReadTimeout("timed out")), "timed out after 10s"),
    (raising(httpx.ConnectError("[Errno 111] Connection refused")),
     "request failed: ConnectError: [Errno 111] Connection refused"),
    (raising(httpx.RemoteProtocolError(f"Server disconnected on {KEY}")),
     "request failed: RemoteProtocolError: Server disconnected on ***"),
    (lambda r: httpx.Response(200, text="not json"), "malformed answer: not JSON"),
    (lambda r: httpx.Response(200, json={"choices": []}), "malformed answer: no choices[0].message"),
    (lambda r: httpx.Response(200, json=["a list"]), "malformed answer: no choices[0].message"),
    (lambda r: httpx.Response(200, json={"choices": [{"message": "text"}]}), "malformed answer: no choices[0].message"),
    (lambda r: httpx.Response(200, json=completion(None)), "malformed answer: content is not text"),
    (lambda r: httpx.Response(200, json=completion(None, refusal="I can't help with that.")), "the model refused"),
    (lambda r: httpx.Response(200, json=completion("  **  ")), "empty answer"),
]


@pytest.mark.parametrize(("answer", "reason"), FAILURES)
def test_failure_is_a_reason_logged_without_the_key(answer, reason, log_output):
    client, _ = summarizer(answer, min_interval_s=0)
    result = client.summarize("T", "B")
    assert result == Summary(None, reason)
    output = log_output()
    assert '"message":"summary not generated"' in output
    assert json.dumps(reason) in output
    assert KEY not in output
    assert KEY[3:12] not in output


@pytest.mark.parametrize("answer", [
    lambda r: httpx.Response(500, json={"error": {"message": "oops", "type": "server_error"}}),
    lambda r: httpx.Response(503, text="overloaded"),
    lambda r: httpx.Response(429, headers={"retry-after": "0"}, json={"error": {"code": "rate_limit_exceeded"}}),
    lambda r: httpx.Response(408, text="timeout"),
    raising(httpx.ReadTimeout("timed out")),
    raising(httpx.ConnectError("[Errno 111] Connection refused")),
], ids=["500", "503", "429", "408", "timeout", "refused"])
def test_a_failure_is_sent_once_the_clients_own_retries_are_off(answer):
    # GIVEN a failure the openai client would retry twice by default
    client, recorder = summarizer(answer, min_interval_s=0)
    # WHEN a summary is asked for; THEN one request went out, and the failure is a reason
    assert client.summarize("T", "B").text is None
    assert len(recorder.requests) == 1
    assert recorder.requests[0].headers["x-stainless-retry-count"] == "0"  # sent by the official client


ROOT = Path(__file__).resolve().parents[2]
IMPORTS = """
import importlib.util, pathlib, sys
for app in sorted(pathlib.Path("functions").glob("*/app.py")):
    spec = importlib.util.spec_from_file_location("handler_" + app.parent.name, app)
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
from contribsync.ai.embedder import embedder_from_settings
from contribsync.ai.summarizer import summarizer_from_settings
from contribsync.settings import Settings
settings = Settings.from_env({"DATABASE_URL": "postgresql://x", "OPENAI_API_KEY": "sk-x",
                              "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"})
summarizer, embedder = summarizer_from_settings(settings), embedder_from_settings(settings)
print("RESULT", "openai" in sys.modules)
print("RESULT", summarizer.summarize("T", "B").reason)  # port 9 refuses
print("RESULT", "openai" in sys.modules)
"""


def test_openai_is_imported_by_the_first_request_not_by_imports_or_clients():
    # GIVEN a fresh interpreter, as at a cold start, that imports every handler and the AI modules and makes
    # both clients from settings
    env = {**os.environ, "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_DISABLED": "true",
           "DATABASE_URL": "postgresql://x@127.0.0.1:9/unused", "GITHUB_WEBHOOK_SECRET": "s"}
    done = subprocess.run([sys.executable, "-c", IMPORTS], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    # THEN openai was not imported until a summary was asked for
    before, reason, after = (line.removeprefix("RESULT ") for line in done.stdout.splitlines()
                             if line.startswith("RESULT "))  # the logger writes to stdout too
    assert before == "False"
    assert reason.startswith("request failed: ConnectError")
    assert after == "True"


def test_no_key_sends_nothing_and_says_so(log_output):
    client, recorder = summarizer(key=None)
    assert client.summarize("T", "B") == Summary(None, "no OpenAI API key configured")
    assert recorder.requests == []
    assert "no OpenAI API key configured" in log_output()


def test_key_is_not_in_repr():
    client, _ = summarizer()
    assert KEY not in repr(client)
    assert "api.openai.com" in repr(client)


# -- wiring -----------------------------------------------------------------------------------------


def test_no_summaries():
    assert NoSummaries().summarize("T", "B") == Summary(None, "summaries disabled")


def test_summarizer_from_settings():
    assert isinstance(summarizer_from_settings(Settings(database_url="postgresql://x")), NoSummaries)
    settings = Settings.from_env({"DATABASE_URL": "postgresql://x", "OPENAI_API_KEY": KEY,
                                  "OPENAI_BASE_URL": "http://127.0.0.1:9/v1/", "OPENAI_REQUESTS_PER_MINUTE": "20"})
    assert settings.openai_requests_per_minute == 20
    assert KEY not in repr(settings)
    client = summarizer_from_settings(settings)
    assert isinstance(client, OpenAISummarizer)
    assert client.base_url == "http://127.0.0.1:9/v1"
    assert client.interval_s == pytest.approx(3.0)
    client.close()


def test_requests_per_minute_is_optional():
    assert Settings.from_env({"DATABASE_URL": "postgresql://x"}).openai_requests_per_minute is None

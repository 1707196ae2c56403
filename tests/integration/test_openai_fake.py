"""The summary client against the local OpenAI-compatible server, over real HTTP on 127.0.0.1.

Also the server's own contract: OpenAI's shapes, its 401 without a bearer, and its knobs.
"""

from __future__ import annotations

import base64
import itertools
import math
import struct

import httpx
import pytest

from contribsync.ai import OpenAISummarizer, Summary
from contribsync_local.openai_fake import FakeOpenAI, embedding

pytestmark = pytest.mark.integration

KEY = "sk-local-fake-KEY123"
AUTH = {"authorization": f"Bearer {KEY}"}


@pytest.fixture
def fake():
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def http():
    with httpx.Client(timeout=5) as client:
        yield client


def summarizer(server, **kwargs):
    kwargs.setdefault("min_interval_s", 0)
    return OpenAISummarizer(KEY, base_url=server.base_url, **kwargs)


# -- the summarizer against the server --------------------------------------------------------------


def test_summary_happy_path(fake):
    with summarizer(fake) as client:
        result = client.summarize("How do I cache GraphQL responses?", "We run Apollo behind a CDN ...")
    assert result == Summary("Discussion about How do I cache GraphQL responses?.")
    (received,) = fake.received
    assert (received.method, received.path) == ("POST", "/v1/chat/completions")
    assert received.body["model"] == "gpt-4o-mini"
    assert received.body["max_tokens"] == 50
    assert "Body: We run Apollo behind a CDN ..." in received.body["messages"][0]["content"]
    assert fake.counters.endpoints == {"POST /v1/chat/completions": 1}
    assert fake.counters.statuses == {200: 1}
    assert KEY not in repr(fake.received)


def test_summary_of_a_long_title_fits(fake):
    with summarizer(fake) as client:
        text = client.summarize("word " * 60, None).text
    assert text is not None
    assert text.startswith("Discussion about word word")
    assert len(text) <= 150


def test_server_errors_give_no_summary_and_a_reason(fake):
    fake.fail_rate, fake.fail_status = 1.0, 500
    with summarizer(fake) as client:
        assert client.summarize("T", "B") == Summary(None, "HTTP 500 server_error")
    assert fake.counters.failures == 1


def test_rate_limited_answers_like_openai(fake, http):
    fake.fail_rate, fake.fail_status = 1.0, 429
    response = http.post(f"{fake.base_url}/chat/completions", headers=AUTH,
                         json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x"}]})
    assert response.status_code == 429
    assert response.headers["retry-after"] == "1"
    assert response.json()["error"]["code"] == "rate_limit_exceeded"
    with summarizer(fake) as client:
        reason = client.summarize("T", "B").reason
    assert reason is not None
    assert reason.startswith("HTTP 429 rate_limit_exceeded")


def test_down_then_up_again(fake):
    fake.down = True
    with summarizer(fake) as client:
        assert client.summarize("T", "B") == Summary(None, "HTTP 503 server_error")
        fake.down = False  # knobs change while the server runs
        assert client.summarize("T", "B") == Summary("Discussion about T.")
    assert fake.counters.statuses == {503: 1, 200: 1}


def test_latency_over_the_timeout_gives_no_summary(fake):
    fake.latency_s = 5.0
    with summarizer(fake, timeout_s=0.2) as client:
        assert client.summarize("T", "B") == Summary(None, "timed out after 0.2s")


def test_connection_refused_gives_no_summary():
    server = FakeOpenAI()
    base_url = server.start()
    server.stop()
    with OpenAISummarizer(KEY, base_url=base_url, min_interval_s=0) as client:
        reason = client.summarize("T", "B").reason
    assert reason is not None
    assert reason.startswith("request failed: ConnectError")


def test_requests_arrive_spaced(fake):
    with summarizer(fake, min_interval_s=0.05) as client:
        for _ in range(3):
            client.summarize("T", "B")
    times = [r.at for r in fake.received]
    assert all(b - a >= 0.045 for a, b in itertools.pairwise(times))


def test_seeded_failures_repeat(http):
    def run(seed):
        with FakeOpenAI(fail_rate=0.5, seed=seed) as server:
            return [http.get(f"{server.base_url}/models", headers=AUTH).status_code for _ in range(20)]

    first = run(7)
    assert first == run(7)
    assert 0 < first.count(500) < 20


# -- the server's contract --------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), [("POST", "/chat/completions"), ("POST", "/embeddings"),
                                             ("GET", "/models")])
@pytest.mark.parametrize("authorization", [None, "Bearer", "Basic dXNlcjpwdw=="])
def test_401_without_a_bearer(fake, http, method, path, authorization):
    headers = {"authorization": authorization} if authorization is not None else {}
    response = http.request(method, f"{fake.base_url}{path}", headers=headers, json={"model": "m", "input": "x"})
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert fake.counters.unauthorized == 1


def test_chat_completion_shape(fake, http):
    response = http.post(f"{fake.base_url}/chat/completions", headers=AUTH, json={
        "model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Summarize.\n\nTitle: Flaky CI\nBody: x"}]})
    body = response.json()
    assert response.status_code == 200
    assert body["object"] == "chat.completion"
    assert body["id"].startswith("chatcmpl-")
    assert isinstance(body["created"], int)
    assert body["model"] == "gpt-4o-mini"
    assert body["choices"][0]["message"] == {"role": "assistant", "content": "Discussion about Flaky CI.",
                                             "refusal": None}
    assert body["choices"][0]["finish_reason"] == "stop"
    usage = body["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_max_tokens_cuts_the_answer(fake, http):
    body = http.post(f"{fake.base_url}/chat/completions", headers=AUTH, json={
        "model": "gpt-4o-mini", "max_tokens": 3, "messages": [{"role": "user", "content": "Title: Flaky CI"}]}).json()
    assert body["choices"][0]["message"]["content"] == "Discussion a"
    assert body["choices"][0]["finish_reason"] == "length"


def test_embeddings_shape(fake, http):
    response = http.post(f"{fake.base_url}/embeddings", headers=AUTH, json={
        "model": "text-embedding-3-small", "input": ["first text", "second text", "first text"], "dimensions": 384})
    body = response.json()
    assert response.status_code == 200
    assert body["object"] == "list"
    assert body["model"] == "text-embedding-3-small"
    assert [d["index"] for d in body["data"]] == [0, 1, 2]
    assert {d["object"] for d in body["data"]} == {"embedding"}
    vectors = [d["embedding"] for d in body["data"]]
    assert [len(v) for v in vectors] == [384, 384, 384]
    assert all(math.isclose(math.fsum(x * x for x in v), 1.0) for v in vectors)
    assert vectors[0] == vectors[2]
    assert vectors[0] != vectors[1]
    assert body["usage"]["prompt_tokens"] == body["usage"]["total_tokens"] > 0


def test_embeddings_default_to_1536_and_shorten_like_openai(fake, http):
    body = http.post(f"{fake.base_url}/embeddings", headers=AUTH, json={"model": "text-embedding-3-small",
                                                                         "input": "one text"}).json()
    (full,) = [d["embedding"] for d in body["data"]]
    assert len(full) == 1536
    short = embedding("one text", 384)
    norm = math.sqrt(math.fsum(x * x for x in full[:384]))
    assert short == pytest.approx([x / norm for x in full[:384]])


def test_embeddings_in_base64(fake, http):
    body = http.post(f"{fake.base_url}/embeddings", headers=AUTH, json={
        "model": "text-embedding-3-small", "input": "one text", "dimensions": 8, "encoding_format": "base64"}).json()
    decoded = struct.unpack("<8f", base64.b64decode(body["data"][0]["embedding"]))
    assert decoded == pytest.approx(embedding("one text", 8), abs=1e-6)


@pytest.mark.parametrize("payload", [{"model": "m"}, {"model": "m", "input": ""}, {"model": "m", "input": []},
                                     {"model": "m", "input": "x", "dimensions": 0}, {"input": "x"}])
def test_invalid_embedding_requests_are_400(fake, http, payload):
    response = http.post(f"{fake.base_url}/embeddings", headers=AUTH, json=payload)
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_models_and_unknown_paths(fake, http):
    models = http.get(f"{fake.base_url}/models", headers=AUTH).json()
    assert {"gpt-4o-mini", "text-embedding-3-small"} <= {m["id"] for m in models["data"]}
    assert http.post(f"{fake.base_url}/completions", headers=AUTH, json={}).status_code == 404
    response = http.post(f"{fake.base_url}/chat/completions", headers={**AUTH, "content-type": "application/json"},
                         content=b"{not json")
    assert response.status_code == 400


def test_start_answers_the_base_url_and_stop_releases_it():
    server = FakeOpenAI()
    base_url = server.start()
    assert base_url.startswith("http://127.0.0.1:")
    assert base_url.endswith("/v1")
    server.stop()
    with pytest.raises(RuntimeError, match="not started"):
        _ = server.base_url

"""The summary client against the local OpenAI-compatible server, over real HTTP on 127.0.0.1.

Also the server's own contract: OpenAI's shapes, its 401 without a bearer, its knobs, and that it answers
what the official ``openai`` package sends.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import math
import random
import struct

import httpx
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from contribsync.ai.embedder import OpenAIEmbedder
from contribsync.ai.summarizer import OpenAISummarizer, Summary
from contribsync.errors import OpenAIError, OpenAIRateLimited
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


def cosine(a, b):
    return math.fsum(x * y for x, y in zip(a, b, strict=True))


def similarity(first, second, dimensions=384):
    return cosine(embedding(first, dimensions), embedding(second, dimensions))


def renormalized(vector):
    norm = math.sqrt(math.fsum(x * x for x in vector))
    return [x / norm for x in vector]


def hash_drawn(text, dimensions):
    """The vector every text got before words counted, and a text without words still gets."""
    rng = random.Random(hashlib.sha256(text.encode()).digest())
    return renormalized([rng.gauss(0.0, 1.0) for _ in range(dimensions)])


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
    # Starts are 50 ms apart; the server's arrival times add a few ms of jitter (a new connection and thread
    # for each request), more on a loaded machine. Without the spacing they are a few ms.
    assert all(b - a >= 0.035 for a, b in itertools.pairwise(times))


@pytest.mark.parametrize("status", [429, 500, 503])
def test_a_failing_request_reaches_the_server_once(fake, status):
    # GIVEN statuses the openai client would retry twice by default (after Retry-After: 1 for the 429)
    fake.fail_rate, fake.fail_status = 1.0, status
    # WHEN each client asks once; THEN each sent one request: retrying is the runtime's, or nobody's
    with summarizer(fake) as client:
        assert client.summarize("T", "B").text is None
    assert fake.counters.requests == 1
    embedder = OpenAIEmbedder(KEY, base_url=fake.base_url)
    try:
        with pytest.raises(OpenAIRateLimited if status == 429 else OpenAIError):
            embedder.embed(["hello there"])
    finally:
        embedder.close()
    assert fake.counters.requests == 2


def test_received_requests_keep_the_official_clients_headers_but_never_the_key(fake):
    with summarizer(fake) as client:
        client.summarize("T", "B")
    (received,) = fake.received
    assert received.headers["user-agent"].startswith("OpenAI/Python ")
    assert received.headers["x-stainless-retry-count"] == "0"
    assert "authorization" not in received.headers
    assert KEY not in repr(fake.received)


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
    assert embedding("one text", 384) == pytest.approx(renormalized(full[:384]))


def test_embeddings_in_base64(fake, http):
    body = http.post(f"{fake.base_url}/embeddings", headers=AUTH, json={
        "model": "text-embedding-3-small", "input": "one text", "dimensions": 8, "encoding_format": "base64"}).json()
    decoded = struct.unpack("<8f", base64.b64decode(body["data"][0]["embedding"]))
    assert decoded == pytest.approx(embedding("one text", 8), abs=1e-6)


def test_embeddings_rank_a_near_duplicate_first_over_http(fake, http):
    # GIVEN an issue, the same issue reworded a little, and an unrelated one, as the product embeds them
    texts = ["[ISSUE] Flaky CI on Windows runners after upgrading the Rust toolchain to 1.79",
             "[ISSUE] Flaky CI on Windows runners after upgrading the Rust toolchain to 1.80",
             "[ISSUE] Dark mode colours are wrong in the settings dialog of the desktop application"]
    # WHEN the server embeds them at the product's 384 dimensions, in base64
    body = http.post(f"{fake.base_url}/embeddings", headers=AUTH, json={
        "model": "text-embedding-3-small", "input": texts, "dimensions": 384, "encoding_format": "base64"}).json()
    query, near, far = (struct.unpack("<384f", base64.b64decode(d["embedding"])) for d in body["data"])
    # THEN the near duplicate is close and the unrelated issue is not
    assert cosine(query, near) > 0.8
    assert abs(cosine(query, far)) < 0.3


# -- what the embeddings mean: similar texts land near each other -----------------------------------


TITLE = "Flaky integration tests on Windows runners after upgrading the toolchain"
BODY = ("Since the upgrade our integration suite fails about one run in five on the Windows runners. The failures "
        "are timeouts in the database fixtures, and retrying the job usually passes. Linux and macOS are fine.")


@pytest.mark.parametrize(("first", "second"), [
    (f"[ISSUE] {TITLE} {BODY}", f"[ISSUE] {TITLE} {BODY.replace('one run in five', 'one run in four')}"),
    (f"[ISSUE] {TITLE} {BODY}", f"[ISSUE] {TITLE} {BODY} Logs from the last failure are attached below."),
    (f"[ISSUE] {TITLE} {BODY}", f"[PULL_REQUEST] {TITLE} {BODY}"),
], ids=["one-body-word-changed", "one-sentence-added", "another-type-tag"])
def test_near_duplicates_are_close(first, second):
    assert similarity(first, second) > 0.8


@pytest.mark.parametrize("edited", [TITLE.replace("Windows", "Linux"), TITLE.replace("upgrading", "pinning"),
                                    TITLE.replace("Flaky", "Failing")])
def test_a_title_with_one_word_changed_stays_close(edited):
    assert similarity(TITLE, edited) > 0.8


def test_unrelated_texts_are_far_apart():
    docs = ("Dark mode colours are wrong in the settings dialog: the background stays white while the sidebar "
            "turns black, and hovering over a menu entry makes its label unreadable on high contrast themes")
    api = ("Paginate the REST endpoint listing organisation members with cursors instead of page numbers, since "
           "offsets skip people whenever somebody joins or leaves during a long export job")
    assert abs(similarity(f"[ISSUE] {TITLE} {BODY}", docs)) < 0.3
    assert abs(similarity(docs, api)) < 0.3
    assert abs(similarity(f"[ISSUE] {TITLE} {BODY}", api)) < 0.3


def test_texts_without_a_common_word_stay_near_zero():
    # GIVEN 200 pairs of 25-word texts drawn from two vocabularies that share no word
    rng = random.Random(7)
    vocabulary = [f"word{i:05d}" for i in range(20_000)]
    pairs = [(" ".join(rng.sample(vocabulary[:10_000], 25)), " ".join(rng.sample(vocabulary[10_000:], 25)))
             for _ in range(200)]
    # WHEN each pair is compared; THEN hash collisions alone never bring two of them close
    scores = [similarity(a, b) for a, b in pairs]
    assert max(abs(score) for score in scores) < 0.3
    assert abs(math.fsum(scores) / len(scores)) < 0.02  # no bias towards either side


def test_word_order_barely_matters():
    words = f"{TITLE} {BODY}".split()
    shuffled = " ".join(random.Random(3).sample(words, len(words)))
    assert shuffled != " ".join(words)
    assert similarity(" ".join(words), shuffled) > 0.999


def test_common_short_words_do_not_dominate():
    # Only "the", "not", "and", "for", "all", "is", "it", "of" and "in" are common to both; counted like any other
    # word they would give a cosine of about 0.7.
    first = "the cache is not working and it is slow for all of the users in the app"
    second = "the login is not shown and it is empty for all of the pages in the site"
    assert abs(similarity(first, second)) < 0.3


def test_words_under_three_characters_are_ignored():
    assert similarity("Flaky CI on Windows", "Flaky on Windows") > 0.999
    assert similarity("Flaky CI on Windows", "Flaky UI at Windows") > 0.999


def test_a_repeated_word_counts_sublinearly():
    # Linear counts would give 6 / sqrt(6 * (6 + 20**2)) = 0.12; 1 + ln(20) gives 0.52.
    text = "database migrations hang during deploy behind pgbouncer"
    repeated = similarity(text, f"{text} {'timeout ' * 20}")
    assert repeated > 0.4
    assert repeated < similarity(text, f"{text} timeout") - 0.2  # but the count does count


@pytest.mark.parametrize("text", ["", "!!! ??? ---", "→ ✓ ✗", "a b c 12 -- ok"])
def test_a_text_without_words_falls_back_to_a_unit_vector(text):
    vector = embedding(text, 384)
    assert len(vector) == 384
    assert math.isclose(math.fsum(x * x for x in vector), 1.0)
    assert vector == pytest.approx(hash_drawn(text, 384), rel=1e-12, abs=1e-15)
    assert vector != embedding(text + "!", 384)


def test_a_prefix_too_short_for_any_word_is_still_a_unit_vector():
    # GIVEN one word, whose first position is in the first 48 but not the first
    full = embedding("flaky", 384)
    first = next(i for i, x in enumerate(full) if abs(x) > 0.1)
    assert 1 <= first < 48
    # WHEN fewer dimensions are asked than that position
    for dimensions in (1, first):
        short = embedding("flaky", dimensions)
        # THEN the vector is the renormalized prefix all the same: the faint hash-drawn one
        assert math.isclose(math.fsum(x * x for x in short), 1.0)
        assert short == pytest.approx(renormalized(full[:dimensions]), rel=1e-9, abs=1e-12)
        assert short == pytest.approx(hash_drawn("flaky", dimensions), rel=1e-9, abs=1e-12)


WORDS = st.sampled_from(["flaky", "ci", "the", "windows", "runner", "cache", "naïve", "über", "日本語", "x1", "abc"])


@settings(max_examples=150, deadline=None, database=None)
@given(text=st.one_of(st.text(), st.lists(WORDS).map(" ".join)),
       sizes=st.lists(st.integers(min_value=1, max_value=3200), min_size=2, max_size=2, unique=True).map(sorted))
@example(text="flaky", sizes=[1, 3072])
@example(text="", sizes=[1, 2])
@example(text="abc abc", sizes=[47, 3200])
def test_every_embedding_is_a_unit_vector_and_a_prefix_of_longer_ones(text, sizes):
    short_size, long_size = sizes
    short, long = embedding(text, short_size), embedding(text, long_size)
    assert (len(short), len(long)) == (short_size, long_size)
    assert math.isclose(math.fsum(x * x for x in short), 1.0, rel_tol=1e-9)
    assert math.isclose(math.fsum(x * x for x in long), 1.0, rel_tol=1e-9)
    assert short == pytest.approx(renormalized(long[:short_size]), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("payload", [{"model": "m"}, {"model": "m", "input": ""}, {"model": "m", "input": []},
                                     {"model": "m", "input": "x", "dimensions": 0}, {"input": "x"}])
def test_invalid_embedding_requests_are_400(fake, http, payload):
    response = http.post(f"{fake.base_url}/embeddings", headers=AUTH, json=payload)
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_the_official_client_gets_openais_shapes(fake):
    # GIVEN the openai package's own client, used as any caller would use it
    import openai

    with openai.OpenAI(api_key=KEY, base_url=fake.base_url, max_retries=0) as client:
        # WHEN it calls each endpoint, with the options it sends on its own (base64 unless told otherwise)
        chat = client.chat.completions.create(model="gpt-4o-mini", max_completion_tokens=50, messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": [{"type": "text", "text": "Summarize.\n\nTitle: Flaky CI"}]}])
        decoded = client.embeddings.create(model="text-embedding-3-small", input=["one text", "two"], dimensions=8)
        floats = client.embeddings.create(model="text-embedding-3-small", input="one text", dimensions=8,
                                          encoding_format="float")
        models = client.models.list()
    # THEN its typed answers hold what the fake made
    assert chat.choices[0].message.content == "Discussion about Flaky CI."
    assert chat.choices[0].finish_reason == "stop"
    assert chat.usage is not None and chat.usage.total_tokens > 0
    assert [d.index for d in decoded.data] == [0, 1]
    assert decoded.data[0].embedding == pytest.approx(embedding("one text", 8), abs=1e-6)
    assert floats.data[0].embedding == pytest.approx(embedding("one text", 8))
    assert decoded.usage.total_tokens == 2 + 1  # about 4 characters a token, at least 1 a text
    assert "text-embedding-3-small" in {m.id for m in models.data}
    assert [r.body.get("encoding_format") for r in fake.received if r.path.endswith("/embeddings")] == [
        "base64", "float"]


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

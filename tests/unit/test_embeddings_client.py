"""The embeddings client: OpenAI's request, its base64 vectors, and its failures as contribsync's errors.

OpenAI is replaced by ``httpx.MockTransport`` under the official client (``http_client=``); nothing leaves the
process. The same client against the local OpenAI-compatible server is in tests/integration/test_embeddings.py.
"""

from __future__ import annotations

import base64
import json
import struct
import traceback
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from contribsync.ai.embedder import DIMENSIONS, MODEL, OpenAIEmbedder, embedder_from_settings
from contribsync.errors import Deferred, NonRetriable, OpenAIError, OpenAIRateLimited
from contribsync.settings import Settings

KEY = "sk-test-Emb3ddingsSECRET0000"


def vector(seed: int, dimensions: int = DIMENSIONS) -> list[float]:
    return [(seed + i) / 1024 for i in range(dimensions)]  # exact in float32


def b64(values: list[float]) -> str:
    return base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode()


def answer(vectors, *, encode=b64, order=None, tokens=42):
    indexes = order or range(len(vectors))
    return {"object": "list", "model": MODEL, "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            "data": [{"object": "embedding", "index": i, "embedding": encode(vectors[i])} for i in indexes]}


class Recorder:
    def __init__(self, respond):
        self.respond = respond
        self.requests: list[httpx.Request] = []

    def __call__(self, request):
        self.requests.append(request)
        return self.respond(request)


def embedder(respond, **kwargs):
    recorder = Recorder(respond)
    client = OpenAIEmbedder(KEY, http_client=httpx.Client(transport=httpx.MockTransport(recorder)), **kwargs)
    return client, recorder


def raising(exc):
    def respond(request):
        raise exc
    return respond


# -- the request and the answer ---------------------------------------------------------------------


def test_request_is_openais_embeddings_call_with_base64_vectors():
    # GIVEN a server that answers in base64, rows out of order
    vectors = [vector(1), vector(2), vector(3)]
    client, recorder = embedder(lambda r: httpx.Response(200, json=answer(vectors, order=[2, 0, 1])))
    # WHEN three texts are embedded
    result = client.embed(["one", "two", "three"])
    # THEN one request to {base}/embeddings asked for 384 dimensions in base64, and the vectors are decoded in order
    (request,) = recorder.requests
    assert (request.method, str(request.url)) == ("POST", "https://api.openai.com/v1/embeddings")
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert json.loads(request.content) == {"model": "text-embedding-3-small", "input": ["one", "two", "three"],
                                           "dimensions": 384, "encoding_format": "base64"}
    assert result.vectors == vectors
    assert result.tokens == 42


def test_float_vectors_are_accepted_too():
    # a compatible server that ignores encoding_format and answers floats
    client, _ = embedder(lambda r: httpx.Response(200, json=answer([vector(5)], encode=list)))
    assert client.embed(["one"]).vectors == [vector(5)]


def test_base_url_is_honoured_with_or_without_a_trailing_slash():
    for base in ("http://127.0.0.1:9/v1", "http://127.0.0.1:9/v1/"):
        client, recorder = embedder(lambda r: httpx.Response(200, json=answer([vector(1)])), base_url=base)
        client.embed(["x"])
        assert str(recorder.requests[0].url) == "http://127.0.0.1:9/v1/embeddings"
        assert client.base_url == "http://127.0.0.1:9/v1"


# -- failures ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("headers", "seconds"), [({"retry-after": "7"}, 7), ({}, 20), ({"retry-after": "0"}, 1),
                                                  ({"retry-after": "soon"}, 20)])
def test_a_429_is_deferred_until_retry_after_and_sent_once(headers, seconds):
    client, recorder = embedder(lambda r: httpx.Response(429, headers=headers, json={"error": {
        "message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}}))
    before = datetime.now(UTC)
    with pytest.raises(OpenAIRateLimited, match="HTTP 429") as raised:
        client.embed(["x"])
    assert isinstance(raised.value, Deferred)
    wait = raised.value.defer_until - before
    assert timedelta(seconds=seconds) <= wait < timedelta(seconds=seconds + 5)
    assert len(recorder.requests) == 1  # the openai client did not sleep and retry it


@pytest.mark.parametrize(("respond", "message"), [
    (lambda r: httpx.Response(500, json={"error": {"message": "oops", "type": "server_error"}}), "HTTP 500"),
    (lambda r: httpx.Response(503, text="<html>overloaded</html>"), "HTTP 503"),
    (raising(httpx.ReadTimeout("timed out")), "timed out after 60.0s"),
    (raising(httpx.ConnectError("[Errno 111] Connection refused")), "request failed: ConnectError"),
], ids=["500", "503", "timeout", "refused"])
def test_server_errors_are_retriable_and_sent_once(respond, message):
    # GIVEN failures the openai client would retry twice by default
    client, recorder = embedder(respond)
    with pytest.raises(OpenAIError, match=message) as raised:
        client.embed(["x"])
    # THEN the runtime retries them (neither deferred nor final), and each attempt sent one request
    assert not isinstance(raised.value, (Deferred, NonRetriable))
    assert len(recorder.requests) == 1


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_key_is_final_and_the_key_is_in_no_traceback(status):
    # OpenAI's 401 message quotes part of the key; here it quotes all of it
    client, _ = embedder(lambda r: httpx.Response(status, json={"error": {
        "message": f"Incorrect API key provided: {KEY}.", "type": "invalid_request_error", "code": "invalid_api_key"}}))
    with pytest.raises(NonRetriable, match="OPENAI_API_KEY") as raised:
        client.embed(["x"])
    assert KEY not in "".join(traceback.format_exception(raised.value))
    assert KEY not in repr(client)


@pytest.mark.parametrize("status", [400, 404, 422])
def test_a_refused_request_is_final_with_openais_message(status):
    client, _ = embedder(lambda r: httpx.Response(status, json={"error": {
        "message": "'$.input' is invalid.", "type": "invalid_request_error"}}))
    with pytest.raises(NonRetriable, match=rf"HTTP {status}\): '\$\.input' is invalid\."):
        client.embed(["x"])


@pytest.mark.parametrize("respond", [
    lambda r: httpx.Response(200, text="not json"),
    lambda r: httpx.Response(200, headers={"content-type": "application/json"}, content=b"{not json"),
    lambda r: httpx.Response(200, json={"object": "list", "data": [], "usage": {"total_tokens": 0}}),
    lambda r: httpx.Response(200, json={"data": [{"index": 0, "embedding": b64(vector(1))}]}),  # no usage
    lambda r: httpx.Response(200, json={"data": [{"index": 0, "embedding": "!!"}], "usage": {"total_tokens": 1}}),
    lambda r: httpx.Response(200, json=answer([vector(1, 383)])),
    lambda r: httpx.Response(200, json=answer([vector(1), vector(2)])),
    lambda r: httpx.Response(200, json=["a list"]),
], ids=["text", "bad-json", "no-data", "no-usage", "bad-base64", "383-dimensions", "two-for-one", "list"])
def test_a_malformed_answer_is_a_retriable_openai_error(respond):
    client, _ = embedder(respond)
    with pytest.raises(OpenAIError) as raised:
        client.embed(["x"])
    assert not isinstance(raised.value, (Deferred, NonRetriable))


def test_an_empty_key_is_final_without_a_request():
    recorder = Recorder(lambda r: httpx.Response(200, json=answer([vector(1)])))
    client = OpenAIEmbedder("", http_client=httpx.Client(transport=httpx.MockTransport(recorder)))
    with pytest.raises(NonRetriable, match="OPENAI_API_KEY"):
        client.embed(["x"])
    assert recorder.requests == []


def test_embedder_from_settings():
    assert embedder_from_settings(Settings(database_url="postgresql://x")) is None
    settings = Settings.from_env({"DATABASE_URL": "postgresql://x", "OPENAI_API_KEY": KEY,
                                  "OPENAI_BASE_URL": "http://127.0.0.1:9/v1/"})
    client = embedder_from_settings(settings)
    assert client is not None
    assert (client.base_url, client.model, client.dimensions) == ("http://127.0.0.1:9/v1", MODEL, 384)
    assert KEY not in repr(client)
    client.close()

"""A local OpenAI-compatible server for tests and the demo: nothing leaves 127.0.0.1 and nothing is paid for.

Endpoints, in OpenAI's shapes, answering what the official ``openai`` package sends (its
``x-stainless-*`` headers are accepted and recorded, never needed):
- ``POST /v1/chat/completions``: a deterministic short summary made from the last user message's
  ``Title:`` line ("Discussion about <title>."; the message is text, or a list of text parts), cut to
  150 characters and to ``max_completion_tokens`` or ``max_tokens`` (about 4 characters a token,
  ``finish_reason`` "length" when that cuts);
- ``POST /v1/embeddings``: deterministic unit vectors of ``dimensions`` (default 1536) in which texts
  sharing most words lie close (cosine near 1) and texts without common words lie apart (near 0), so
  that similarity search can be tested; a shorter vector is the renormalized prefix of a longer one,
  as OpenAI's shortened embeddings are; ``encoding_format`` "float" or "base64" (what the openai
  package asks for). A vector is made by feature hashing in a fixed 3,072-wide space (``embedding``):

  - words are the lowercase runs of 3 or more letters and digits; a word ``n`` times in the text
    weighs ``1 + ln n``, and a common English word (``_STOP_WORDS``) a fifth of that;
  - each word hashes (SHAKE-256) to 64 positions with signs ±1, one in each 48-wide block of the
    space, so every word has the same norm and keeps ``d / 48`` positions in ``d`` dimensions (8 at 384);
  - the vector in ``d`` dimensions is the weighted sum of the words' positions below ``d``, plus a
    faint (1e-6) copy of the first 48 values of the text's hash-drawn vector (gaussian draws seeded
    by sha256 of the text), normalized. The faint copy keeps every prefix nonzero: where no word
    lands, or the words cancel, the vector is the hash-drawn one, and a text without a word (say,
    only symbols) gets the whole hash-drawn vector, as every text did before. Positions past 3,072
    stay 0. The prefix property holds for every ``d``, since a shorter vector keeps the same sums.

  Cosine is then about the weighted share of common words: a title of n words with one word changed
  scores about (n - 1) / n, word order does not count, and texts without a common word score about
  0, give or take 0.05 at 384 dimensions (hash collisions; 1 / sqrt(d) in general);
- ``GET /v1/models``.

Like OpenAI it wants ``Authorization: Bearer <key>`` (any key) and answers 401 without one. Knobs,
changeable while it runs: ``latency_s`` before each answer, a seeded share ``fail_rate`` of requests
failing with ``fail_status`` (429, 500 or 503, with OpenAI's error bodies), and ``down`` to refuse
everything with 503. ``counters`` and ``received`` (bodies, headers and times, never the key) are for asserts.

Written by hand: werkzeug does the HTTP, as for the GitHub simulator.
"""

from __future__ import annotations

import base64
import collections
import functools
import hashlib
import itertools
import json
import math
import random
import re
import struct
import threading
import time
from array import array
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

if TYPE_CHECKING:
    from collections.abc import Iterable
    from types import TracebackType
    from wsgiref.types import StartResponse, WSGIEnvironment

DEFAULT_DIMENSIONS = 1536
SUMMARY_CHARS = 150
MODELS = ("gpt-4o-mini", "text-embedding-3-small", "text-embedding-3-large")
_TITLE = re.compile(r"^Title:[ \t]*(.*)$", re.MULTILINE)

_ERRORS: dict[int, tuple[str, str | None, str]] = {  # status → (type, code, message), as OpenAI words them
    400: ("invalid_request_error", None, "We could not parse the JSON body of your request."),
    401: ("invalid_request_error", None, "You didn't provide an API key. You need to provide your API key in an "
          "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."),
    404: ("invalid_request_error", None, "Invalid URL"),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests. Please try again in 1s."),
    500: ("server_error", None, "The server had an error while processing your request. Sorry about that!"),
    503: ("server_error", None, "The engine is currently overloaded, please try again later."),
}


class Invalid(Exception):
    """A request OpenAI would answer with a 400."""


@dataclass
class FakeCounters:
    requests: int = 0
    endpoints: dict[str, int] = field(default_factory=dict)   # "POST /v1/chat/completions" → n
    statuses: dict[int, int] = field(default_factory=dict)
    failures: int = 0       # injected: fail_rate and down
    unauthorized: int = 0


@dataclass(frozen=True)
class Received:
    at: float          # time.time() when the request arrived
    method: str
    path: str
    body: Any          # the parsed JSON body, or the raw text when it is not JSON
    headers: dict[str, str] = field(default_factory=dict)  # lowercase names; never Authorization


def summary_for(prompt: str) -> str:
    """The fake's summary of a prompt: about its ``Title:`` line (or its first line)."""
    match = _TITLE.search(prompt)
    subject = (match.group(1) if match else prompt.strip().split("\n", 1)[0]).strip() or "nothing"
    text = f"Discussion about {subject}."
    if len(text) <= SUMMARY_CHARS:
        return text
    head = text[: SUMMARY_CHARS - 1]
    return (head[: head.rfind(" ")] if " " in head else head) + "…"


_SPACE = 3072  # text-embedding-3-large's width; more dimensions are allowed, and stay 0 past it
_BLOCK = 48    # a word has one position in each block: _SPACE // _BLOCK = 64 positions
_FAINT = 1e-6  # the weight of the hash-drawn vector's first block in a text with words
_STOP_WEIGHT = 0.2
_CACHED_WORDS = 1 << 16  # per number of dimensions
_WORD = re.compile(r"[^\W_]{3,}")
_STOP_WORDS = frozenset({
    "about", "after", "all", "also", "and", "any", "are", "been", "before", "but", "can", "could", "did", "does",
    "for", "from", "had", "has", "have", "her", "his", "how", "into", "its", "just", "more", "not", "now", "only",
    "our", "out", "over", "should", "some", "such", "than", "that", "the", "their", "them", "then", "there",
    "these", "they", "this", "those", "too", "very", "was", "were", "what", "when", "where", "which", "who", "why",
    "will", "with", "would", "you", "your",
})


def embedding(text: str, dimensions: int = DEFAULT_DIMENSIONS) -> list[float]:
    """A unit vector for ``text``, by feature hashing of its words (the module's docstring has the scheme);
    the vector for fewer dimensions is the renormalized prefix of the vector for more."""
    weights = _word_weights(text)
    rng = random.Random(hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest())
    if not weights:  # no word: the hash-drawn vector alone
        values = [rng.gauss(0.0, 1.0) for _ in range(dimensions)]
    else:
        values = [_FAINT * rng.gauss(0.0, 1.0) for _ in range(min(dimensions, _BLOCK))]
        values.extend(itertools.repeat(0.0, dimensions - len(values)))
        prefixes = _prefixes(dimensions)
        for word, weight in weights.items():
            for code in prefixes[word]:
                if code >= 0:
                    values[code] += weight
                else:
                    values[~code] -= weight
    norm = math.hypot(*values) or 1.0
    return [v / norm for v in values]


def _word_weights(text: str) -> dict[str, float]:
    """Each word's weight: sublinear in its count, and low for a common English word."""
    counts = collections.Counter(_WORD.findall(text.lower()))
    return {word: (1.0 + math.log(n)) * (_STOP_WEIGHT if word in _STOP_WORDS else 1.0)
            for word, n in counts.items()}


def _word_codes(word: str, blocks: int) -> array[int]:
    """A word's signed positions in the first ``blocks`` blocks, one in each: ``p`` for +1 and ``~p`` for -1.
    Drawn from SHAKE-256, whose shorter outputs are the prefixes of its longer ones."""
    draws = struct.unpack(f"<{blocks}I", hashlib.shake_256(word.encode("utf-8", "surrogatepass")).digest(4 * blocks))
    codes = array("h")
    for start, draw in zip(range(0, blocks * _BLOCK, _BLOCK), draws, strict=True):
        sign, offset = divmod(draw, _BLOCK)
        codes.append(start + offset if sign & 1 else ~(start + offset))
    return codes


class _Prefixes(dict[str, "array[int]"]):
    """Each word's codes at positions below ``dimensions``, computed once (8 codes at 384 dimensions)."""

    def __init__(self, dimensions: int) -> None:
        super().__init__()
        self.dimensions = dimensions
        self.blocks = min(-(-dimensions // _BLOCK), _SPACE // _BLOCK)

    def __missing__(self, word: str) -> array[int]:
        if len(self) >= _CACHED_WORDS:
            self.clear()
        codes = _word_codes(word, self.blocks)
        prefix = self[word] = array("h", (c for c in codes if max(c, ~c) < self.dimensions))
        return prefix


@functools.lru_cache(maxsize=8)
def _prefixes(dimensions: int) -> _Prefixes:
    return _Prefixes(dimensions)


def _tokens(text: str) -> int:
    return max(1, len(text) // 4)


def _error(status: int, message: str | None = None, headers: dict[str, str] | None = None) -> Response:
    kind, code, default = _ERRORS.get(status, _ERRORS[500])
    body = {"error": {"message": message or default, "type": kind, "param": None, "code": code}}
    return Response(json.dumps(body), status=status, content_type="application/json", headers=headers)


def _json(body: dict[str, Any]) -> Response:
    return Response(json.dumps(body), content_type="application/json")


class FakeOpenAI:
    """The OpenAI-compatible server on 127.0.0.1, in a thread."""

    def __init__(self, *, latency_s: float = 0.0, fail_rate: float = 0.0, fail_status: int = 500, seed: int = 0,
                 down: bool = False, port: int = 0) -> None:
        self.latency_s = latency_s
        self.fail_rate = fail_rate
        self.fail_status = fail_status
        self.down = down
        self.counters = FakeCounters()
        self._received: list[Received] = []
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._port = port
        self._server: Any = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeOpenAI is not started")
        return f"http://127.0.0.1:{self._server.server_port}/v1"

    def start(self) -> str:
        """Serves on 127.0.0.1 (a free port unless one was given) and answers the base URL, ending in ``/v1``."""
        self._stopping.clear()
        self._server = make_server("127.0.0.1", self._port, self, threaded=True, request_handler=_QuietHandler)
        # A short poll interval: shutdown() waits for the next poll, and tests start and stop many servers.
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        name="openai-fake", daemon=True)
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()  # wakes requests waiting out their latency
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(timeout=10)
        self._server, self._thread = None, None

    def __enter__(self) -> FakeOpenAI:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    @property
    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    # -- one request -------------------------------------------------------------------------------

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        response = self._respond(request)
        with self._lock:
            self.counters.statuses[response.status_code] = self.counters.statuses.get(response.status_code, 0) + 1
        return response(environ, start_response)

    def _respond(self, request: Request) -> Response:
        raw = request.get_data(as_text=True)
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw
        endpoint = f"{request.method} {request.path}"
        with self._lock:
            self.counters.requests += 1
            self.counters.endpoints[endpoint] = self.counters.endpoints.get(endpoint, 0) + 1
            self._received.append(Received(time.time(), request.method, request.path, body, {
                name.lower(): value for name, value in request.headers.items() if name.lower() != "authorization"}))
        if self.down:
            return self._failed(503)
        if self.latency_s:
            self._stopping.wait(self.latency_s)
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            with self._lock:
                self.counters.unauthorized += 1
            return _error(401)
        with self._lock:
            failing = self._rng.random() < self.fail_rate
        if failing:
            return self._failed(self.fail_status)
        return self._route(request, endpoint, body)

    def _failed(self, status: int) -> Response:
        with self._lock:
            self.counters.failures += 1
        return _error(status, headers={"retry-after": "1"} if status == 429 else None)  # noqa: PLR2004

    def _route(self, request: Request, endpoint: str, body: object) -> Response:
        handlers = {"POST /v1/chat/completions": self._chat, "POST /v1/embeddings": self._embeddings}
        if endpoint == "GET /v1/models":
            return _json({"object": "list", "data": [
                {"id": m, "object": "model", "created": 1_700_000_000, "owned_by": "system"} for m in MODELS]})
        handler = handlers.get(endpoint)
        if handler is None:
            return _error(404, f"Invalid URL ({request.method} {request.path})")
        if not isinstance(body, dict):
            return _error(400)
        try:
            return _json(handler(body))
        except Invalid as exc:
            return _error(400, str(exc))

    def _chat(self, body: dict[str, Any]) -> dict[str, Any]:
        messages = body.get("messages")
        if not isinstance(body.get("model"), str) or not isinstance(messages, list) or not messages:
            raise Invalid("'model' and a non-empty 'messages' are required")
        prompts = [_text(m.get("content")) for m in messages if isinstance(m, dict) and m.get("role") == "user"]
        prompt = prompts[-1] if prompts else ""
        content, finish = summary_for(prompt), "stop"
        limit = body.get("max_completion_tokens") or body.get("max_tokens")
        if isinstance(limit, int) and len(content) > limit * 4:
            content, finish = content[: limit * 4], "length"
        with self._lock:
            n = self.counters.requests
        usage = {"prompt_tokens": _tokens(prompt), "completion_tokens": _tokens(content)}
        return {
            "id": f"chatcmpl-fake{n:010d}", "object": "chat.completion", "created": int(time.time()),
            "model": body["model"], "system_fingerprint": "fp_fake",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content, "refusal": None},
                         "logprobs": None, "finish_reason": finish}],
            "usage": {**usage, "total_tokens": sum(usage.values())},
        }

    def _embeddings(self, body: dict[str, Any]) -> dict[str, Any]:
        inputs = body.get("input")
        if isinstance(inputs, str) or (isinstance(inputs, list) and inputs and isinstance(inputs[0], int)):
            inputs = [inputs]  # one text, or one array of tokens
        if not isinstance(body.get("model"), str) or not isinstance(inputs, list) or not inputs or "" in inputs:
            raise Invalid("'model' and a non-empty 'input' are required")
        dimensions = DEFAULT_DIMENSIONS if body.get("dimensions") is None else body["dimensions"]
        if not isinstance(dimensions, int) or isinstance(dimensions, bool) or dimensions < 1:
            raise Invalid("'dimensions' must be a positive integer")
        base64_format = body.get("encoding_format") == "base64"
        data = []
        for index, item in enumerate(inputs):
            text = item if isinstance(item, str) else json.dumps(item)  # token arrays are hashed as JSON
            vector = embedding(text, dimensions)
            encoded: Any = base64.b64encode(struct.pack(f"<{dimensions}f", *vector)).decode() if base64_format \
                else vector
            data.append({"object": "embedding", "index": index, "embedding": encoded})
        tokens = sum(_tokens(i if isinstance(i, str) else json.dumps(i)) for i in inputs)
        return {"object": "list", "data": data, "model": body["model"],
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}


def _text(content: object) -> str:
    """A message's text: a string, or the text parts of a list (``[{"type": "text", "text": ...}]``)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(part["text"] for part in content
                         if isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str))
    return ""


class _QuietHandler(WSGIRequestHandler):
    """No access log line per request; ``counters`` and ``received`` have the figures."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


__all__ = ["DEFAULT_DIMENSIONS", "FakeCounters", "FakeOpenAI", "Received", "embedding", "summary_for"]

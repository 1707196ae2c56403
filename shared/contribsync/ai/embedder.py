"""Embeddings of issues, pull requests and discussions: the text, the hash, the OpenAI client, the budget.

As contributor.info stores them: OpenAI ``text-embedding-3-small`` shortened to 384 dimensions, input
``"[ISSUE|PULL_REQUEST|DISCUSSION] {title} {body}"`` cut to 2,000 characters, ``content_hash`` the
first 16 hex characters of sha256 of ``"{title}:{body}"``. One model stores and queries: each vector
records its model (``embedding_model``), and a vector from another model counts as missing.

OpenAI is called through the official ``openai`` package (``OpenAI.embeddings.create``), imported on the
first request and built with ``contribsync.ai.openai_client.OpenAIClient``: its import costs a second of
cold start, and its own retries are off (``MAX_RETRIES`` there says why: the runtime retries and defers).
The package asks for vectors in base64 (a quarter of the JSON's size at 2,048 inputs) and decodes them.
Its typed errors become ours once, here: a 429 is ``OpenAIRateLimited`` until its Retry-After, a
refused key or request ``NonRetriable``, anything else ``OpenAIError``. Requests and tokens per minute
are budgeted in Postgres token buckets (``budget_take.sql``), shared by every Lambda instance: a request
waits for its budget when that takes seconds, and the run is deferred when it takes longer.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from contribsync.ai.openai_client import DEFAULT_BASE_URL, OpenAIClient
from contribsync.errors import NonRetriable, OpenAIError, OpenAIRateLimited

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    import httpx
    import openai
    from openai.types import CreateEmbeddingResponse

    from contribsync.db import Database
    from contribsync.settings import Settings

MODEL = "text-embedding-3-small"
DIMENSIONS = 384
INPUT_CHARS = 2000
MAX_INPUTS = 2048            # OpenAI's limit of inputs per request
MAX_REQUEST_TOKENS = 250_000  # OpenAI refuses more than 300,000 tokens in one request; keep a margin
PREFIX = {"issue": "ISSUE", "pull_request": "PULL_REQUEST", "discussion": "DISCUSSION"}
WAIT_INLINE_S = 20.0          # a budget wait up to this long is slept; a longer one defers the run


def embedding_input(item_type: str, title: str, body: str | None) -> str:
    """contributor.info's input text, cut to 2,000 characters (never empty: the prefix is there)."""
    text = f"[{PREFIX[item_type]}] {title} {body or ''}".strip()
    return text[:INPUT_CHARS].encode("utf-8", "replace").decode()  # lone surrogates → "?"


def content_hash(title: str, body: str | None) -> str:
    """sha256 of ``"{title}:{body}"``, first 16 hex characters (SQL: ``contribsync_content_hash``)."""
    return hashlib.sha256(f"{title}:{body or ''}".encode("utf-8", "surrogatepass")).hexdigest()[:16]


def estimate_tokens(text: str) -> int:
    """An upper-bound guess of a text's tokens for sizing requests (English runs ~4 characters a token;
    bytes / 3 leaves room for code and other scripts). Costs use the tokens OpenAI reports."""
    return len(text.encode("utf-8")) // 3 + 1


def vector_literal(vector: Sequence[float]) -> str:
    """pgvector's text form."""
    return "[" + ",".join(f"{x:.7g}" for x in vector) + "]"


@dataclass(frozen=True)
class Embedded:
    vectors: list[list[float]]
    tokens: int  # as OpenAI counted them (usage.total_tokens)


class Embedder(Protocol):
    model: str
    dimensions: int

    def embed(self, texts: Sequence[str]) -> Embedded: ...


class OpenAIEmbedder:
    """``embeddings.create`` of OpenAI or a compatible server at ``base_url``. ``http_client`` is an
    ``httpx.Client`` for tests."""

    def __init__(self, api_key: str, *, base_url: str | None = None, model: str = MODEL,
                 dimensions: int = DIMENSIONS, timeout_s: float = 60.0,
                 http_client: httpx.Client | None = None) -> None:
        self.model = model
        self.dimensions = dimensions
        self.base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self.timeout_s = timeout_s
        self._key = api_key
        self._openai = OpenAIClient(api_key, base_url=self.base_url, timeout_s=timeout_s, http_client=http_client)

    def __repr__(self) -> str:
        return f"OpenAIEmbedder(base_url={self.base_url!r}, model={self.model!r}, dimensions={self.dimensions})"

    def embed(self, texts: Sequence[str]) -> Embedded:
        if not self._key:  # an empty bearer token is not even a valid header
            raise NonRetriable("no OpenAI API key: set OPENAI_API_KEY")
        client = self._openai.get()
        import openai

        try:
            answer = client.embeddings.create(model=self.model, input=list(texts), dimensions=self.dimensions)
        except openai.APIStatusError as exc:
            # not chained: the package's message is the whole error body, and a 401's quotes part of the key
            raise _status_error(exc) from None
        except openai.APITimeoutError as exc:
            raise OpenAIError(f"OpenAI embeddings timed out after {self.timeout_s}s") from exc
        except openai.APIConnectionError as exc:  # httpx's error is the cause
            raise OpenAIError(f"OpenAI embeddings request failed: {type(exc.__cause__ or exc).__name__}") from exc
        except (ValueError, TypeError, AttributeError) as exc:  # the package could not read or decode the body
            raise OpenAIError(f"malformed embeddings answer: {type(exc).__name__}") from exc
        return self._parse(answer, len(texts))

    def _parse(self, answer: CreateEmbeddingResponse, n: int) -> Embedded:
        """The vectors in input order. The package builds its models from the body without validating them,
        so a body of another shape shows here, as a missing attribute or a wrong type."""
        try:
            rows = sorted(answer.data, key=lambda d: d.index)
            vectors = [[float(x) for x in d.embedding] for d in rows]  # the package decoded the base64
            tokens = int(answer.usage.total_tokens)
        except (ValueError, TypeError, AttributeError) as exc:
            raise OpenAIError(f"malformed embeddings answer: {type(exc).__name__}") from exc
        if len(vectors) != n or any(len(v) != self.dimensions for v in vectors):
            raise OpenAIError(f"embeddings answer has {len(vectors)} vectors for {n} inputs, or wrong dimensions")
        return Embedded(vectors, tokens)

    def close(self) -> None:
        self._openai.close()


def _status_error(exc: openai.APIStatusError) -> OpenAIError | NonRetriable:
    """A 4xx or 5xx as our error: 429 deferred, 401/403 and other 4xx not retried, 5xx retried."""
    status = exc.status_code
    if status == 429:  # noqa: PLR2004 - openai.RateLimitError
        wait = _retry_after(exc.response)
        return OpenAIRateLimited(f"OpenAI rate limit (HTTP 429): retry in {wait:g}s",
                                 defer_until=datetime.now(UTC) + timedelta(seconds=wait))
    if status in (401, 403):  # openai.AuthenticationError, PermissionDeniedError
        return NonRetriable(f"OpenAI refused the API key (HTTP {status}): check OPENAI_API_KEY")
    if exc.response.is_client_error:  # openai.BadRequestError, NotFoundError, UnprocessableEntityError, ...
        return NonRetriable(f"OpenAI refused the request (HTTP {status}): {_message(exc.response)}")
    return OpenAIError(f"OpenAI embeddings failed: HTTP {status}")


def _retry_after(response: httpx.Response) -> float:
    try:
        return max(1.0, float(response.headers.get("retry-after", "")))
    except ValueError:
        return 20.0


def _message(response: httpx.Response) -> str:
    try:
        return str(response.json()["error"]["message"])[:200]
    except (ValueError, KeyError, TypeError):
        return response.text[:200]


class OpenAIBudget:
    """OpenAI's requests and tokens per minute for one model, as Postgres token buckets shared by every
    instance (``budget_take.sql``). Not GitHub's rate-limit budget (``contribsync.github.budget``)."""

    def __init__(self, db: Database, *, model: str, requests_per_minute: float, tokens_per_minute: float,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.db = db
        self.model = model
        self.limits = {"requests": requests_per_minute, "tokens": tokens_per_minute}
        self.clock = clock
        self.sleep = sleep
        self.waited_s = 0.0

    def take(self, tokens: int) -> None:
        """Take one request and ``tokens`` from the minute's budget: sleep when the budget is back within
        ``WAIT_INLINE_S``, else raise ``OpenAIRateLimited`` so the runtime defers the message."""
        for want in (("requests", 1), ("tokens", min(tokens, self.limits["tokens"]))):
            while (wait := self._take(*want)) > 0:
                if wait > WAIT_INLINE_S:
                    raise OpenAIRateLimited(f"OpenAI {want[0]} per minute spent: retry in {wait:.0f}s",
                                            defer_until=self.clock() + timedelta(seconds=wait))
                self.waited_s += wait
                self.sleep(wait)

    def settle(self, estimated: int, counted: int) -> None:
        """Give back the tokens an estimate charged beyond what OpenAI counted (estimates run high)."""
        if (over := min(estimated, self.limits["tokens"]) - counted) > 0:
            self._take("tokens", -over)

    def _take(self, kind: str, amount: float) -> float:
        per_minute = self.limits[kind]
        row = self.db.query_one("budget_take", {
            "scope": "openai", "key": f"{self.model}:{kind}", "capacity": per_minute, "rate": per_minute / 60,
            "amount": amount, "now": self.clock()})
        if row is None or row["granted"]:
            return 0.0
        return math.ceil((amount - float(row["tokens"])) / (per_minute / 60) * 100) / 100


def embedder_from_settings(settings: Settings) -> OpenAIEmbedder | None:
    """The configured embedder, or None when no OpenAI key is set (the functions then skip)."""
    if not settings.openai_api_key:
        return None
    return OpenAIEmbedder(settings.openai_api_key, base_url=settings.openai_base_url)


__all__ = ["DIMENSIONS", "MODEL", "Embedded", "Embedder", "OpenAIBudget", "OpenAIEmbedder", "content_hash",
           "embedder_from_settings", "embedding_input", "estimate_tokens", "vector_literal"]

"""AI summaries of discussions, made as contributor.info makes them: gpt-4o-mini, 1-2 sentences, none on error.

OpenAI is called through the official ``openai`` package (``OpenAI.chat.completions.create``), imported
on the first request, through ``contribsync.ai.openai_client.OpenAIClient``: the one policy of both
OpenAI clients, here and in ``contribsync.ai.embedder`` (the package's own retries are off).

A summary is best effort. Every failure (no key, an HTTP error, a timeout, a refused connection, a
malformed answer) becomes ``Summary(None, reason)`` and one log line, never an exception, so a sync
never fails over a summary. The API key is in no log line, no reason and no repr.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from contribsync.ai.openai_client import DEFAULT_BASE_URL, OpenAIClient
from contribsync.observability import logger

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import TracebackType

    import httpx
    import openai

    from contribsync.settings import Settings

SUMMARY_MODEL = "gpt-4o-mini"
SUMMARY_MAX_TOKENS = 50  # contributor.info's figures; 50 tokens is ~200 characters, enough for 150
SUMMARY_TEMPERATURE = 0.3
SUMMARY_MAX_CHARS = 150
BODY_PREVIEW_CHARS = 500
ELLIPSIS = "…"


@dataclass(frozen=True)
class Summary:
    """A discussion's summary: ``text``, or ``None`` and the ``reason`` there is none."""

    text: str | None
    reason: str | None = None


class Summarizer(Protocol):
    def summarize(self, title: str, body: str | None) -> Summary: ...


def summary_prompt(title: str, body: str | None) -> str:
    """contributor.info's prompt, verbatim (capture-repository-discussions, backfill-discussion-summaries)."""
    return (
        "Summarize this GitHub discussion in 1-2 concise sentences (max 150 chars). "
        "Focus on the MAIN QUESTION or TOPIC and KEY POINTS. Use plain text only.\n\n"
        f"Title: {title}\nBody: {(body or '')[:BODY_PREVIEW_CHARS]}\n\nSummary:"
    )


def content_hash(title: str, body: str | None) -> str:
    """What a summary was made from (sha256 hex of title, newline, body): regenerate only when it changes.

    Not the embeddings' ``content_hash``, which contributor.info computes as sha256 of ``{title}:{body}``
    cut to 16 characters."""
    return hashlib.sha256(f"{title}\n{body or ''}".encode("utf-8", "surrogatepass")).hexdigest()


# Markdown the model sometimes answers with despite "plain text only", replaced in this order.
_MARKUP = (
    (re.compile(r"!?\[([^\]]*)\]\([^)]*\)"), r"\1"),                      # [text](url), images
    (re.compile(r"\*\*(.+?)\*\*"), r"\1"),                                 # **bold**; not __ (__init__)
    (re.compile(r"(?<![\w*])\*(?=\S)([^*]+?)(?<=\S)\*(?![\w*])"), r"\1"),  # *italic*
    (re.compile(r"`+"), ""),                                              # `code`
    (re.compile(r"^[ \t]*(?:#{1,6}[ \t]+|>[ \t]?|[-*+][ \t]+|\d+[.)][ \t]+)", re.MULTILINE), ""),  # blocks
    (re.compile(r"(?<!\S)[*_#>]+(?!\S)"), ""),                             # stray markers
)
_LABEL = re.compile(r"^(?:summary|tl;dr)\s*:\s*", re.IGNORECASE)
_QUOTES = {'"': '"', "'": "'", "“": "”", "‘": "’"}  # noqa: RUF001 - typographic quotes are the point
_SENTENCE_END = re.compile(r"[.!?](?=\s)")


def plain_text(answer: str) -> str:
    """The model's answer as one line of plain text: no markdown, no "Summary:" label, no wrapping quotes."""
    text = answer
    for pattern, replacement in _MARKUP:
        text = pattern.sub(replacement, text)
    text = _LABEL.sub("", " ".join(text.split()))
    if len(text) > 1 and _QUOTES.get(text[0]) == text[-1]:
        text = text[1:-1].strip()
    return text


def cut(text: str, limit: int = SUMMARY_MAX_CHARS) -> str:
    """``text`` in at most ``limit`` characters: whole sentences when those fill a third of the limit, else
    whole words and an ellipsis (a single longer word is cut inside)."""
    if len(text) <= limit:
        return text
    ends = [m.end() for m in _SENTENCE_END.finditer(text, 0, limit + 1)]
    if ends and ends[-1] >= limit // 3:
        return text[: ends[-1]]
    space = text.rfind(" ", 0, limit)  # at most limit - 1 characters before it, so the ellipsis fits
    words = text[:space].rstrip(" ,;:-–—") if space > 0 else ""  # noqa: RUF001 - dashes
    return (words or text[: limit - 1]) + ELLIPSIS


class _Spacing:
    """Hands out start times at least ``interval_s`` apart to any number of threads; each sleeps its own wait."""

    def __init__(self, interval_s: float, clock: Callable[[], float], sleep: Callable[[float], None]) -> None:
        self.interval_s = interval_s
        self._clock = clock
        self._sleep = sleep
        self._next = float("-inf")
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            now = self._clock()
            start = max(now, self._next)
            self._next = start + self.interval_s
        if start > now:
            self._sleep(start - now)


class OpenAISummarizer:
    """Summaries from OpenAI's chat completions (or any compatible server at ``base_url``).

    Requests start at least ``min_interval_s`` apart (contributor.info waits 100 ms between
    discussions), or ``60 / requests_per_minute`` apart when that is longer, across threads.
    ``clock`` and ``sleep`` drive that spacing; ``http_client`` is an ``httpx.Client`` for tests.
    """

    def __init__(self, api_key: str | None, *, base_url: str | None = None, model: str = SUMMARY_MODEL,
                 timeout_s: float = 10.0, min_interval_s: float = 0.1, requests_per_minute: float | None = None,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
                 http_client: httpx.Client | None = None) -> None:
        if requests_per_minute is not None and requests_per_minute <= 0:
            raise ValueError("requests_per_minute must be positive")
        self._api_key = api_key or None
        self.base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self.model = model
        self.timeout_s = timeout_s
        per_minute_s = 60.0 / requests_per_minute if requests_per_minute else 0.0
        self._spacing = _Spacing(max(min_interval_s, per_minute_s), clock, sleep)
        self._openai = OpenAIClient(self._api_key or "", base_url=self.base_url, timeout_s=timeout_s,
                                    http_client=http_client)

    @property
    def interval_s(self) -> float:
        return self._spacing.interval_s

    def __repr__(self) -> str:
        return f"OpenAISummarizer(base_url={self.base_url!r}, model={self.model!r}, key={self._api_key is not None})"

    def summarize(self, title: str, body: str | None) -> Summary:
        if self._api_key is None:
            return self._none("no OpenAI API key configured")
        prompt = summary_prompt(title, body).encode("utf-8", "replace").decode()  # lone surrogates → "?"
        try:
            completion = self._complete(prompt)
        except Exception as exc:  # a summary never raises: every failure is a reason
            return self._none(_failure(exc, self.timeout_s))
        try:
            text, reason = _answer(completion)
        except Exception as exc:  # an answer shaped like none of _answer's cases
            text, reason = None, f"malformed answer: {type(exc).__name__}"
        return Summary(text) if reason is None else self._none(reason)

    def _complete(self, prompt: str) -> object:
        client = self._openai.get()  # the first call imports openai, before this request's slot
        self._spacing.wait()
        return client.chat.completions.create(
            model=self.model, messages=[{"role": "user", "content": prompt}],
            max_tokens=SUMMARY_MAX_TOKENS, temperature=SUMMARY_TEMPERATURE)

    def _none(self, reason: str) -> Summary:
        if self._api_key:
            reason = reason.replace(self._api_key, "***")
        logger.warning("summary not generated", extra={"reason": reason, "model": self.model})
        return Summary(None, reason)

    def close(self) -> None:
        self._openai.close()

    def __enter__(self) -> OpenAISummarizer:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def _failure(exc: Exception, timeout_s: float) -> str:
    """Why a request failed, from the package's typed errors (a refused connection keeps httpx's as its cause)."""
    if isinstance(exc, ImportError):
        return f"no OpenAI client: {type(exc).__name__}: {exc}"
    import openai

    if isinstance(exc, openai.APITimeoutError):
        return f"timed out after {timeout_s:g}s"
    if isinstance(exc, openai.APIConnectionError):  # refused, reset, DNS, protocol errors
        cause = exc.__cause__ or exc
        return f"request failed: {type(cause).__name__}: {cause}"
    if isinstance(exc, openai.APIStatusError):
        return _http_error(exc)
    if isinstance(exc, ValueError):  # a JSON content type and a body that is not JSON
        return "malformed answer: not JSON"
    return f"request failed: {type(exc).__name__}: {exc}"


def _http_error(exc: openai.APIStatusError) -> str:
    """``HTTP <status> [<code or type>][: <message>]`` from OpenAI's ``{"error": {...}}`` body, when there is one."""
    reason = f"HTTP {exc.status_code}"
    if code := exc.code or exc.type:  # the package reads them from the error body
        reason += f" {code}"
    # OpenAI's 401 message quotes part of the key, so only other client errors carry their message. Not
    # str(exc): the package's message is the whole body.
    message = exc.body.get("message") if isinstance(exc.body, dict) else None
    if message and exc.response.is_client_error and exc.status_code not in (401, 403):
        reason += f": {str(message)[:200]}"
    return reason


def _answer(completion: object) -> tuple[str, None] | tuple[None, str]:
    """The summary from a chat completion, or why there is none. The package builds its models from the
    body without validating them (and answers a body that is not JSON as text), so each step is checked."""
    from openai.types.chat import ChatCompletion, ChatCompletionMessage

    if isinstance(completion, str):
        return None, "malformed answer: not JSON"
    try:
        message = completion.choices[0].message if isinstance(completion, ChatCompletion) else None
    except (AttributeError, IndexError, TypeError):  # no choices, or a choice that is not an object
        message = None
    if not isinstance(message, ChatCompletionMessage):
        return None, "malformed answer: no choices[0].message"
    if message.refusal:
        return None, "the model refused"
    content: object = message.content
    if not isinstance(content, str):
        return None, "malformed answer: content is not text"
    text = cut(plain_text(content))
    return (text, None) if text else (None, "empty answer")


class NoSummaries:
    """The summarizer when summaries are off: never calls anyone."""

    def summarize(self, title: str, body: str | None) -> Summary:
        return Summary(None, "summaries disabled")


def summarizer_from_settings(settings: Settings) -> Summarizer:
    """``OpenAISummarizer`` when an OpenAI key is configured, else ``NoSummaries``."""
    if not settings.openai_api_key:
        return NoSummaries()
    return OpenAISummarizer(settings.openai_api_key, base_url=settings.openai_base_url,
                            requests_per_minute=settings.openai_requests_per_minute)


__all__ = [
    "SUMMARY_MAX_CHARS",
    "SUMMARY_MODEL",
    "NoSummaries",
    "OpenAISummarizer",
    "Summarizer",
    "Summary",
    "content_hash",
    "cut",
    "plain_text",
    "summarizer_from_settings",
    "summary_prompt",
]

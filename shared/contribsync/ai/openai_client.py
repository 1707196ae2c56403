"""The ``openai.OpenAI`` client both OpenAI clients use (``summarizer``, ``embedder``), and its one policy.

OpenAI is called through the official ``openai`` package. The package is imported the first time a
request is made, never when a module (or a handler) is imported, nor when a client is made: importing it
costs about a second, and loading its chat or embeddings types most of another, which a function that
never calls OpenAI must not pay at cold start. Its own retries are off (``MAX_RETRIES`` says why).

``base_url`` (``OPENAI_BASE_URL``) points the client at any OpenAI-compatible server; locally and in
tests that is ``contribsync_local.openai_fake``. The package also reads ``OPENAI_ORG_ID``,
``OPENAI_PROJECT_ID`` and ``OPENAI_CUSTOM_HEADERS`` from the environment by itself; the key and the
base URL are always passed in, from ``Settings``.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx
    import openai

DEFAULT_BASE_URL = "https://api.openai.com/v1"

# The openai client's own retries are off, for summaries and embeddings alike, so that a failure is
# retried exactly as often as before the package was used:
# - a summary is one request: when it fails the discussion is stored without one, and its next sync
#   asks again (only a stored summary counts as done);
# - an embeddings request is retried by the runtime: a 5xx or a timeout fails the message, which SQS
#   redelivers with backoff (the catalog's retries), and a 429 defers it until Retry-After.
# The package's default (2 retries of timeouts, refused connections, 408, 409, 429 and 5xx, sleeping
# Retry-After up to 2 minutes, else 0.5 s doubling to 8 s) would send a failing request 3 times in each
# attempt of a message; it would sleep inside the Lambda on a 429 that we defer; and its retries would
# bypass both the summaries' spacing and the embeddings' Postgres budget, which count one request a call.
MAX_RETRIES = 0


class OpenAIClient:
    """An ``openai.OpenAI`` client made on first use, which is when ``openai`` is imported (see the module's
    docstring), with ``MAX_RETRIES``; shared by threads. ``http_client`` is an ``httpx.Client`` for tests
    (``httpx.MockTransport``); it is closed with this client."""

    def __init__(self, api_key: str, *, base_url: str, timeout_s: float,
                 http_client: httpx.Client | None = None) -> None:
        self._api_key = api_key
        self._base_url = base_url
        self._timeout_s = timeout_s
        self._http_client = http_client
        self._client: openai.OpenAI | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"OpenAIClient(base_url={self._base_url!r}, made={self._client is not None})"

    def get(self) -> openai.OpenAI:
        with self._lock:
            if self._client is None:
                import openai

                # base_url and api_key are always given: left out, the package would read OPENAI_BASE_URL and
                # OPENAI_API_KEY itself, and Settings is the one reader of the environment.
                self._client = openai.OpenAI(api_key=self._api_key, base_url=self._base_url,
                                             timeout=self._timeout_s, max_retries=MAX_RETRIES,
                                             http_client=self._http_client)
            return self._client

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
            http_client, self._http_client = self._http_client, None
        if client is not None:
            client.close()  # closes http_client too
        elif http_client is not None:
            http_client.close()


__all__ = ["DEFAULT_BASE_URL", "MAX_RETRIES", "OpenAIClient"]

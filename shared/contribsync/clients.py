"""The composition root: every client a function talks to, built once per container from ``Settings``.

A handler builds one ``Clients`` at module scope and hands it to its ``Runtime`` (or the webhook receiver,
or the event API); the CLI, the local stack, the benchmarks and the tests build theirs the same way, from
a ``Settings`` they make, and may pass ready clients (a fake clock, a fake GitHub) in its place. Nothing
else reads the environment or builds a client.

Each client is built on first use, not at import: a Lambda whose import raised would fail its init on
every invocation and never record why, and a function that never calls GitHub or OpenAI never pays for
their clients. Building is locked because one run may use a client from several threads (the enhanced
sync pages three streams at once).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, TypeVar

from contribsync.clock import Clock, SystemClock
from contribsync.observability import mask_in_logs

if TYPE_CHECKING:
    from collections.abc import Callable

    from contribsync.ai.embedder import Embedder
    from contribsync.ai.summarizer import Summarizer
    from contribsync.db import Database
    from contribsync.github import GitHubClient
    from contribsync.queues import Queues
    from contribsync.runtime.failure import Masker
    from contribsync.settings import Settings

T = TypeVar("T")
_UNSET: Any = object()


def _settings_from_env() -> Settings:
    from contribsync.settings import Settings

    return Settings.from_env()


class Clients:
    """The settings, the database, the queues, GitHub, the summarizer, the embedder, the clock, and the
    masker of error texts (``mask``).

    ``settings`` may be a ``Settings`` or a function that reads them (``from_env``); every other argument
    replaces the client that would be built from the settings. ``application_name`` names the database
    connections in ``pg_stat_activity``.
    """

    def __init__(self, settings: Settings | Callable[[], Settings], *, db: Database | None = None,
                 queues: Queues | None = None, clock: Clock | None = None, github: GitHubClient | None = None,
                 summarizer: Summarizer | None = None, embedder: Embedder | None = _UNSET,
                 application_name: str = "contribsync") -> None:
        self._settings: Settings | None = None
        if callable(settings):
            self._load_settings = settings
        else:
            self._settings = settings
            self._load_settings = lambda: settings
            mask_in_logs(settings.secrets())
        self.application_name = application_name
        self._db = db
        self._queues = queues
        self.clock: Clock = clock or SystemClock()
        self._github = github
        self._summarizer = summarizer
        self._embedder = embedder
        self._mask: Masker | None = None
        self._built: set[str] = set()  # what this object built, and so closes
        self._lock = threading.RLock()

    @classmethod
    def from_env(cls, *, application_name: str = "contribsync") -> Clients:
        """A handler's clients: the environment (and SSM) is read when the first record arrives."""
        return cls(_settings_from_env, application_name=application_name)

    def __repr__(self) -> str:  # no settings: they hold the database URL and the keys
        return f"Clients(built={sorted(self._built)})"

    def _once(self, name: str, build: Callable[[], T]) -> T:
        with self._lock:
            value: T = getattr(self, f"_{name}")
            if value is None or value is _UNSET:
                value = build()
                setattr(self, f"_{name}", value)
                self._built.add(name)
            return value

    @property
    def settings(self) -> Settings:
        with self._lock:
            if self._settings is None:
                self._settings = self._load_settings()
                mask_in_logs(self._settings.secrets())  # no log line shows them from now on
            return self._settings

    @property
    def db(self) -> Database:
        def build() -> Database:
            from contribsync.db import Database

            return Database(self.settings.database_url, application_name=self.application_name)

        return self._once("db", build)

    @property
    def queues(self) -> Queues:
        def build() -> Queues:
            import boto3

            from contribsync.queues import Queues

            return Queues(boto3.client("sqs", region_name=self.settings.region), prefix=self.settings.queue_prefix,
                          clock=self.clock)

        return self._once("queues", build)

    @property
    def github(self) -> GitHubClient:
        def build() -> GitHubClient:
            from contribsync.github import github_client

            return github_client(self.settings, self.db, clock=self.clock)

        return self._once("github", build)

    @property
    def mask(self) -> Masker:
        """The one masker of stored and shown error texts: the configured secrets (``Settings.secrets``)
        and credential shapes become ``***`` (``contribsync.runtime.failure.Masker``)."""
        def build() -> Masker:
            from contribsync.runtime.failure import Masker

            return Masker(self.settings.secrets())

        return self._once("mask", build)

    @property
    def summarizer(self) -> Summarizer:
        """Discussion summaries; ``NoSummaries`` without an OpenAI key. One per container, so its request
        spacing holds across runs and threads."""
        def build() -> Summarizer:
            from contribsync.ai.summarizer import summarizer_from_settings

            return summarizer_from_settings(self.settings)

        return self._once("summarizer", build)

    @property
    def embedder(self) -> Embedder | None:
        """The embeddings client; None without an OpenAI key."""
        with self._lock:
            if self._embedder is _UNSET:
                from contribsync.ai.embedder import embedder_from_settings

                self._embedder = embedder_from_settings(self.settings)
                self._built.add("embedder")
            embedder: Embedder | None = self._embedder
            return embedder

    def close(self) -> None:
        """Close what this object built (a client passed in belongs to whoever passed it)."""
        with self._lock:
            for name in ("github", "summarizer", "embedder", "db"):
                client = getattr(self, f"_{name}") if name in self._built else None
                if client is not None and hasattr(client, "close"):
                    client.close()
                    setattr(self, f"_{name}", None if name != "embedder" else _UNSET)
            self._built.clear()


__all__ = ["Clients"]

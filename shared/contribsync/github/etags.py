"""Where the client keeps ETags and bodies for conditional GETs.

In memory the cache lives as long as the Lambda container; in Postgres it outlives it, so a re-sync
in a later invocation still revalidates with ``If-None-Match`` and pays nothing for a 304.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from contribsync.db import Database


class EtagCache(Protocol):
    def get(self, url: str) -> tuple[str, Any] | None: ...

    def put(self, url: str, etag: str, body: Any) -> None: ...  # noqa: ANN401 - any JSON document


class MemoryEtags:
    def __init__(self, max_entries: int = 2000) -> None:
        self._entries: dict[str, tuple[str, Any]] = {}
        self._max = max_entries

    def get(self, url: str) -> tuple[str, Any] | None:
        return self._entries.get(url)

    def put(self, url: str, etag: str, body: Any) -> None:  # noqa: ANN401
        if len(self._entries) >= self._max:
            self._entries.pop(next(iter(self._entries)))
        self._entries[url] = (etag, body)


class PostgresEtags:
    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, url: str) -> tuple[str, Any] | None:
        row = self.db.query_one("etag_get", {"url": url})
        return (str(row["etag"]), row["body"]) if row else None

    def put(self, url: str, etag: str, body: Any) -> None:  # noqa: ANN401
        self.db.query("etag_put", {"url": url, "etag": etag, "body": json.dumps(body)})


__all__ = ["EtagCache", "MemoryEtags", "PostgresEtags"]

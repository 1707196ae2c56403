"""One stored delivery being applied: its payload, its repository's row, and the ways it writes."""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from contribsync.capture import repos, store
from contribsync.db.connection import sql
from contribsync.errors import ContribsyncError, NonRetriable

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    import psycopg
    from psycopg.rows import DictRow

    from contribsync.capture.rows import Batch
    from contribsync.db import Database
    from contribsync.runtime import RunContext

Payload = dict[str, Any]
Repo = dict[str, Any]


class ParentMissing(ContribsyncError):
    """The object a delivery belongs to is not stored yet; retried with backoff while it is fetched."""


@contextmanager
def locked(db: Database, ids: Iterable[int]) -> Iterator[psycopg.Connection[DictRow]]:
    """A transaction holding the advisory locks of the GitHub ids ``ids`` (none: a plain transaction)."""
    store.ensure_staging(db.connection())  # before BEGIN, so the session keeps them (see store)
    with db.transaction() as conn:
        if ids := sorted(set(ids)):
            conn.execute(sql("advisory_lock_ids"), {"ids": ids}).fetchall()
        yield conn


def repository_row(ctx: RunContext, repository: Payload) -> Repo:
    """Create or refresh the repository's row from a payload object; a first sighting queues discovery."""
    row = repos.store(ctx.db, repos.rest_params(repository))
    if row["inserted"]:
        ctx.send("discover/new-repository", {"owner": row["owner"], "repo": row["name"], "source": "webhook"})
    return row


class Delivery:
    """One delivery being applied: its payload, and the repository row its ``repository`` object names."""

    def __init__(self, ctx: RunContext, delivery_id: str, event: str, payload: Payload) -> None:
        self.ctx = ctx
        self.id = delivery_id
        self.event = event
        self.payload = payload
        self.action: str | None = payload.get("action")
        self._repo: Repo | None = None

    @property
    def repo(self) -> Repo:
        """The payload repository's row, created or refreshed from the payload on first use."""
        if self._repo is None:
            repository = self.payload.get("repository")
            if not isinstance(repository, dict):
                raise NonRetriable(f"{self.event} delivery {self.id} has no repository object")
            self._repo = repository_row(self.ctx, repository)
        return self._repo

    def write(self, batch: Batch, *, repo: Repo | None = None, lock: tuple[int, ...] = ()) -> dict[str, Any]:
        """Store ``batch`` into ``repo`` (the payload's by default), holding the advisory locks of ``lock``."""
        repo = repo or self.repo
        if not lock:  # store.write is one transaction of its own
            return store.write(self.ctx.db, batch, repository_id=str(repo["id"]),
                               repository_full_name=repo["full_name"]).as_dict()
        with locked(self.ctx.db, lock):
            written = store.write(self.ctx.db, batch, repository_id=str(repo["id"]),
                                  repository_full_name=repo["full_name"])
        return written.as_dict()

    def delete(self, kind: str, github_id: int) -> dict[str, Any]:
        """Remember that GitHub deleted ``github_id`` and remove its row."""
        with locked(self.ctx.db, (github_id,)) as conn:
            row = conn.execute(sql("github_object_delete"), {"kind": kind, "github_id": github_id,
                                                              "delivery_id": self.id}).fetchone()
        return {"deleted": {kind: github_id, "rows": row["deleted"] if row else 0}}


__all__ = ["Delivery", "ParentMissing", "Payload", "Repo", "locked", "repository_row"]

"""Contributor profile counts: followers, following and public repositories.

contributor.info's repository sync stores them from GraphQL's ``followers``, ``following`` and
``repositories`` totals. Asked for on every actor of a page, they would cost three requests per actor
and per nesting level (a pull request page with its reviewers would cost several times its 13 points).
So they are read in a query of their own, by node id, for the people a sync has just seen whose counts
are missing or older than a week: 100 people cost 3 points.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable

    from contribsync.runtime import RunContext

BATCH = 100  # nodes(ids:) takes at most 100 ids
MAX_PER_RUN = 1_000  # at most 10 requests (30 points) per sync; the next sync carries on
MAX_AGE = timedelta(days=7)
POINTS = 3  # 3 totalCount connections x 100 users = 300 requests
CLAIM = timedelta(minutes=10)  # people being read by one sync are skipped by the others this long


def _counts(node: dict[str, Any] | None, node_id: str) -> dict[str, Any]:
    """One row for contributors_profiles_store; null counts for an account GitHub no longer finds."""
    node = node or {}

    def total(field: str) -> int | None:
        connection = node.get(field)
        return connection["totalCount"] if connection else None

    return {"node_id": node_id, "followers": total("followers"), "following": total("following"),
            "public_repos": total("repositories")}


def requests_for(people: int) -> int:
    """The GraphQL requests ``refresh`` makes to read ``people`` people."""
    return -(-people // BATCH)


def refresh(ctx: RunContext, github_ids: Iterable[int], *, owner: str | None = None) -> int:
    """Read the counts of the people among ``github_ids`` that are due; the number of people read
    (in ``requests_for(n)`` requests). ``owner``: the owner of the repository they were found in, whose
    GitHub App installation serves the lookups (and is charged for them)."""
    ids = sorted(set(github_ids))
    if not ids:
        return 0
    now = ctx.clock.now()
    due = [r["node_id"] for r in ctx.db.query("contributors_profiles_due", {
        "github_ids": ids, "stale_before": now - MAX_AGE, "claimed_until": now - MAX_AGE + CLAIM,
        "limit": MAX_PER_RUN})]
    for start in range(0, len(due), BATCH):
        chunk = due[start:start + BATCH]
        answer = ctx.github.graphql("contributor_profiles", {"ids": chunk}, points=POINTS, missing_ok=True,
                                    owner=owner)
        # nodes(ids:) answers in the order asked, with null for an id it cannot resolve
        rows = [_counts(node, node_id) for node, node_id in zip(answer.data["nodes"], chunk, strict=True)]
        ctx.db.query("contributors_profiles_store", {"profiles": json.dumps(rows), "now": now})
    return len(due)


__all__ = ["refresh", "requests_for"]

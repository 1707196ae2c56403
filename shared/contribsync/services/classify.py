"""Repository size classification, as the event catalog has it: small under 100 pull requests,
medium from 100 to 500, large above 500, counted by GitHub (``pullRequests.totalCount``, which
discovery, the metadata read and every sync store in ``repositories.pull_request_count``).

contributor.info's own repository classifier votes over stars, forks, PRs per 30 days, commits and
contributors, with an ``xl`` bucket; those figures are still stored in ``metrics`` beside
the size, so a UI can show them, but the size follows the catalog's rule.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from contribsync.errors import NotFound

if TYPE_CHECKING:
    from contribsync.payloads import Empty, SingleRepository
    from contribsync.runtime import RunContext

SMALL_BELOW = 100
LARGE_ABOVE = 500
STALE_AFTER = timedelta(days=30)


def classify(pull_requests: int) -> str:
    """``small`` < 100 <= ``medium`` <= 500 < ``large``."""
    if pull_requests < SMALL_BELOW:
        return "small"
    return "medium" if pull_requests <= LARGE_ABOVE else "large"


def classify_single(data: SingleRepository, ctx: RunContext) -> dict[str, Any]:
    """Classify one repository from GitHub's pull request count and record size, metrics and time."""
    row = ctx.db.query_one("classify_metrics", {"repository_id": data.repository_id, "now": ctx.clock.now()})
    if row is None:
        raise NotFound(f"repository {data.repository_id} is not stored")
    size = classify(row["pull_requests"])
    metrics = {"pullRequests": row["pull_requests"], "stars": row["stars"], "forks": row["forks"],
               "prs30d": row["prs_30d"], "contributors90d": row["contributors"]}
    ctx.db.query("classify_store", {
        "repository_id": data.repository_id, "size": size, "metrics": json.dumps(metrics), "now": ctx.clock.now(),
    })
    return {"repositoryId": str(data.repository_id), "size": size, "metrics": metrics}


def classify_all(_: Empty, ctx: RunContext) -> dict[str, Any]:
    """Queue a classification for every active repository never classified or classified >30 days ago."""
    rows = ctx.db.query("classify_due", {"stale_before": ctx.clock.now() - STALE_AFTER})
    ids = ctx.send_many("classify/single-repository", [{"repositoryId": str(r["id"])} for r in rows])
    return {"unclassifiedCount": sum(1 for r in rows if r["size"] is None), "queued": len(ids)}


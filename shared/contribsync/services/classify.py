"""Repository size classification (contributor.info's rules, CONTRIBUTOR_INFO.md §5).

Each metric votes for the first bucket whose limit it is under; above every limit it votes ``xl``.
The bucket with the most votes wins if it has at least two, otherwise ``small``. Three overrides
then pull lopsided repositories back to ``medium``.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from contribsync.errors import NonRetriable

if TYPE_CHECKING:
    from contribsync.payloads import Empty, SingleRepository
    from contribsync.runtime import RunContext

BUCKETS = ("small", "medium", "large")
# metric → (small, medium, large) limits; a value under a limit votes for that bucket.
LIMITS: dict[str, tuple[int, int, int]] = {
    "stars": (1_000, 10_000, 50_000),
    "forks": (100, 1_000, 5_000),
    "prs_30d": (100, 500, 2_000),
    "commits_4w": (500, 2_000, 10_000),
    "contributors": (10, 50, 200),
}
STALE_AFTER = timedelta(days=30)


@dataclass(frozen=True)
class SizeMetrics:
    stars: int
    forks: int
    prs_30d: int
    contributors: int
    commits_4w: int | None = None  # not stored: this metric does not vote when unknown


def classify(m: SizeMetrics) -> str:
    votes: Counter[str] = Counter()
    for metric, limits in LIMITS.items():
        value = getattr(m, metric)
        if value is None:
            continue
        votes[next((b for b, lim in zip(BUCKETS, limits, strict=True) if value < lim), "xl")] += 1
    size, count = votes.most_common(1)[0] if votes else ("small", 0)
    if count < 2:  # noqa: PLR2004 - contributor.info's rule: a bucket needs two votes
        size = "small"
    if (size in ("large", "xl") and m.stars > 10_000 and m.prs_30d < 10) \
            or (size == "small" and m.prs_30d > 500 and m.stars < 100) \
            or (m.contributors < 5 and m.prs_30d > 100):  # noqa: PLR2004
        size = "medium"
    return size


def classify_single(data: SingleRepository, ctx: RunContext) -> dict[str, Any]:
    """Classify one repository from its stored counts and record size, metrics and time."""
    row = ctx.db.query_one("classify_metrics", {"repository_id": data.repository_id, "now": ctx.clock.now()})
    if row is None:
        raise NonRetriable(f"repository {data.repository_id} not found")
    metrics = SizeMetrics(stars=row["stars"], forks=row["forks"], prs_30d=row["prs_30d"],
                          contributors=row["contributors"])
    size = classify(metrics)
    ctx.db.query("classify_store", {
        "repository_id": data.repository_id, "size": size, "metrics": json.dumps(asdict(metrics)),
        "now": ctx.clock.now(),
    })
    return {"repositoryId": str(data.repository_id), "size": size, "metrics": asdict(metrics)}


def classify_all(_: Empty, ctx: RunContext) -> dict[str, Any]:
    """Queue a classification for every active repository never classified or classified >30 days ago."""
    rows = ctx.db.query("classify_due", {"stale_before": ctx.clock.now() - STALE_AFTER})
    ids = ctx.send_many("classify/single-repository", [{"repositoryId": str(r["id"])} for r in rows])
    return {"unclassifiedCount": sum(1 for r in rows if r["size"] is None), "queued": len(ids)}


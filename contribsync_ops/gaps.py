"""Progressive capture: find what the stored copy of a repository is missing, and queue exactly the jobs
that fill it (contributor.info's browser-console ProgressiveCapture helpers, as ``contribsync gaps`` and
``contribsync quick-fix``).

Gap kinds, each found by set-based SQL per repository (``contribsync_ops/sql/gaps_*.sql``), and the events
that close them:

- ``never_synced``: no full pull request sync yet; ``stale``: last synced over ``STALE_AFTER`` ago. Both get
  ``capture/repository.sync-enhanced`` (full, or incremental from the watermark).
- ``issues_never_synced``: ``capture/repository.issues`` over the repository's life.
- ``discussions_missing`` (enabled, none stored, never synced): ``capture/repository.discussions``.
- ``pr_details_missing`` (no additions, deletions or changed files, not an empty draft) and
  ``pr_activity_missing`` (closed or merged, no reviews and no comments: contributor.info's update/pr.activity
  heuristic, since GitHub's counts are not stored): ``capture/pr.details`` per PR, which reads both.
- ``issue_comments_missing`` (fewer stored than GitHub's ``comments_count``): ``capture/issue.comments`` per issue.
- ``embeddings_missing`` (no fresh vector, embeddings_coverage.sql's rule): ``embeddings/process.repository``.
- ``null_authors`` (issues without an author): ``capture/repository.issues`` back to the oldest of them.

A PR or issue whose per-item job ran since its last update is not counted again (GitHub was asked, and
has nothing more), so the fix closes the gap even when GitHub has nothing to add. Per-item fixes are capped
at ``PER_ITEM_CAP`` a run, newest update first; quick-fix again takes the next ones. Event ids are
``quick-fix:<kind>:<repository>[:<number>]:<UTC day>``: a second quick-fix the same day re-sends the same
ids, which the runtime runs once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, timedelta
from typing import TYPE_CHECKING, Any

from contribsync.ai.embedder import MODEL
from contribsync_ops import OPS_SQL

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from contribsync.db import Database
    from contribsync.queues import Queues

STALE_AFTER = timedelta(hours=24)  # the priorities job's slowest cadence (a low-priority repository)
SAMPLE = 10
PER_ITEM_CAP = 50
FULL_HISTORY_DAYS = 36500  # capture/repository.issues' largest timeRange: everything
KINDS = ("never_synced", "stale", "issues_never_synced", "discussions_missing", "pr_details_missing",
         "pr_activity_missing", "issue_comments_missing", "embeddings_missing", "null_authors")


@dataclass(frozen=True)
class Fix:
    """One event that closes (part of) a gap; ``item`` is the PR or issue number of a per-item fix."""

    event: str
    data: dict[str, Any]
    item: int | None = None


@dataclass(frozen=True)
class Gap:
    repository_id: str
    repository: str
    kind: str
    count: int
    sample: tuple[int, ...]
    fixes: tuple[Fix, ...]
    note: str
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"repositoryId": self.repository_id, "repository": self.repository, "kind": self.kind,
                "count": self.count, "sample": list(self.sample), **self.extra, "note": self.note,
                "fixes": [{"event": f.event, "data": f.data} for f in self.fixes]}


def find_gaps(db: Database, repository_id: str | None = None, *, now: datetime) -> list[Gap]:
    """The gaps of every tracked, live repository (or of the one given), by repository then kind."""
    repos = db.query("gaps_repositories", {"repository_id": repository_id, "stale_before": now - STALE_AFTER},
                     folder=OPS_SQL)
    if not repos:
        return []
    ids = [str(r["id"]) for r in repos]
    params = {"repository_ids": ids, "cap": PER_ITEM_CAP}
    prs = {str(r["repository_id"]): r for r in db.query("gaps_pull_requests", params, folder=OPS_SQL)}
    issues = {str(r["repository_id"]): r for r in db.query("gaps_issues", params, folder=OPS_SQL)}
    vectors = {str(r["repository_id"]): r
               for r in db.query("gaps_embeddings", {**params, "model": MODEL}, folder=OPS_SQL)}
    gaps: list[Gap] = []
    for repo in repos:
        rid = str(repo["id"])
        gaps += _repository_gaps(repo, now)
        gaps += _item_gaps(repo, prs.get(rid), issues.get(rid), vectors.get(rid), now)
    return gaps


def _gap(repo: dict[str, Any], kind: str, count: int, numbers: Sequence[int], fixes: list[Fix], note: str,
         **extra: Any) -> Gap:  # noqa: ANN401 - JSON-ready extras
    return Gap(str(repo["id"]), repo["full_name"], kind, count, tuple(numbers[:SAMPLE]), tuple(fixes), note, extra)


def _days_since(moment: datetime | None, now: datetime) -> int:
    """A timeRange reaching back to ``moment`` (whole days, rounded up), or everything when it is unknown."""
    return FULL_HISTORY_DAYS if moment is None else min(FULL_HISTORY_DAYS, max(1, (now - moment).days + 1))


def _repository_gaps(repo: dict[str, Any], now: datetime) -> list[Gap]:
    rid = str(repo["id"])
    sync = [Fix("capture/repository.sync-enhanced", {"repositoryId": rid})]
    gaps = []
    if repo["never_synced"]:
        when = "never synced" if repo["last_synced_at"] is None else "only recent or ranged syncs"
        gaps.append(_gap(repo, "never_synced", 1, [], sync,
                         f"{when}, no full pull request sync: a full enhanced sync reads every PR with its reviews "
                         "and comments"))
    if repo["stale"]:
        gaps.append(_gap(repo, "stale", 1, [], sync,
                         f"last synced {repo['last_synced_at'].astimezone(UTC):%Y-%m-%d %H:%M} UTC, over "
                         f"{STALE_AFTER.total_seconds() / 3600:g} h ago: an incremental enhanced sync reads what "
                         f"changed since {repo['prs_synced_through'].astimezone(UTC):%Y-%m-%d %H:%M}",
                         lastSyncedAt=repo["last_synced_at"].isoformat()))
    if repo["issues_never_synced"]:
        days = _days_since(repo["issues_since"], now)
        gaps.append(_gap(repo, "issues_never_synced", 1, [],
                         [Fix("capture/repository.issues", {"repositoryId": rid, "timeRange": days})],
                         f"no issues sync yet: capture/repository.issues over {days} days ("
                         + ("the repository's life)" if repo["issues_since"] else "everything: its creation date is "
                            "not stored)")))
    if repo["discussions_missing"]:
        gaps.append(_gap(repo, "discussions_missing", 1, [],
                         [Fix("capture/repository.discussions", {"repositoryId": rid})],
                         "discussions are enabled but none are stored and none were ever synced (a sync that "
                         "finds none closes this)"))
    return gaps


def _item_gaps(repo: dict[str, Any], prs: dict[str, Any] | None, issues: dict[str, Any] | None,
               vectors: dict[str, Any] | None, now: datetime) -> list[Gap]:
    rid = str(repo["id"])
    gaps = []
    if prs and prs["details_count"]:
        gaps.append(_gap(repo, "pr_details_missing", prs["details_count"], prs["details_numbers"],
                         _per_item("capture/pr.details", rid, "prNumber", prs["details_numbers"]),
                         "no additions, deletions or changed files (and not an empty draft), not re-read "
                         f"since: capture/pr.details per PR, at most {PER_ITEM_CAP} a run"))
    if prs and prs["activity_count"]:
        gaps.append(_gap(repo, "pr_activity_missing", prs["activity_count"], prs["activity_numbers"],
                         _per_item("capture/pr.details", rid, "prNumber", prs["activity_numbers"]),
                         "closed or merged with no stored review or comment and not read with them since "
                         "(update/pr.activity's heuristic; GitHub's counts are not stored): capture/pr.details "
                         f"reads both, at most {PER_ITEM_CAP} PRs a run"))
    if issues and issues["comments_count"]:
        gaps.append(_gap(repo, "issue_comments_missing", issues["comments_count"], issues["comments_numbers"],
                         _per_item("capture/issue.comments", rid, "issueNumber", issues["comments_numbers"]),
                         "fewer comments stored than GitHub's count: capture/issue.comments per issue, at most "
                         f"{PER_ITEM_CAP} a run"))
    if vectors:
        gaps.append(_gap(repo, "embeddings_missing", vectors["count"], vectors["numbers"],
                         [Fix("embeddings/process.repository", {"repositoryId": rid})],
                         f"{vectors['missing']} without a vector, {vectors['count'] - vectors['missing']} stale "
                         f"(issues {vectors['issues']}, PRs {vectors['pull_requests']}, discussions "
                         f"{vectors['discussions']}): embeddings/process.repository (with OPENAI_API_KEY set; "
                         "without it the run completes as skipped)",
                         missing=vectors["missing"], issues=vectors["issues"],
                         pullRequests=vectors["pull_requests"], discussions=vectors["discussions"]))
    if issues and issues["authors_count"]:
        days = _days_since(issues["authors_since"], now)
        gaps.append(_gap(repo, "null_authors", issues["authors_count"], issues["authors_numbers"],
                         [Fix("capture/repository.issues", {"repositoryId": rid, "timeRange": days})],
                         "issues stored without an author: written before the author's account was deleted "
                         "(GitHub shows deleted users as \"ghost\") or by an older writer. A re-sync of those "
                         f"issues (capture/repository.issues, {days} days) stores the author, or the ghost user "
                         "when GitHub itself has none: no real author can be recovered then. An issue GitHub no "
                         "longer serves (deleted, transferred) has no fix."))
    return gaps


def _per_item(event: str, repository_id: str, key: str, numbers: Sequence[int]) -> list[Fix]:
    return [Fix(event, {"repositoryId": repository_id, key: n}, n) for n in numbers[:PER_ITEM_CAP]]


def fix_events(gaps: Sequence[Gap], *, now: datetime) -> list[dict[str, Any]]:
    """The events that close ``gaps``, once each: the same event and target from two gaps (a PR in both
    PR gaps, an issues sync for two reasons) is sent once, with the first gap's id and, for an issues sync,
    the longest timeRange."""
    day = now.astimezone(UTC).date().isoformat()
    events: dict[tuple[Any, ...], dict[str, Any]] = {}
    for gap in gaps:
        for fix in gap.fixes:
            target = (fix.event, *sorted((k, v) for k, v in fix.data.items() if k != "timeRange"))
            item = f":{fix.item}" if fix.item is not None else ""
            event = {"event": fix.event, "data": dict(fix.data),
                     "id": f"quick-fix:{gap.kind}:{gap.repository_id}{item}:{day}"}
            if (first := events.get(target)) is None:
                events[target] = event
            elif "timeRange" in fix.data:
                first["data"]["timeRange"] = max(first["data"].get("timeRange", 0), fix.data["timeRange"])
    return list(events.values())


def quick_fix(db: Database, queues: Queues, repository_id: str, *, now: datetime,
              dry_run: bool = False) -> list[dict[str, Any]]:
    """Send exactly the events that close the repository's gaps (nothing with ``dry_run``); returns them
    as ``{event, data, id}``."""
    events = fix_events(find_gaps(db, repository_id, now=now), now=now)
    if not dry_run:
        for e in events:
            queues.send_event(e["event"], e["data"], id=e["id"])
    return events


__all__ = ["KINDS", "PER_ITEM_CAP", "STALE_AFTER", "Fix", "Gap", "find_gaps", "fix_events", "quick_fix"]

"""Pull request capture: ``capture/repository.sync``, ``capture/repository.sync-enhanced``,
``capture/pr.details``, ``capture/pr.reviews`` and ``capture/pr.comments``.

Every list is read to its last page (contributor.info read one page of 30), every write is a set-based
upsert where a row only replaces an older one, and every run leaves a ``sync_logs`` row. The enhanced
sync saves its cursor with each page's rows, so a retried or redelivered message resumes after the last
stored page. Follow-up events carry ids derived from this run's, so a retry sends nothing twice.
"""

from __future__ import annotations

import math
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from contribsync.capture import profiles, repos
from contribsync.capture.rows import Batch
from contribsync.capture.store import Written, write
from contribsync.capture.synclog import SyncLog
from contribsync.errors import NotFound
from contribsync.meters import metered
from contribsync.services.priorities import SYNC_REASON, still_due

if TYPE_CHECKING:
    from collections.abc import Callable

    from contribsync.payloads import PullRequestJob, RepositorySync
    from contribsync.runtime import RunContext

    PrService = Callable[[PullRequestJob, RunContext], dict[str, Any]]

# A repository synced less than this long ago is skipped, unless the event says force or reason=manual.
FRESHNESS_WINDOW = timedelta(hours=1)
RECENT_PRS = 100
# Enhanced sync page shape: PRs per page, and the nested connections read in the same request. PRs with
# more reviews or comments than this get a capture/pr.details of their own. GitHub charges a page by the
# `first` arguments (1 + 100 reviews + 100x10 review comments + 100 comments + 100 commits{totalCount}
# = 1,301 requests, 13 points), so 100 PRs with 10 reviews of 10 comments cost less per PR than 50 PRs
# with 20 reviews (12 points for half the PRs); a page GitHub times out on is retried at half the size.
PAGE_PRS = 100
NESTED_REVIEWS = 10
NESTED_REVIEW_COMMENTS = 10
NESTED_COMMENTS = 20
# An incremental sync asks each stream first for this many, the newest: most repositories a cron syncs
# changed little or not at all since their watermark, and a page of 100 read to find that cost 13 points a
# stream (39 a sync) where this costs 1. A stream with more changes goes on from its cursor in full pages.
PROBE_PRS = 10


def page_points(prs: int) -> int:
    """What GitHub charges for a page of ``prs`` pull requests of this shape, reserved from the budget
    before it is asked for: a request for the page, and per pull request one per nested connection
    (reviews, comments, commits) and one per review for its comments; a point per 100, at least 1."""
    return max(1, math.floor((1 + prs * (3 + NESTED_REVIEWS)) / 100 + 0.5))


PAGE_POINTS = page_points(PAGE_PRS)  # 13
# GitHub's states filter splits a repository's pull requests into disjoint streams paged in parallel.
STREAMS = ("OPEN", "CLOSED", "MERGED")
# repository.sync queues details for PRs open or updated this recently (contributor.info: ≤50, <7 days).
DETAILS_RECENT = timedelta(days=7)
DETAILS_CAP = 50
FULL_HISTORY_DAYS = 36_500  # capture/repository.issues' range for "every issue": a hundred years


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _repository(ctx: RunContext, data: RepositorySync) -> dict[str, Any]:
    if data.repository is not None:
        return repos.resolve(ctx, owner=data.repository.owner, name=data.repository.name,
                             github_id=data.repository.github_id)
    return repos.resolve(ctx, repository_id=data.repository_id, owner=data.owner, name=data.repo)


def _pr_repository(ctx: RunContext, data: PullRequestJob) -> dict[str, Any]:
    if data.repository is not None:
        return repos.resolve(ctx, owner=data.repository.owner, name=data.repository.name)
    return repos.resolve(ctx, repository_id=data.repository_id)


def _details_event(repo: dict[str, Any], number: int) -> dict[str, Any]:
    return {"repository": {"owner": repo["owner"], "name": repo["name"]}, "pr_number": number,
            "repositoryId": str(repo["id"])}


def _write(ctx: RunContext, repo: dict[str, Any], batch: Batch, progress: dict[str, Any] | None = None) -> Written:
    return write(ctx.db, batch, repository_id=str(repo["id"]), repository_full_name=repo["full_name"],
                 progress=ctx.progress_params(progress) if progress is not None else None)


# --------------------------------------------------------------------------------------------------- syncs


def repository_sync(data: RepositorySync, ctx: RunContext) -> dict[str, Any]:
    """The 100 newest pull requests (GraphQL, ``CREATED_AT DESC``) with their authors, in one upsert, and
    the authors' follower counts where due; then ``capture/pr.details`` for the open or recently updated
    ones.

    A repository that is not tracked, or was never fully synced, is tracked and its full history queued
    (the seeds' manual script expects "PRs, issues, contributors" from this event): every pull request
    with its reviews and comments (``capture/repository.sync-enhanced``) and every issue with its
    comments (``capture/repository.issues``); the contributors come with them. The result names what was
    queued, with the event ids.

    A repository synced less than an hour ago is left alone unless the event says ``force`` or
    ``reason: manual``; the result then says when it was synced and until when it counts as fresh.

    With a range (``days``, ``timeRange``), only the pull requests created in it are stored, as
    contributor.info filters them; when all 100 are in range, older ones in range remain, and
    ``capture/repository.sync-enhanced`` is queued for the range to read them."""
    repo = _repository(ctx, data)
    now = ctx.clock.now()
    last = repo["last_synced_at"]
    if not (data.force or data.reason == "manual") and last is not None and now - last < FRESHNESS_WINDOW:
        return {"repository": repo["full_name"], "status": "fresh", "lastSyncedAt": last.isoformat(),
                "freshUntil": (last + FRESHNESS_WINDOW).isoformat(),
                "skipped": f"synced {int((now - last).total_seconds() // 60)} min ago; send force to sync again",
                "fullHistoryPending": repo["prs_synced_through"] is None}
    with SyncLog(ctx, "repository_sync", str(repo["id"]), {"mode": "recent"}) as log:
        answer = ctx.github.graphql("recent_pull_requests", {"owner": repo["owner"], "name": repo["name"],
                                                             "first": RECENT_PRS})
        prs = answer.data["repository"]["pullRequests"]
        nodes = prs["nodes"]
        if (days := data.range_days) is not None:
            since = _iso(now - timedelta(days=days))
            nodes = [n for n in nodes if n["createdAt"] >= since]
        batch = Batch()
        for node in nodes:
            batch.graphql_pull_request(node)
        written = _write(ctx, repo, batch)
        log.add(written, processed=len(nodes))
        people = profiles.refresh(ctx, batch.contributors, owner=repo["owner"])
        ctx.db.query("repository_synced", {"repository_id": str(repo["id"]), "now": now,
                                           "prs_synced_through": None, "pull_request_count": prs["totalCount"]})
    recent = _iso(now - DETAILS_RECENT)
    wanted = [n["number"] for n in nodes if n["state"] == "OPEN" or n["updatedAt"] >= recent][:DETAILS_CAP]
    queued = ctx.send_many("capture/pr.details", [_details_event(repo, n) for n in wanted])
    ctx.send("capture/repository.events", {"repositoryId": str(repo["id"])})
    jobs: dict[str, Any] = {"details": len(queued), "events": 1}
    if data.range_days is not None and len(nodes) == RECENT_PRS:  # the range reaches past the newest 100
        ctx.send("capture/repository.sync-enhanced", {"repositoryId": str(repo["id"]),
                                                       "time_range_days": data.range_days})
        jobs["rangeSync"] = 1
    elif data.range_days is None and (not repo["tracked"] or repo["prs_synced_through"] is None):
        jobs["fullHistory"] = _queue_full_history(ctx, repo)
    return {"repository": repo["full_name"], "method": "graphql", "status": "synced",
            "prsFound": len(nodes), "prsStored": written.count("pull_requests").inserted
            + written.count("pull_requests").updated, "totalCount": prs["totalCount"],
            "tracked": True if "fullHistory" in jobs else repo["tracked"],
            "jobsQueued": jobs, "written": written.as_dict(), "profilesRead": people,
            "pointsUsed": answer.cost}


def _queue_full_history(ctx: RunContext, repo: dict[str, Any]) -> dict[str, str]:
    """Track the repository and queue its whole history; the event ids, by event name."""
    repository_id = str(repo["id"])
    ctx.db.query("tracked_repository_add", {"repository_id": repository_id, "owner": repo["owner"],
                                            "name": repo["name"]})
    return {
        "capture/repository.sync-enhanced": ctx.send("capture/repository.sync-enhanced", {
            "repositoryId": repository_id, "reason": "full history after capture/repository.sync"}),
        "capture/repository.issues": ctx.send("capture/repository.issues", {
            "repositoryId": repository_id, "timeRange": FULL_HISTORY_DAYS}),
    }


def repository_sync_enhanced(data: RepositorySync, ctx: RunContext) -> dict[str, Any]:
    """Every pull request in range with reviews and comments nested, newest update first.

    Mode: a ``time_range_days`` (or ``days``) range; else incremental from the repository's watermark
    (every PR updated up to it is stored); else, or with ``full``, the whole history. The pull requests
    are split by state into three disjoint streams paged in parallel (one cursor pages sequentially,
    and each page is a round trip).
    Each page's rows and every stream's cursor are stored in one transaction, so a redelivered message
    resumes after the last stored page of each stream. After each page, the follower counts of the
    people on it are read where due (``capture.profiles``).
    """
    repo = _repository(ctx, data)
    progress = ctx.progress()
    priority, last, now = (data.model_extra or {}).get("priority"), repo["last_synced_at"], ctx.clock.now()
    if (progress is None and data.reason == SYNC_REASON and not data.full
            and not still_due(priority, last, repo["sync_queued_at"], now)):
        # another copy, queued by an earlier fire while this one waited, synced it first
        return {"repository": repo["full_name"], "status": "fresh", "priority": priority,
                "lastSyncedAt": last.isoformat(),
                "skipped": f"synced {int((now - last).total_seconds() // 60)} min ago, "
                           "after the priorities job queued this sync; not due again yet"}
    if progress is None:
        days = data.range_days
        if days:
            mode, since = "range", _iso(ctx.clock.now() - timedelta(days=days))
        elif repo["prs_synced_through"] is not None and not data.full:
            mode, since = "incremental", _iso(repo["prs_synced_through"])
        else:
            mode, since = "full", None
        progress = {"mode": mode, "since": since, "pages": 0, "prs": 0, "details": 0, "totalCount": 0,
                    "streams": {state: {"cursor": None, "done": False, "highWater": None, "total": 0}
                                for state in STREAMS}}
    resumed = progress["pages"] > 0
    total = Written()
    lock = threading.Lock()
    with SyncLog(ctx, "full_sync" if progress["mode"] == "full" else "incremental_sync", str(repo["id"]),
                 {"mode": progress["mode"], "since": progress["since"], "resumedAtPage": progress["pages"]}) as log:

        def stream(state: str) -> None:
            with metered(log.stats), ctx.step(stream=state):  # a thread of its own: its own step
                _page_stream(ctx, repo, state, progress, lock, total, log)

        pending = [state for state in STREAMS if not progress["streams"][state]["done"]]
        with ThreadPoolExecutor(max_workers=len(STREAMS), thread_name_prefix="sync-stream") as pool:
            for future in [pool.submit(stream, state) for state in pending]:
                future.result()
        marks = [s["highWater"] for s in progress["streams"].values() if s["highWater"]]
        through = max(marks) if marks and progress["mode"] != "range" else None
        count = sum(s["total"] for s in progress["streams"].values())
        ctx.db.query("repository_synced", {"repository_id": str(repo["id"]), "now": ctx.clock.now(),
                                           "prs_synced_through": through, "pull_request_count": count})
    ctx.clear_progress()
    return {"repository": repo["full_name"], "mode": progress["mode"], "since": progress["since"],
            "pages": progress["pages"], "resumed": resumed, "prsStored": progress["prs"],
            "jobsQueued": {"details": progress["details"]}, "syncedThrough": through,
            "written": total.as_dict(), "profilesRead": progress.get("profiles", 0),
            "profileRequests": progress.get("profileRequests", 0)}


def _page_stream(ctx: RunContext, repo: dict[str, Any], state: str, progress: dict[str, Any],
                 lock: threading.Lock, total: Written, log: SyncLog) -> None:
    """Page one state's pull requests to the end (or to ``since``), storing each page with the progress."""
    mine = progress["streams"][state]
    while not mine["done"]:
        ctx.checkpoint()
        ctx.at(page=mine.get("pages", 0) + 1, after=mine["cursor"])  # the stream's page, counted across attempts
        first = PROBE_PRS if progress["mode"] == "incremental" and mine["cursor"] is None else PAGE_PRS
        answer = ctx.github.graphql("pull_requests_page", {
            "owner": repo["owner"], "name": repo["name"], "first": first, "after": mine["cursor"],
            "states": [state], "orderBy": {"field": "UPDATED_AT", "direction": "DESC"},
            "reviews": NESTED_REVIEWS, "comments": NESTED_COMMENTS, "reviewComments": NESTED_REVIEW_COMMENTS},
            points=page_points(first))
        page = answer.data["repository"]["pullRequests"]
        batch, overflow, reached_since = _pull_requests_page(page["nodes"], progress["since"])
        # Follow-ups go before the page is stored: if the run dies in between, the page is fetched
        # again and the same ids are sent again (the receiving function runs each id once).
        ctx.send_many("capture/pr.details", [_details_event(repo, n) for n in overflow])
        with lock:  # one writer at a time, so the progress stored never goes back for any stream
            # The page's progress is stored with its rows, and taken into the shared progress only once
            # they are: if this write fails, another stream's next write must not store this stream's
            # cursor past a page that was never stored.
            after = {"cursor": page["pageInfo"]["endCursor"], "total": page["totalCount"],
                     "pages": mine.get("pages", 0) + 1,
                     "done": reached_since or not page["pageInfo"]["hasNextPage"],
                     "highWater": mine["highWater"] or (page["nodes"][0]["updatedAt"] if page["nodes"] else None)}
            counts = {"pages": progress["pages"] + 1, "prs": progress["prs"] + len(batch.pull_requests),
                      "details": progress["details"] + len(overflow)}
            written = _write(ctx, repo, batch, {**progress, **counts,
                                                "streams": {**progress["streams"], state: {**mine, **after}}})
            mine.update(after)
            progress.update(counts)
            total.add(written)
            log.add(written, processed=len(batch))
        people = profiles.refresh(ctx, batch.contributors, owner=repo["owner"])
        with lock:
            progress["profiles"] = progress.get("profiles", 0) + people
            progress["profileRequests"] = progress.get("profileRequests", 0) + profiles.requests_for(people)


def _pull_requests_page(nodes: list[dict[str, Any]], since: str | None) -> tuple[Batch, list[int], bool]:
    """A page's rows; the PRs whose nested lists did not fit; whether the page went past ``since``."""
    batch, overflow = Batch(), list[int]()
    for node in nodes:
        if since is not None and node["updatedAt"] < since:
            return batch, overflow, True
        pr_id = batch.graphql_pull_request(node)
        more = node["reviews"]["pageInfo"]["hasNextPage"] or node["comments"]["pageInfo"]["hasNextPage"]
        for review in node["reviews"]["nodes"]:
            review_id = batch.graphql_review(review, pr_id)
            for comment in review["comments"]["nodes"]:
                batch.graphql_review_comment(comment, pr_id, review_id)
            more = more or review["comments"]["pageInfo"]["hasNextPage"]
        for comment in node["comments"]["nodes"]:
            batch.graphql_issue_comment(comment, pr_github_id=pr_id)
        if more:
            overflow.append(node["number"])
    return batch, overflow, False


# --------------------------------------------------------------------------------------------------- one PR


def _pr_details(data: PullRequestJob, ctx: RunContext) -> dict[str, Any]:
    """One pull request with files, reviews, review comments and conversation comments: one GraphQL
    query, paged further where a list is longer; a review with more inline comments than one page is
    completed from REST."""
    repo = _pr_repository(ctx, data)
    with SyncLog(ctx, "pr_details", str(repo["id"]), {"prNumber": data.number}) as log:
        batch = Batch()
        cursors: dict[str, str | None] = {"filesAfter": None, "reviewsAfter": None, "commentsAfter": None}
        node: dict[str, Any] = {}
        files = additions = deletions = 0
        rest_reviews = False
        points = pages = 0
        while True:
            pages += 1
            ctx.at(page=pages)
            answer = ctx.github.graphql("pull_request_details", {
                "owner": repo["owner"], "name": repo["name"], "number": data.number, **cursors})
            points += answer.cost or 0
            node = answer.data["repository"]["pullRequest"] or {}
            if not node:  # GitHub's answer, and its request id, say there is none
                raise NotFound(f"{repo['full_name']} has no pull request #{data.number}",
                               request_id=answer.request_id, request="GraphQL pull_request_details")
            pr_id = int(node["fullDatabaseId"])
            if cursors == {"filesAfter": None, "reviewsAfter": None, "commentsAfter": None}:
                batch.graphql_pull_request(node, merge_state=node.get("mergeStateStatus"))
            for f in node["files"]["nodes"]:
                files += 1
                additions += f["additions"]
                deletions += f["deletions"]
            for review in node["reviews"]["nodes"]:
                review_id = batch.graphql_review(review, pr_id)
                for comment in review["comments"]["nodes"]:
                    batch.graphql_review_comment(comment, pr_id, review_id)
                rest_reviews = rest_reviews or review["comments"]["pageInfo"]["hasNextPage"]
            for comment in node["comments"]["nodes"]:
                batch.graphql_issue_comment(comment, pr_github_id=pr_id)
            more = False
            for key, connection in (("filesAfter", "files"), ("reviewsAfter", "reviews"),
                                    ("commentsAfter", "comments")):
                info = node[connection]["pageInfo"]
                cursors[key] = info["endCursor"] if info["hasNextPage"] else cursors[key]
                more = more or info["hasNextPage"]
            if not more:
                break
        if rest_reviews:
            ctx.at(page=None)  # REST pages: the failed request names its page
            for comment in ctx.github.paginate(f"/repos/{repo['full_name']}/pulls/{data.number}/comments"):
                batch.rest_review_comment(comment, pr_id)
        written = _write(ctx, repo, batch)
        log.add(written, processed=len(batch))
    return {"success": True, "repository": repo["full_name"], "prNumber": data.number, "method": "graphql",
            "fileChanges": files, "additions": additions, "deletions": deletions, "pointsUsed": points,
            "restFallback": rest_reviews, "breakdown": {"pr": 1, "reviews": len(batch.reviews),
                                                        "comments": len(batch.comments)},
            "written": written.as_dict()}


def _rest_pull_request(ctx: RunContext, repo: dict[str, Any], number: int, batch: Batch) -> int:
    try:
        pr = ctx.github.get(f"/repos/{repo['full_name']}/pulls/{number}").json
    except NotFound as exc:
        raise NotFound(f"{repo['full_name']} has no pull request #{number}") from exc
    return batch.rest_pull_request(pr)


def _pr_reviews(data: PullRequestJob, ctx: RunContext) -> dict[str, Any]:
    """Every review of one pull request (REST, all pages)."""
    repo = _pr_repository(ctx, data)
    with SyncLog(ctx, "pr_reviews", str(repo["id"]), {"prNumber": data.number}) as log:
        batch = Batch()
        pr_id = _rest_pull_request(ctx, repo, data.number, batch)
        for review in ctx.github.paginate(f"/repos/{repo['full_name']}/pulls/{data.number}/reviews"):
            batch.rest_review(review, pr_id)
        written = _write(ctx, repo, batch)
        log.add(written, processed=len(batch.reviews))
    return {"success": True, "repository": repo["full_name"], "prNumber": data.number,
            "reviewsCount": len(batch.reviews), "written": written.as_dict()}


def _pr_comments(data: PullRequestJob, ctx: RunContext) -> dict[str, Any]:
    """Every review comment and conversation comment of one pull request (REST, all pages)."""
    repo = _pr_repository(ctx, data)
    with SyncLog(ctx, "pr_comments", str(repo["id"]), {"prNumber": data.number}) as log:
        batch = Batch()
        pr_id = _rest_pull_request(ctx, repo, data.number, batch)
        base = f"/repos/{repo['full_name']}"
        review_comments = [batch.rest_review_comment(c, pr_id)
                           for c in ctx.github.paginate(f"{base}/pulls/{data.number}/comments")]
        issue_comments = [batch.rest_issue_comment(c, pr_github_id=pr_id)
                          for c in ctx.github.paginate(f"{base}/issues/{data.number}/comments")]
        written = _write(ctx, repo, batch)
        log.add(written, processed=len(batch.comments))
    return {"success": True, "repository": repo["full_name"], "prNumber": data.number,
            "reviewCommentsCount": len(review_comments), "issueCommentsCount": len(issue_comments),
            "totalCommentsCount": len(batch.comments), "written": written.as_dict()}


def _per_number(one: PrService, *, without_numbers: PrService) -> PrService:
    """A pull request job as contributor.info's senders shape it: one number (``prNumber``) runs ``one``;
    several (``prNumbers``, its hybrid queue) run ``one`` for each in turn, in this run, so the job's
    ``jobId`` row ends when all of them have; no number at all goes to ``without_numbers``."""

    def run(data: PullRequestJob, ctx: RunContext) -> dict[str, Any]:
        if data.pr_number is not None:
            with ctx.step(pr=data.pr_number):
                return one(data, ctx)
        if not data.pr_numbers:
            return without_numbers(data, ctx)
        results = []
        for number in data.pr_numbers:
            with ctx.step(pr=number):
                results.append(one(data.for_number(number), ctx))
        return {"success": True, "prNumbers": list(data.pr_numbers), "results": results}

    run.__doc__ = one.__doc__
    return run


def _recent_pull_requests(data: PullRequestJob, ctx: RunContext) -> dict[str, Any]:
    """Details of the repository's recently active pull requests (``update/pr.activity``'s work)."""
    from contribsync.payloads import PrActivity
    from contribsync.services.activity import update_pr_activity

    repo = _pr_repository(ctx, data)
    return update_pr_activity(PrActivity(repository_id=repo["id"], days=data.days or 7), ctx)


def _recent_comments(data: PullRequestJob, ctx: RunContext) -> dict[str, Any]:
    """Comments of the repository's recently active pull requests and issues
    (``capture/repository.comments.all``'s work)."""
    from contribsync.payloads import RepositoryComments
    from contribsync.services.activity import repository_comments_all

    repo = _pr_repository(ctx, data)
    return repository_comments_all(RepositoryComments(repository_id=repo["id"], time_range=data.days or 7), ctx)


pr_details = _per_number(_pr_details, without_numbers=_recent_pull_requests)
pr_reviews = _per_number(_pr_reviews, without_numbers=_recent_pull_requests)
pr_comments = _per_number(_pr_comments, without_numbers=_recent_comments)


__all__ = ["pr_comments", "pr_details", "pr_reviews", "repository_sync", "repository_sync_enhanced"]

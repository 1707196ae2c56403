"""Issue capture: ``capture/repository.issues`` and ``capture/issue.comments``.

Issues (GitHub's GraphQL ``issues`` never includes pull requests) are read newest update first with
their labels, assignees and first comments nested, to the last page or the start of the time range;
every issue is stored (contributor.info dropped those without comments, and upserted without a
conflict key). Issues with more comments than fit get a ``capture/issue.comments`` of their own.
"""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import TYPE_CHECKING, Any

from contribsync.capture import repos
from contribsync.capture.rows import Batch
from contribsync.capture.store import Written, write
from contribsync.capture.synclog import SyncLog
from contribsync.errors import NotFound

if TYPE_CHECKING:
    from contribsync.payloads import IssueComments, RepositoryIssues
    from contribsync.runtime import RunContext

PAGE_ISSUES = 50
NESTED_COMMENTS = 20
PAGE_POINTS = 2  # what GitHub charges for a page of that shape, reserved from the budget before asking


def repository_issues(data: RepositoryIssues, ctx: RunContext) -> dict[str, Any]:
    """Issues updated in the last ``timeRange`` days with their comments; resumable page by page."""
    repo = repos.resolve(ctx, repository_id=data.repository_id)
    progress = ctx.progress() or {
        "since": (ctx.clock.now() - timedelta(days=data.time_range)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "cursor": None, "pages": 0, "issues": 0, "followUps": 0, "highWater": None}
    total = Written()
    with SyncLog(ctx, "repository_issues", str(repo["id"]), {"since": progress["since"]}) as log:
        while True:
            ctx.checkpoint()
            ctx.at(page=progress["pages"] + 1, after=progress["cursor"])
            answer = ctx.github.graphql("issues_page", {
                "owner": repo["owner"], "name": repo["name"], "first": PAGE_ISSUES, "after": progress["cursor"],
                "since": progress["since"], "comments": NESTED_COMMENTS}, points=PAGE_POINTS)
            page = answer.data["repository"]["issues"]
            batch, overflow = Batch(), []
            for node in page["nodes"]:
                issue_id = batch.graphql_issue(node)
                for comment in node["comments"]["nodes"]:
                    batch.graphql_issue_comment(comment, issue_github_id=issue_id)
                if node["comments"]["pageInfo"]["hasNextPage"]:
                    overflow.append(node["number"])
            if progress["highWater"] is None and page["nodes"]:
                progress["highWater"] = page["nodes"][0]["updatedAt"]
            ctx.send_many("capture/issue.comments", [
                {"repositoryId": str(repo["id"]), "issueNumber": n, "priority": "medium"} for n in overflow])
            progress.update(cursor=page["pageInfo"]["endCursor"], pages=progress["pages"] + 1,
                            issues=progress["issues"] + len(batch.issues),
                            followUps=progress["followUps"] + len(overflow))
            written = write(ctx.db, batch, repository_id=str(repo["id"]), repository_full_name=repo["full_name"],
                            progress=ctx.progress_params(progress))
            total.add(written)
            log.add(written, processed=len(batch))
            if not page["pageInfo"]["hasNextPage"]:
                break
        if progress["highWater"] is not None:
            ctx.db.query("repository_issues_synced", {"repository_id": str(repo["id"]),
                                                      "through": progress["highWater"]})
    ctx.clear_progress()
    return {"repository": repo["full_name"], "since": progress["since"], "pages": progress["pages"],
            "issuesStored": progress["issues"], "jobsQueued": {"comments": progress["followUps"]},
            "written": total.as_dict()}


def issue_comments(data: IssueComments, ctx: RunContext) -> dict[str, Any]:
    """Every comment of one issue (REST, all pages). A number that is a pull request gets its
    conversation comments stored against the pull request."""
    ctx.at(issue=data.issue_number)  # its REST pages: the failed request names its page
    repo = repos.resolve(ctx, repository_id=data.repository_id)
    base = f"/repos/{repo['full_name']}/issues/{data.issue_number}"
    with SyncLog(ctx, "issue_comments", str(repo["id"]), {"issueNumber": data.issue_number}) as log:
        try:
            issue = ctx.github.get(base).json
        except NotFound as exc:
            raise NotFound(f"{repo['full_name']} has no issue #{data.issue_number}") from exc
        batch = Batch()
        if issue.get("pull_request"):
            pr = ctx.github.get(f"/repos/{repo['full_name']}/pulls/{data.issue_number}").json
            parent = {"pr_github_id": batch.rest_pull_request(pr)}
        else:
            parent = {"issue_github_id": batch.rest_issue(issue)}
        for comment in ctx.github.paginate(f"{base}/comments"):
            batch.rest_issue_comment(comment, **parent)
        written = write(ctx.db, batch, repository_id=str(repo["id"]), repository_full_name=repo["full_name"])
        log.add(written, processed=len(batch.comments))
    return {"repository": repo["full_name"], "issueNumber": data.issue_number,
            "isPullRequest": "pr_github_id" in parent, "commentsCount": len(batch.comments),
            "written": written.as_dict()}


__all__ = ["issue_comments", "repository_issues"]

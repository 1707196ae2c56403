"""Issue deliveries: ``issues`` (deleted and transferred too) and ``issue_comment`` (on an issue, or on a
pull request, whose payload has only its issue view: a comment on a PR not stored yet queues
``capture/pr.details`` and is retried until the PR is there).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from contribsync.capture.rows import Batch
from contribsync.services.webhooks.delivery import ParentMissing, repository_row
from contribsync.services.webhooks.pull_requests import apply_partial, complete_pr, issue_view_state

if TYPE_CHECKING:
    from contribsync.services.webhooks.delivery import Delivery


def on_issues(d: Delivery) -> dict[str, Any]:
    issue = d.payload["issue"]
    if d.action == "deleted":
        return d.delete("issue", int(issue["id"]))
    if d.action == "transferred":
        result = d.delete("issue", int(issue["id"]))
        changes = d.payload.get("changes") or {}
        new_issue, new_repository = changes.get("new_issue"), changes.get("new_repository")
        if isinstance(new_issue, dict) and isinstance(new_repository, dict):
            target = repository_row(d.ctx, new_repository)
            batch = Batch()
            batch.rest_issue(new_issue)
            result["transferred_to"] = {"repository": target["full_name"], "issue": int(new_issue["id"]),
                                        "written": d.write(batch, repo=target, lock=(int(new_issue["id"]),))}
        return result
    if "state" not in issue or "labels" not in issue:  # pinned/unpinned carry a partial issue object
        if d.ctx.db.query_one("issue_by_github_id", {"github_id": int(issue["id"])}) is not None:
            return {"issue": int(issue["id"]), "written": {}, "note": "partial issue object; nothing the schema holds"}
        issue = {"labels": [], **issue, "state": issue.get("state") or ("closed" if issue.get("closed_at") else "open")}
    batch = Batch()
    batch.rest_issue(issue)
    return {"issue": int(issue["id"]), "written": d.write(batch, lock=(int(issue["id"]),))}


def on_issue_comment(d: Delivery) -> dict[str, Any]:
    """The comment, and what the payload says of its issue or PR (GitHub moves their updated_at)."""
    comment, issue = d.payload["comment"], d.payload["issue"]
    batch = Batch()
    lock: tuple[int, ...] = (int(comment["id"]),)
    pr_github_id = None
    if issue.get("pull_request"):  # a conversation comment on a PR: the payload has only its issue view
        stored = d.ctx.db.query_one("pull_request_by_number", {"repository_id": str(d.repo["id"]),
                                                               "number": issue["number"]})
        if stored is None and d.action != "deleted":
            complete_pr(d, issue["number"])
            raise ParentMissing(f"PR #{issue['number']} of {d.repo['full_name']} is not stored yet; "
                                "capture/pr.details was queued")
        if stored is not None:
            pr_github_id = int(stored["github_id"])
            apply_partial(d, pr_github_id, issue, state=issue_view_state(issue))
    elif "state" in issue:
        batch.rest_issue(issue)
        lock = (int(issue["id"]), *lock)
    if d.action == "deleted":
        result = {"issue": issue["number"], "written": d.write(batch, lock=lock) if batch.issues else {}}
        return {**result, **d.delete("comment", int(comment["id"]))}
    if pr_github_id is not None:
        batch.rest_issue_comment(comment, pr_github_id=pr_github_id)
    else:
        batch.rest_issue_comment(comment, issue_github_id=int(issue["id"]))
    return {"issue": issue["number"], "comment": int(comment["id"]), "written": d.write(batch, lock=lock)}


HANDLERS = {
    "issues": on_issues,
    "issue_comment": on_issue_comment,
}

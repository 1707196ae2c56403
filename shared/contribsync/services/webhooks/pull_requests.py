"""Pull request deliveries: ``pull_request``, ``pull_request_review``, ``pull_request_review_comment`` and
``pull_request_review_thread``.

A ``pull_request`` event carries the whole PR and is always written. A review, review comment or thread on
a PR not stored yet stores the PR from the payload's (partial) ``pull_request`` object and queues
``capture/pr.details`` to complete it; on a stored PR the partial object's newer fields (GitHub moves
``updated_at`` with every review and comment) are applied and the rest kept.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from contribsync.capture.rows import Batch
from contribsync.errors import NonRetriable

if TYPE_CHECKING:
    from contribsync.services.webhooks.delivery import Delivery, Payload


def _with_pull_request(d: Delivery, batch: Batch) -> int:
    """The payload PR's GitHub id. A ``pull_request`` event carries the whole PR and is always
    written; the partial one of review events only when the PR is not stored yet (then completed by
    ``capture/pr.details``)."""
    pr = d.payload["pull_request"]
    if d.event == "pull_request":
        _same_number_check(d, pr)
        return batch.rest_pull_request(pr)
    stored = d.ctx.db.query_one("pull_request_by_github_id", {"github_id": int(pr["id"])})
    if stored is None:
        _same_number_check(d, pr)
        batch.rest_pull_request(pr)
        complete_pr(d, pr["number"])
    else:
        apply_partial(d, int(pr["id"]), pr, state="merged" if pr.get("merged_at") else pr.get("state"))
    return int(pr["id"])


def issue_view_state(issue: Payload) -> str | None:
    """A PR's state from its issue view: ``pull_request.merged_at`` tells merged from closed (GitHub
    has sent it since 2022); without it the view cannot say, and the stored state is kept."""
    link = issue.get("pull_request") or {}
    if "merged_at" not in link:
        return None
    return "merged" if link["merged_at"] else issue.get("state")


def apply_partial(d: Delivery, github_id: int, obj: Payload, *, state: str | None) -> None:
    """Apply a partial PR object, or a PR's issue view, to the stored PR if newer (``state=None``:
    the object does not say, keep the stored state, draft flag and close/merge times)."""
    if "merged_at" not in obj and isinstance(obj.get("pull_request"), dict):  # issue view
        obj = {**obj, "merged_at": obj["pull_request"].get("merged_at")}
    d.ctx.db.query("pull_request_partial", {
        "github_id": github_id, "title": obj.get("title"), "has_body": "body" in obj, "body": obj.get("body"),
        "state": state, "draft": obj.get("draft") if state else None, "merged_at": obj.get("merged_at"),
        "closed_at": obj.get("closed_at"), "base_branch": (obj.get("base") or {}).get("ref"),
        "head_branch": (obj.get("head") or {}).get("ref"), "updated_at": obj["updated_at"]})


def _same_number_check(d: Delivery, pr: Payload) -> None:
    """GitHub never gives two PRs of a repository the same number: a payload that does contradicts
    what is stored, and is refused with both ids rather than guessed at."""
    other = d.ctx.db.query_one("pull_request_by_number", {"repository_id": str(d.repo["id"]), "number": pr["number"]})
    if other is not None and int(other["github_id"]) != int(pr["id"]):
        raise NonRetriable(f"{d.repo['full_name']}#{pr['number']} is stored as PR {other['github_id']}, but this "
                           f"{d.event} delivery says PR {pr['id']}; GitHub numbers are unique per repository")


def complete_pr(d: Delivery, number: int) -> None:
    repo = d.repo
    d.ctx.send("capture/pr.details", {"repository": {"owner": repo["owner"], "name": repo["name"]},
                                      "pr_number": number, "reason": "webhook"})


def on_pull_request(d: Delivery) -> dict[str, Any]:
    batch = Batch()
    pr = _with_pull_request(d, batch)
    return {"pull_request": pr, "written": d.write(batch)}


def on_pull_request_review(d: Delivery) -> dict[str, Any]:
    batch = Batch()
    pr = _with_pull_request(d, batch)
    review = batch.rest_review(d.payload["review"], pr)
    return {"pull_request": pr, "review": review, "written": d.write(batch)}


def on_pull_request_review_comment(d: Delivery) -> dict[str, Any]:
    comment = d.payload["comment"]
    batch = Batch()
    pr = _with_pull_request(d, batch)
    if d.action == "deleted":
        written = d.write(batch) if batch.pull_requests else {}
        return {"pull_request": pr, "written": written, **d.delete("comment", int(comment["id"]))}
    batch.rest_review_comment(comment, pr)
    return {"pull_request": pr, "comment": int(comment["id"]),
            "written": d.write(batch, lock=(int(comment["id"]),))}


def on_pull_request_review_thread(d: Delivery) -> dict[str, Any]:
    batch = Batch()
    pr = _with_pull_request(d, batch)
    ids = tuple(batch.rest_review_comment(c, pr) for c in (d.payload.get("thread") or {}).get("comments") or [])
    return {"pull_request": pr, "comments": len(ids), "written": d.write(batch, lock=ids)}


HANDLERS = {
    "pull_request": on_pull_request,
    "pull_request_review": on_pull_request_review,
    "pull_request_review_comment": on_pull_request_review_comment,
    "pull_request_review_thread": on_pull_request_review_thread,
}

"""Discussion deliveries: ``discussion`` (deleted and transferred too) and ``discussion_comment``.

A discussion goes through the sync's mapper and statement (``capture.discussions``), under its advisory
lock, so the same rules hold as for a synced page; its author goes through the contributor upsert, as
the sync's authors do. Discussion comments have one writer, this one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from contribsync.capture import discussions
from contribsync.capture.rows import Batch
from contribsync.db.connection import sql
from contribsync.services.webhooks.delivery import locked, repository_row

if TYPE_CHECKING:
    from contribsync.services.webhooks.delivery import Delivery, Payload, Repo


def _store(d: Delivery, discussion: Payload, repo: Repo) -> None:
    authors = Batch()
    authors.user(discussion.get("user"), discussion.get("updated_at"))
    d.write(authors, repo=repo)
    answer = d.payload.get("answer") if d.action == "answered" else None
    with locked(d.ctx.db, (int(discussion["id"]),)) as conn:
        discussions.upsert_in(conn, str(repo["id"]), [discussions.webhook_row(discussion, answer=answer)])


def on_discussion(d: Delivery) -> dict[str, Any]:
    discussion = d.payload["discussion"]
    if d.action == "deleted":
        return d.delete("discussion", int(discussion["id"]))
    if d.action == "transferred":
        result = d.delete("discussion", int(discussion["id"]))
        changes = d.payload.get("changes") or {}
        new_discussion, new_repository = changes.get("new_discussion"), changes.get("new_repository")
        if isinstance(new_discussion, dict) and isinstance(new_repository, dict):
            target = repository_row(d.ctx, new_repository)
            _store(d, new_discussion, target)
            result["transferred_to"] = {"repository": target["full_name"], "discussion": int(new_discussion["id"])}
        return result
    _store(d, discussion, d.repo)
    return {"discussion": int(discussion["id"]), "number": discussion["number"]}


def on_discussion_comment(d: Delivery) -> dict[str, Any]:
    comment, discussion = d.payload["comment"], d.payload["discussion"]
    if d.action == "deleted":
        return d.delete("discussion_comment", int(comment["id"]))
    _store(d, discussion, d.repo)
    user = comment.get("user") or {}
    with locked(d.ctx.db, (int(comment["id"]),)) as conn:
        conn.execute(sql("discussion_comment_upsert"), {
            "id": comment["node_id"], "discussion_id": discussion["node_id"], "github_id": int(comment["id"]),
            "parent_github_id": comment.get("parent_id"), "author_id": user.get("id"),
            "author_login": user.get("login"), "body": comment.get("body"),
            "is_answer": bool(discussion.get("answer_html_url")
                              and discussion.get("answer_html_url") == comment.get("html_url")),
            "upvote_count": (comment.get("reactions") or {}).get("+1") or 0,
            "created_at": comment["created_at"], "updated_at": comment["updated_at"]})
    return {"discussion": int(discussion["id"]), "comment": int(comment["id"])}


HANDLERS = {
    "discussion": on_discussion,
    "discussion_comment": on_discussion_comment,
}

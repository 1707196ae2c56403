"""A discussion's row, from a sync's GraphQL node or a webhook's discussion object: one shape, one upsert.

Both map to the rows of ``discussions_upsert.sql`` (keyed by GraphQL node id, newer rows win, deleted
discussions stay deleted), so the rules that SQL states hold whichever way a discussion arrives. What a
webhook object does not carry is None there and keeps the stored value: its upvotes, the answer of an
edit, and the summary (webhooks make none; a changed discussion loses its stale one until a sync).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from contribsync.ai.summarizer import content_hash
from contribsync.db.connection import sql

if TYPE_CHECKING:
    import psycopg
    from psycopg.rows import DictRow

    from contribsync.db import Database

Row = dict[str, Any]


def graphql_row(node: dict[str, Any], *, summary: str | None) -> Row:
    """A ``discussions_page`` node, with the summary made for it (or None)."""
    author = node.get("author") or {}
    category = node.get("category") or {}
    answer = node.get("answer") or {}
    return {
        "id": node["id"], "github_id": node.get("databaseId"), "number": node["number"], "title": node["title"],
        "body": node.get("body"), "url": node["url"], "category_id": category.get("id"),
        "category_name": category.get("name"), "category_description": category.get("description"),
        "category_emoji": category.get("emoji"), "author_id": author.get("databaseId"),
        "author_login": author.get("login"), "is_answered": bool(node.get("isAnswered") or answer),
        "answer_id": answer.get("id"), "answer_chosen_at": node.get("answerChosenAt") or answer.get("createdAt"),
        "answer_chosen_by": (node.get("answerChosenBy") or {}).get("login"),
        "upvote_count": node.get("upvoteCount") or 0,
        "comment_count": (node.get("comments") or {}).get("totalCount") or 0, "locked": bool(node.get("locked")),
        "created_at": node["createdAt"], "updated_at": node["updatedAt"],
        "summary": summary, "content_hash": content_hash(node["title"], node.get("body")),
    }


def webhook_row(discussion: dict[str, Any], *, answer: dict[str, Any] | None = None) -> Row:
    """A webhook's ``discussion`` object; ``answer`` is the comment an ``answered`` delivery names."""
    category = discussion.get("category") or {}
    user = discussion.get("user") or {}
    return {
        "id": discussion["node_id"], "github_id": int(discussion["id"]), "number": discussion["number"],
        "title": discussion["title"], "body": discussion.get("body"), "url": discussion.get("html_url") or "",
        "category_id": category.get("node_id"), "category_name": category.get("name"),
        "category_description": category.get("description"), "category_emoji": category.get("emoji"),
        "author_id": user.get("id"), "author_login": user.get("login"),
        "is_answered": bool(discussion.get("answer_html_url") or discussion.get("answer_chosen_at")),
        "answer_id": (answer or {}).get("node_id"), "answer_chosen_at": discussion.get("answer_chosen_at"),
        "answer_chosen_by": (discussion.get("answer_chosen_by") or {}).get("login"),
        "upvote_count": None, "comment_count": discussion.get("comments") or 0,
        "locked": bool(discussion.get("locked")), "created_at": discussion["created_at"],
        "updated_at": discussion["updated_at"],
        "summary": None, "content_hash": content_hash(discussion["title"], discussion.get("body")),
    }


def upsert(db: Database, repository_id: str, rows: list[Row]) -> list[dict[str, Any]]:
    """Store ``rows`` into the repository's discussions; one ``{inserted}`` per row written."""
    return db.query("discussions_upsert", _params(repository_id, rows))


def upsert_in(conn: psycopg.Connection[DictRow], repository_id: str, rows: list[Row]) -> None:
    """``upsert`` inside the caller's transaction (a webhook holding the discussion's advisory lock)."""
    conn.execute(sql("discussions_upsert"), _params(repository_id, rows)).fetchall()


def _params(repository_id: str, rows: list[Row]) -> dict[str, Any]:
    return {"repository_id": repository_id, "rows": json.dumps(rows, default=str)}


__all__ = ["graphql_row", "upsert", "upsert_in", "webhook_row"]

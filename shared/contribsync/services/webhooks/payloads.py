"""What each webhook event type's payload must hold before it is applied (pydantic, extra fields allowed).

A stored delivery is checked against its event type's shape first: a payload without a field the mappers
read is refused at once as non-retriable, naming the field. Past this check, an error while applying is
a fault of ours or of the database, retried and then dead-lettered with its own traceback, instead of
every ``KeyError`` being taken for bad input.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from contribsync.errors import NonRetriable


class _Object(BaseModel):
    model_config = ConfigDict(extra="allow")


class Repository(_Object):
    id: int
    name: str


class PullRequest(_Object):
    id: int
    number: int
    title: str
    state: str
    created_at: str
    updated_at: str
    base: dict[str, Any]
    head: dict[str, Any]


class Review(_Object):
    id: int
    state: str


class Comment(_Object):
    id: int
    body: str | None
    created_at: str
    updated_at: str


class IssueRef(_Object):
    """An issue as every ``issues`` and ``issue_comment`` payload has it (pinned ones are partial)."""

    id: int
    number: int


class Discussion(_Object):
    id: int
    node_id: str
    number: int
    title: str
    created_at: str
    updated_at: str


class DiscussionComment(_Object):
    id: int
    node_id: str
    created_at: str
    updated_at: str


# the objects each event type's handler reads, by payload key
REQUIRED: dict[str, dict[str, type[_Object]]] = {
    "pull_request": {"pull_request": PullRequest},
    "pull_request_review": {"pull_request": PullRequest, "review": Review},
    "pull_request_review_comment": {"pull_request": PullRequest, "comment": Comment},
    "pull_request_review_thread": {"pull_request": PullRequest},
    "issues": {"issue": IssueRef},
    "issue_comment": {"issue": IssueRef, "comment": Comment},
    "discussion": {"discussion": Discussion},
    "discussion_comment": {"discussion": Discussion, "comment": DiscussionComment},
    "star": {"repository": Repository},
    "push": {"repository": Repository},
    "repository": {"repository": Repository},
    "public": {"repository": Repository},
}


def check(event: str, payload: dict[str, Any]) -> None:
    """``NonRetriable`` naming the first field ``event``'s payload lacks or holds in the wrong type."""
    wanted = dict(REQUIRED.get(event, {}))
    if isinstance(payload.get("repository"), dict):  # every delivery that names its repository stores it
        wanted.setdefault("repository", Repository)
    for key, model in wanted.items():
        value = payload.get(key)
        if not isinstance(value, dict):
            raise NonRetriable(f"malformed {event} payload: no {key} object")
        try:
            model.model_validate(value)
        except ValidationError as exc:
            problem = exc.errors()[0]
            where = ".".join(str(part) for part in (key, *problem["loc"]))
            raise NonRetriable(f"malformed {event} payload: {where}: {problem['msg']}") from None


__all__ = ["REQUIRED", "check"]

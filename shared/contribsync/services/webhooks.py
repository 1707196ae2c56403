"""The ``webhook/*`` functions: apply a stored GitHub webhook delivery to the database.

Every handler upserts from the payload itself, with no GitHub call where the payload holds the data,
through the same set-based writer as the syncs (``capture.store``), so the same rules hold:

- rows are keyed by GitHub id (a renamed or transferred repository keeps its row);
- a row only replaces an older one (GitHub's ``updated_at``), so deliveries may come late, twice or
  out of order;
- what GitHub deleted is remembered (``deleted_github_objects``) and never comes back; writers of
  single objects take the object's advisory lock, so a deletion cannot interleave with a late update.

Choices where GitHub's payloads leave room:

- The payload's ``repository`` object creates or updates the repositories row (never its PR count or
  sync clocks). A repository seen for the first time is enriched by ``discover/new-repository``.
- A review, review comment or thread on a PR not stored yet stores the PR from the payload's
  (partial) ``pull_request`` object and queues ``capture/pr.details`` to complete it; on a stored PR
  the partial object's newer fields (GitHub moves ``updated_at`` with every review and comment) are
  applied and the rest kept. A comment on a PR
  whose ``issue_comment`` payload only has the issue view of it queues ``capture/pr.details`` and is
  retried (``ParentMissing``) until the PR is there.
- ``push`` moves the repository's ``github_pushed_at``; ``star`` updates the counts and records a
  ``WatchEvent`` in ``github_events_cache`` (the workspace metrics' source); ``member`` upserts the
  contributor. ``create``, ``delete``, ``label``, ``release`` and other types are recorded by the
  receiver and not queued: nothing in the schema holds them.
- ``installation``/``installation_repositories``: added repositories are discovered, removed ones (and
  all of a deleted installation's) are deactivated (``is_active`` and tracking off), never deleted.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import psycopg

from contribsync import catalog
from contribsync.capture import repos, store
from contribsync.capture.rows import Batch
from contribsync.db.connection import sql
from contribsync.errors import ContribsyncError, NonRetriable, StoreError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

    from psycopg.rows import DictRow

    from contribsync.db import Database
    from contribsync.payloads import RepositoryWebhook, WebhookDelivery
    from contribsync.runtime import RunContext

Payload = dict[str, Any]
Repo = dict[str, Any]


class ParentMissing(ContribsyncError):
    """The object a delivery belongs to is not stored yet; retried with backoff while it is fetched."""


def apply_repository(data: RepositoryWebhook, ctx: RunContext) -> dict[str, Any]:
    """``ApplyRepositoryWebhook``: a stored delivery, or an event contributor.info's App webhook handler
    sends once it stored an installation (``github.app.installed``, ``github.app.permissions_updated``).
    Those name the account only; the repositories come with GitHub's own ``installation`` delivery, so
    the App event is recorded, as an ``installation`` delivery without repositories is."""
    if data.delivery_id is not None:
        return apply_delivery(data, ctx)
    return {"installation": data.installation_id, "account": data.account, "recorded": ctx.event_name}


def apply_delivery(data: WebhookDelivery, ctx: RunContext) -> dict[str, Any]:
    """Apply one stored delivery; its row in ``webhook_deliveries`` ends ``processed`` or ``failed``."""
    stored = ctx.db.query_one("webhook_delivery_get", {"delivery_id": data.delivery_id})
    if stored is None:
        raise NonRetriable(f"webhook delivery {data.delivery_id} is not stored; the receiver stores it first")
    handler = HANDLERS.get(stored["event"])
    if handler is None:
        raise NonRetriable(f"no handler for webhook event {stored['event']!r}")
    payload: Payload = stored["payload"]
    delivery = Delivery(ctx, data.delivery_id, stored["event"], payload)
    try:
        if isinstance(payload.get("repository"), dict):
            _ = delivery.repo  # every delivery refreshes (or creates) its repository's row
        result = handler(delivery)
    except NonRetriable as exc:
        _failed(ctx, data.delivery_id, exc)
        raise
    except (KeyError, TypeError, ValueError) as exc:  # a payload without the fields its event type has
        error = NonRetriable(f"malformed {stored['event']} payload: {type(exc).__name__}: {exc}")
        _failed(ctx, data.delivery_id, error)
        raise error from exc
    except Exception as exc:
        if ctx.attempt >= catalog.by_function(ctx.function).max_receive_count:  # retries spent: DLQ next
            _failed(ctx, data.delivery_id, exc)
        raise
    result = {"event": stored["event"], "action": payload.get("action"), **result}
    ctx.db.query("webhook_delivery_finish", {"delivery_id": data.delivery_id, "status": "processed", "error": None,
                                             "result": json.dumps(result, default=str)})
    return result


def _failed(ctx: RunContext, delivery_id: str, error: BaseException) -> None:
    ctx.db.query("webhook_delivery_finish", {"delivery_id": delivery_id, "status": "failed",
                                             "error": f"{type(error).__name__}: {error}"[:2000], "result": None})


@contextmanager
def locked(db: Database, ids: Iterable[int]) -> Iterator[psycopg.Connection[DictRow]]:
    """A transaction holding the advisory locks of the GitHub ids ``ids`` (none: a plain transaction)."""
    store.ensure_staging(db.connection())  # before BEGIN, so the session keeps them (see store)
    with db.transaction() as conn:
        if ids := sorted(set(ids)):
            conn.execute(sql("advisory_lock_ids"), {"ids": ids}).fetchall()
        yield conn


class Delivery:
    """One delivery being applied: its payload, and the repository row its ``repository`` object names."""

    def __init__(self, ctx: RunContext, delivery_id: str, event: str, payload: Payload) -> None:
        self.ctx = ctx
        self.id = delivery_id
        self.event = event
        self.payload = payload
        self.action: str | None = payload.get("action")
        self._repo: Repo | None = None

    @property
    def repo(self) -> Repo:
        """The payload repository's row, created or refreshed from the payload on first use."""
        if self._repo is None:
            repository = self.payload.get("repository")
            if not isinstance(repository, dict):
                raise NonRetriable(f"{self.event} delivery {self.id} has no repository object")
            self._repo = repository_row(self.ctx, repository)
        return self._repo

    def write(self, batch: Batch, *, repo: Repo | None = None, lock: tuple[int, ...] = ()) -> dict[str, Any]:
        """Store ``batch`` into ``repo`` (the payload's by default), holding the advisory locks of ``lock``."""
        repo = repo or self.repo
        if not lock:  # store.write is one transaction of its own
            return store.write(self.ctx.db, batch, repository_id=str(repo["id"]),
                               repository_full_name=repo["full_name"]).as_dict()
        with locked(self.ctx.db, lock):
            written = store.write(self.ctx.db, batch, repository_id=str(repo["id"]),
                                  repository_full_name=repo["full_name"])
        return written.as_dict()

    def delete(self, kind: str, github_id: int) -> dict[str, Any]:
        """Remember that GitHub deleted ``github_id`` and remove its row."""
        with locked(self.ctx.db, (github_id,)) as conn:
            row = conn.execute(sql("github_object_delete"), {"kind": kind, "github_id": github_id,
                                                              "delivery_id": self.id}).fetchone()
        return {"deleted": {kind: github_id, "rows": row["deleted"] if row else 0}}


# -- repositories ---------------------------------------------------------------------------------------

def _timestamp(value: object) -> str | None:
    """GitHub's repository timestamps: ISO 8601, or epoch seconds in ``push`` payloads."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC).isoformat()
    return value if isinstance(value, str) else None


def repository_params(repository: Payload) -> dict[str, Any]:
    """A REST/webhook repository object as ``repository_from_webhook`` parameters."""
    owner = repository.get("owner") or {}
    full_name = repository.get("full_name") or f"{owner.get('login')}/{repository['name']}"
    return {
        "github_id": int(repository["id"]), "full_name": full_name,
        "owner": owner.get("login") or full_name.split("/")[0], "name": repository["name"],
        "description": repository.get("description"), "homepage": repository.get("homepage") or None,
        "language": repository.get("language"), "topics": list(repository.get("topics") or []),
        "license": (repository.get("license") or {}).get("spdx_id"),
        "default_branch": repository.get("default_branch"),
        "stargazers_count": repository.get("stargazers_count") or 0,
        "watchers_count": repository.get("watchers_count") or 0,
        "forks_count": repository.get("forks_count") or 0,
        "open_issues_count": repository.get("open_issues_count") or 0,
        "is_fork": bool(repository.get("fork")), "is_archived": bool(repository.get("archived")),
        "is_disabled": bool(repository.get("disabled")), "is_private": bool(repository.get("private")),
        "has_issues": bool(repository.get("has_issues", True)), "has_projects": bool(repository.get("has_projects")),
        "has_wiki": bool(repository.get("has_wiki")), "has_discussions": bool(repository.get("has_discussions")),
        "github_created_at": _timestamp(repository.get("created_at")),
        "github_updated_at": _timestamp(repository.get("updated_at")),
        "github_pushed_at": _timestamp(repository.get("pushed_at")),
        "size": repository.get("size"), "has_pages": repository.get("has_pages"),
        "has_downloads": repository.get("has_downloads"),
    }


def repository_row(ctx: RunContext, repository: Payload) -> Repo:
    """Create or refresh the repository's row from a payload object; a first sighting queues discovery."""
    params = repository_params(repository)
    try:
        row = ctx.db.query_one("repository_from_webhook", params)
    except StoreError as exc:
        if not isinstance(exc.__cause__, psycopg.errors.UniqueViolation):
            raise
        # GitHub names are unique at any instant but move (renames, transfers, delete and re-create):
        # the repository this payload describes holds its name now, whichever row held it before.
        with ctx.db.transaction():
            ctx.db.query("repository_free_name", params)
            row = ctx.db.query_one("repository_from_webhook", params)
    if row is None:  # another transaction stored it after this statement's snapshot: read it now
        row = repos.find(ctx.db, github_id=params["github_id"])
        if row is None:
            raise NonRetriable(f"repository {params['full_name']} could not be stored")
        return row
    if row["inserted"]:
        ctx.send("discover/new-repository", {"owner": row["owner"], "repo": row["name"], "source": "webhook"})
    return row


def on_repository(d: Delivery) -> dict[str, Any]:
    repo = d.repo
    if d.action == "deleted":
        d.ctx.db.query("repositories_deactivate", {"github_ids": [repo["github_id"]]})
        return {"repository": repo["full_name"], "deactivated": 1}
    return {"repository": repo["full_name"], "github_id": repo["github_id"]}


def on_push(d: Delivery) -> dict[str, Any]:
    return {"repository": d.repo["full_name"], "ref": d.payload.get("ref")}


def on_star(d: Delivery) -> dict[str, Any]:
    repo = d.repo
    recorded = 0
    if d.action == "created" and d.payload.get("starred_at"):
        sender = d.payload.get("sender") or {}
        event = {"event_id": f"webhook:{d.id}", "event_type": "WatchEvent", "actor_login": sender.get("login"),
                 "payload": {"action": "started", "source": "webhook"}, "created_at": d.payload["starred_at"]}
        recorded = len(d.ctx.db.query("github_events_upsert", {"owner": repo["owner"], "name": repo["name"],
                                                               "events": json.dumps([event])}))
    return {"repository": repo["full_name"], "stars": d.payload["repository"].get("stargazers_count"),
            "events_recorded": recorded}


def on_member(d: Delivery) -> dict[str, Any]:
    batch = Batch()
    member = batch.user(d.payload.get("member"))
    d.write(batch)
    return {"repository": d.repo["full_name"], "member": member}


def _installation_repos(ctx: RunContext, added: list[Payload], removed: list[Payload]) -> dict[str, Any]:
    for repository in added:
        owner, _, name = str(repository.get("full_name", "")).partition("/")
        if owner and name:
            ctx.send("discover/new-repository", {"owner": owner, "repo": name, "source": "webhook"})
    ids = [int(r["id"]) for r in removed if r.get("id") is not None]
    deactivated = ctx.db.query("repositories_deactivate", {"github_ids": ids}) if ids else []
    return {"discovered": len(added), "deactivated": len(deactivated)}


def on_installation(d: Delivery) -> dict[str, Any]:
    repositories = list(d.payload.get("repositories") or [])
    if d.action == "created":
        return _installation_repos(d.ctx, repositories, [])
    if d.action == "deleted":
        return _installation_repos(d.ctx, [], repositories)
    return {"installation": (d.payload.get("installation") or {}).get("id"), "recorded": d.action}


def on_installation_repositories(d: Delivery) -> dict[str, Any]:
    return _installation_repos(d.ctx, list(d.payload.get("repositories_added") or []),
                               list(d.payload.get("repositories_removed") or []))


# -- pull requests ----------------------------------------------------------------------------------------

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
        _complete_pr(d, pr["number"])
    else:
        _partial_pull_request(d, int(pr["id"]), pr, state="merged" if pr.get("merged_at") else pr.get("state"))
    return int(pr["id"])


def _issue_view_state(issue: Payload) -> str | None:
    """A PR's state from its issue view: ``pull_request.merged_at`` tells merged from closed (GitHub
    has sent it since 2022); without it the view cannot say, and the stored state is kept."""
    link = issue.get("pull_request") or {}
    if "merged_at" not in link:
        return None
    return "merged" if link["merged_at"] else issue.get("state")


def _partial_pull_request(d: Delivery, github_id: int, obj: Payload, *, state: str | None) -> None:
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


def _complete_pr(d: Delivery, number: int) -> None:
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


# -- issues and comments ----------------------------------------------------------------------------------

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
            _complete_pr(d, issue["number"])
            raise ParentMissing(f"PR #{issue['number']} of {d.repo['full_name']} is not stored yet; "
                                "capture/pr.details was queued")
        if stored is not None:
            pr_github_id = int(stored["github_id"])
            _partial_pull_request(d, pr_github_id, issue, state=_issue_view_state(issue))
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


# -- discussions ----------------------------------------------------------------------------------------------

def _discussion_params(d: Delivery, discussion: Payload, repo: Repo) -> dict[str, Any]:
    category = discussion.get("category") or {}
    user = discussion.get("user") or {}
    chosen_by = discussion.get("answer_chosen_by") or {}
    answer = d.payload.get("answer") if d.action == "answered" else None
    return {
        "id": discussion["node_id"], "github_id": int(discussion["id"]), "repository_id": str(repo["id"]),
        "number": discussion["number"], "title": discussion["title"], "body": discussion.get("body"),
        "url": discussion.get("html_url") or "", "category_id": category.get("node_id"),
        "category_name": category.get("name"), "category_description": category.get("description"),
        "category_emoji": category.get("emoji"), "author_id": user.get("id"), "author_login": user.get("login"),
        "is_answered": bool(discussion.get("answer_html_url") or discussion.get("answer_chosen_at")),
        "answer_id": (answer or {}).get("node_id"), "answer_chosen_at": discussion.get("answer_chosen_at"),
        "answer_chosen_by": chosen_by.get("login"), "comment_count": discussion.get("comments") or 0,
        "locked": bool(discussion.get("locked")), "created_at": discussion["created_at"],
        "updated_at": discussion["updated_at"],
    }


def _upsert_discussion(d: Delivery, discussion: Payload, repo: Repo) -> None:
    with locked(d.ctx.db, (int(discussion["id"]),)) as conn:
        conn.execute(sql("discussion_upsert"), _discussion_params(d, discussion, repo))


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
            _upsert_discussion(d, new_discussion, target)
            result["transferred_to"] = {"repository": target["full_name"], "discussion": int(new_discussion["id"])}
        return result
    _upsert_discussion(d, discussion, d.repo)
    return {"discussion": int(discussion["id"]), "number": discussion["number"]}


def on_discussion_comment(d: Delivery) -> dict[str, Any]:
    comment, discussion = d.payload["comment"], d.payload["discussion"]
    if d.action == "deleted":
        return d.delete("discussion_comment", int(comment["id"]))
    _upsert_discussion(d, discussion, d.repo)
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


HANDLERS: dict[str, Callable[[Delivery], dict[str, Any]]] = {
    "pull_request": on_pull_request,
    "pull_request_review": on_pull_request_review,
    "pull_request_review_comment": on_pull_request_review_comment,
    "pull_request_review_thread": on_pull_request_review_thread,
    "issues": on_issues,
    "issue_comment": on_issue_comment,
    "discussion": on_discussion,
    "discussion_comment": on_discussion_comment,
    "repository": on_repository,
    "public": on_repository,
    "push": on_push,
    "star": on_star,
    "member": on_member,
    "installation": on_installation,
    "installation_repositories": on_installation_repositories,
}

__all__ = ["HANDLERS", "ParentMissing", "apply_delivery", "apply_repository", "repository_params", "repository_row"]

"""A repository's row: finding it, and writing it from GitHub's description of it.

One write path for every source: GraphQL's metadata (``graphql_params``) and REST or webhook objects
(``rest_params``) map to the same parameters of ``repository_upsert.sql``, whose rules say which source
may change what.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import psycopg

from contribsync.errors import NonRetriable, NotFound, StoreError

if TYPE_CHECKING:
    from uuid import UUID

    from contribsync.db import Database
    from contribsync.runtime import RunContext


def find(db: Database, *, repository_id: UUID | str | None = None, github_id: int | None = None,
         full_name: str | None = None) -> dict[str, Any] | None:
    return db.query_one("repository_find", {"id": str(repository_id) if repository_id else None,
                                            "github_id": github_id, "full_name": full_name})


def graphql_params(meta: dict[str, Any]) -> dict[str, Any]:
    """The ``RepositoryMetadata`` GraphQL answer as ``repository_upsert`` parameters."""
    return {
        "github_id": int(meta["databaseId"]), "full_name": meta["nameWithOwner"], "owner": meta["owner"]["login"],
        "name": meta["name"], "description": meta.get("description"), "homepage": meta.get("homepageUrl"),
        "language": (meta.get("primaryLanguage") or {}).get("name"),
        "topics": [n["topic"]["name"] for n in (meta.get("repositoryTopics") or {}).get("nodes", [])],
        "license": (meta.get("licenseInfo") or {}).get("spdxId"),
        "default_branch": (meta.get("defaultBranchRef") or {}).get("name"),
        "stargazers_count": meta.get("stargazerCount") or 0,
        "watchers_count": (meta.get("watchers") or {}).get("totalCount") or 0,
        "forks_count": meta.get("forkCount") or 0,
        "open_issues_count": (meta.get("openIssues") or {}).get("totalCount") or 0,
        "pull_request_count": (meta.get("pullRequests") or {}).get("totalCount") or 0,
        "is_fork": bool(meta.get("isFork")), "is_archived": bool(meta.get("isArchived")),
        "is_disabled": bool(meta.get("isDisabled")), "is_private": bool(meta.get("isPrivate")),
        "has_issues": bool(meta.get("hasIssuesEnabled")), "has_projects": bool(meta.get("hasProjectsEnabled")),
        "has_wiki": bool(meta.get("hasWikiEnabled")), "has_discussions": bool(meta.get("hasDiscussionsEnabled")),
        "github_created_at": meta.get("createdAt"), "github_updated_at": meta.get("updatedAt"),
        "github_pushed_at": meta.get("pushedAt"),
        "size": None, "has_pages": None, "has_downloads": None,  # REST-only fields
        "from_webhook": False, "reactivate": True,  # GitHub has it: active again
    }


def _timestamp(value: object) -> str | None:
    """GitHub's repository timestamps: ISO 8601, or epoch seconds in ``push`` payloads."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC).isoformat()
    return value if isinstance(value, str) else None


def rest_params(repository: dict[str, Any], *, from_webhook: bool = True) -> dict[str, Any]:
    """A REST or webhook repository object as ``repository_upsert`` parameters. Its ``watchers_count``
    and ``open_issues_count`` are GitHub's legacy fields (stars; issues plus pull requests), not what
    the sync stores there, so they are left out (None keeps the stored value); so is the pull request
    count, which no such object carries."""
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
        "watchers_count": repository.get("subscribers_count"),  # only GET /repos/{owner}/{repo} has it
        "forks_count": repository.get("forks_count") or 0,
        "open_issues_count": None, "pull_request_count": None,
        "is_fork": bool(repository.get("fork")), "is_archived": bool(repository.get("archived")),
        "is_disabled": bool(repository.get("disabled")), "is_private": bool(repository.get("private")),
        "has_issues": bool(repository.get("has_issues", True)), "has_projects": bool(repository.get("has_projects")),
        "has_wiki": bool(repository.get("has_wiki")), "has_discussions": bool(repository.get("has_discussions")),
        "github_created_at": _timestamp(repository.get("created_at")),
        "github_updated_at": _timestamp(repository.get("updated_at")),
        "github_pushed_at": _timestamp(repository.get("pushed_at")),
        "size": repository.get("size"), "has_pages": repository.get("has_pages"),
        "has_downloads": repository.get("has_downloads"),
        "from_webhook": from_webhook, "reactivate": False,
    }


def store(db: Database, params: dict[str, Any]) -> dict[str, Any]:
    """Upsert a repository from ``graphql_params`` or ``rest_params``; the row, with ``inserted``.

    GitHub names are unique at any instant but move (renames, transfers, delete and re-create): when the
    name is held by another row, the repository described here takes it (``repository_free_name``)."""
    try:
        row = db.query_one("repository_upsert", params)
    except StoreError as exc:
        if not isinstance(exc.__cause__, psycopg.errors.UniqueViolation):
            raise
        with db.transaction():
            db.query("repository_free_name", params)
            row = db.query_one("repository_upsert", params)
    if row is None:  # another transaction stored it after this statement's snapshot: read it now
        row = find(db, github_id=params["github_id"])
        if row is None:
            raise NonRetriable(f"repository {params['full_name']} could not be stored")
        return {**row, "inserted": False}
    return row


def fetch_and_store(ctx: RunContext, owner: str, name: str) -> dict[str, Any]:
    """Read the repository's metadata from GitHub and upsert its row; ``NotFound`` if GitHub has none."""
    meta = ctx.github.graphql("repository", {"owner": owner, "name": name}).data.get("repository")
    if not meta:
        raise NotFound(f"repository {owner}/{name} does not exist on GitHub, or the token cannot see it")
    return store(ctx.db, graphql_params(meta))


def resolve(ctx: RunContext, *, repository_id: UUID | None = None, owner: str | None = None,
            name: str | None = None, github_id: int | None = None) -> dict[str, Any]:
    """The stored row named by id or owner/name; a repository named by owner/name that is not stored
    yet is created from GitHub. An unknown id is ``NotFound`` (non-retriable)."""
    full_name = f"{owner}/{name}" if owner and name else None
    row = find(ctx.db, repository_id=repository_id, github_id=github_id, full_name=full_name)
    if row is not None:
        return row
    if owner and name:
        fetch_and_store(ctx, owner, name)
        created = find(ctx.db, full_name=full_name)
        if created is not None:
            return created
    raise NotFound(f"repository {repository_id or github_id or full_name} is not stored; send "
                   "discover/new-repository with {owner, repo} first")


__all__ = ["fetch_and_store", "find", "graphql_params", "resolve", "rest_params", "store"]

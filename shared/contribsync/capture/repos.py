"""Finding a repository's row, and creating it from GitHub's metadata when it is not stored yet."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from contribsync.errors import NotFound

if TYPE_CHECKING:
    from uuid import UUID

    from contribsync.db import Database
    from contribsync.runtime import RunContext


def find(db: Database, *, repository_id: UUID | str | None = None, github_id: int | None = None,
         full_name: str | None = None) -> dict[str, Any] | None:
    return db.query_one("repository_find", {"id": str(repository_id) if repository_id else None,
                                            "github_id": github_id, "full_name": full_name})


def metadata_params(meta: dict[str, Any]) -> dict[str, Any]:
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
    }


def fetch_and_store(ctx: RunContext, owner: str, name: str) -> dict[str, Any]:
    """Read the repository's metadata from GitHub and upsert its row; ``NotFound`` if GitHub has none."""
    meta = ctx.github.graphql("repository", {"owner": owner, "name": name}).data.get("repository")
    if not meta:
        raise NotFound(f"repository {owner}/{name} does not exist on GitHub, or the token cannot see it")
    row = ctx.db.query_one("repository_upsert", metadata_params(meta))
    assert row is not None  # RETURNING always answers
    return row


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


__all__ = ["fetch_and_store", "find", "metadata_params", "resolve"]

"""GitHub access: GraphQL documents, the httpx client, credentials and the shared rate-limit budget."""

from __future__ import annotations

from typing import TYPE_CHECKING

from contribsync.github.auth import Credentials, GitHubApp, Grant, StaticTokens
from contribsync.github.budget import PostgresBudget
from contribsync.github.client import GitHubClient, GraphQLResponse, RestResponse
from contribsync.github.documents import document
from contribsync.github.etags import MemoryEtags, PostgresEtags

if TYPE_CHECKING:
    from contribsync.clock import Clock
    from contribsync.db import Database
    from contribsync.settings import Settings


def credentials_from(settings: Settings) -> Credentials:
    """A GitHub App when ``GITHUB_APP_ID`` and its key are set, else the ``GITHUB_TOKEN`` list."""
    if settings.github_app_id and settings.github_app_private_key:
        return GitHubApp(settings.github_app_id, settings.github_app_private_key, base_url=settings.github_api_url,
                         installation_ids=list(settings.github_app_installation_ids) or None)
    return StaticTokens(list(settings.github_tokens))


def github_client(settings: Settings, db: Database, *, clock: Clock | None = None) -> GitHubClient:
    """The client every function uses: its budget shared through Postgres, on ``clock`` (the system's by
    default) like the runtime's."""
    return GitHubClient(base_url=settings.github_api_url, credentials=credentials_from(settings),
                        budget=PostgresBudget(db, reserve=settings.github_rate_limit_reserve, clock=clock),
                        etags=PostgresEtags(db), timeout_s=settings.github_timeout_s)


__all__ = [
    "Credentials",
    "GitHubApp",
    "GitHubClient",
    "Grant",
    "GraphQLResponse",
    "MemoryEtags",
    "PostgresBudget",
    "PostgresEtags",
    "RestResponse",
    "StaticTokens",
    "credentials_from",
    "document",
    "github_client",
]

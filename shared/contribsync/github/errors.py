"""GitHub's answers translated into the layer's error tree, in one place.

GitHub signals limits three ways, and they need different waits:
- primary limit: 403 or 429 with ``x-ratelimit-remaining: 0``; wait until ``x-ratelimit-reset``;
- secondary limit: 403 or 429 with ``retry-after`` (or a "secondary rate limit" message); wait
  that many seconds (60 when GitHub gives no number);
- GraphQL: HTTP 200 with ``errors[].type == "RATE_LIMITED"``.
Every message carries ``X-GitHub-Request-Id`` so a failure can be matched with GitHub support.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from contribsync.errors import (
    GitHubError,
    GitHubUnavailable,
    GraphQLError,
    NotFound,
    RateLimited,
    SecondaryRateLimited,
    Unauthorized,
    Unprocessable,
)

if TYPE_CHECKING:
    import httpx

SECONDARY_DEFAULT_WAIT_S = 60


def request_id(response: httpx.Response) -> str | None:
    value: str | None = response.headers.get("x-github-request-id")
    return value


def reset_time(response: httpx.Response) -> datetime:
    """When the primary budget refills (``x-ratelimit-reset``, epoch seconds), else in an hour."""
    reset = response.headers.get("x-ratelimit-reset")
    if reset and reset.isdigit():
        return datetime.fromtimestamp(int(reset), tz=UTC)
    return datetime.now(UTC) + timedelta(hours=1)


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300] or response.reason_phrase
    if isinstance(body, dict):
        message = str(body.get("message") or response.reason_phrase)
        details = body.get("errors")
        return f"{message}: {details}" if details else message
    return response.reason_phrase


_BY_STATUS: dict[int, type[GitHubError]] = {
    HTTPStatus.BAD_REQUEST: Unprocessable,
    HTTPStatus.UNAUTHORIZED: Unauthorized,
    HTTPStatus.NOT_FOUND: NotFound,
    HTTPStatus.GONE: NotFound,
    HTTPStatus.UNPROCESSABLE_ENTITY: Unprocessable,
}
_LIMIT_STATUS = frozenset({HTTPStatus.FORBIDDEN, HTTPStatus.TOO_MANY_REQUESTS})


def _limit_error(response: httpx.Response, message: str, rid: str | None, what: str) -> GitHubError | None:
    retry_after = response.headers.get("retry-after")
    if retry_after and retry_after.isdigit():
        return SecondaryRateLimited(message, retry_after=int(retry_after), request_id=rid, request=what)
    if response.headers.get("x-ratelimit-remaining") == "0":
        return RateLimited(message, defer_until=reset_time(response), request_id=rid, request=what)
    if "secondary rate limit" in message.lower() or "abuse" in message.lower():
        return SecondaryRateLimited(message, retry_after=SECONDARY_DEFAULT_WAIT_S, request_id=rid, request=what)
    return None


def error_for(response: httpx.Response, what: str) -> GitHubError:
    """The error for a non-2xx, non-304 answer to ``what`` (e.g. ``GET /repos/o/r``)."""
    status, rid = response.status_code, request_id(response)
    message = f"{what}: {status} {_message(response)}"
    if status in _LIMIT_STATUS and (limited := _limit_error(response, message, rid, what)) is not None:
        return limited
    cls = _BY_STATUS.get(status) or (
        GitHubUnavailable if status >= HTTPStatus.INTERNAL_SERVER_ERROR else GitHubError)
    return cls(message, request_id=rid, status=status, request=what)


def graphql_error_for(errors: list[dict[str, Any]], response: httpx.Response, what: str) -> GitHubError:
    """The error for a GraphQL answer carrying ``errors`` (HTTP 200)."""
    rid = request_id(response)
    types = {str(e.get("type")) for e in errors}
    messages = [str(e.get("message", e)) for e in errors]
    if "RATE_LIMITED" in types:
        return RateLimited(f"{what}: {'; '.join(messages)}", defer_until=reset_time(response), request_id=rid,
                           request=what)
    if types == {"NOT_FOUND"}:
        return NotFound(f"{what}: {'; '.join(messages)}", request_id=rid, status=404, request=what)
    return GraphQLError(messages, request_id=rid, request=what)


__all__ = ["error_for", "graphql_error_for", "request_id", "reset_time"]

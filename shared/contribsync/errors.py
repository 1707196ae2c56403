"""The one error tree of contribsync.

Adapters (httpx, psycopg, boto3) translate their exceptions into these once, at their boundary,
with ``raise X(...) from exc``. The runtime decides what happens to a message from the error's type
alone::

    ContribsyncError
    ├── NonRetriable            fail now: recorded, moved to the DLQ, no retries spent
    │   ├── InvalidEvent        the message body or its data does not validate
    │   ├── UnknownEvent        no function handles this event name
    │   └── NotFound            (also a GitHubError) the thing asked for does not exist
    ├── Deferred                not a failure: run later, no attempt spent
    │   ├── RateLimited(defer_until)            (also a GitHubError) primary budget exhausted
    │   └── SecondaryRateLimited(retry_after)   (also a GitHubError) GitHub asked us to back off
    ├── Cancelled               a matching cancel/function arrived; stop at this checkpoint
    ├── GitHubError             anything else from GitHub: retried with backoff
    │   ├── GraphQLError(messages)
    │   ├── GitHubUnavailable   5xx or timeouts that outlasted the client's own retries
    │   ├── Unauthorized        (also NonRetriable) 401: bad or expired credentials
    │   ├── Unprocessable       (also NonRetriable) 422: GitHub refused the request itself
    │   ├── NoInstallation      (also NonRetriable) the GitHub App is not installed on the repository's owner
    │   └── ForeignHost         (also NonRetriable) a URL off GITHUB_API_URL's origin: refused, never sent
    ├── OpenAIError             anything else from OpenAI (5xx, timeouts): retried with backoff
    │   └── OpenAIRateLimited(defer_until)     (also Deferred) a 429, or the shared per-minute budget is spent
    ├── StoreError              a database failure: retried with backoff
    ├── PartialSend(sent, failed)  SQS refused some events of a send (the others are queued)
    └── ConfigurationError      the deployment's settings cannot work (e.g. no usable event key)

Anything else raised by a service is a bug or a transient fault and is retried with backoff.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class ContribsyncError(Exception):
    """Base of every error contribsync raises on purpose."""


class NonRetriable(ContribsyncError):
    """Retrying cannot help: record the failure and dead-letter the message at once."""


class InvalidEvent(NonRetriable):
    """The message body or the event's data failed validation."""


class UnknownEvent(NonRetriable):
    """No function in the catalog handles this event name."""


class Deferred(ContribsyncError):
    """Run this message again later without spending an attempt."""

    def __init__(self, message: str, *, defer_until: datetime) -> None:
        super().__init__(message)
        self.defer_until = defer_until

    def delay_seconds(self, now: datetime) -> int:
        return max(0, int((self.defer_until - now).total_seconds() + 0.999))


class Cancelled(ContribsyncError):
    """A cancel/function event matched this run."""


class GitHubError(ContribsyncError):
    """A failed GitHub call. The message carries GitHub's X-GitHub-Request-Id when there is one;
    ``request`` names the call (``GET /repos/o/r/issues?page=3``, ``GraphQL issues_page``)."""

    def __init__(self, message: str, *, request_id: str | None = None, status: int | None = None,
                 request: str | None = None) -> None:
        suffix = f" (X-GitHub-Request-Id: {request_id})" if request_id else ""
        # Exception.__init__ directly: in RateLimited's MRO, super() here would be Deferred.
        Exception.__init__(self, message + suffix)
        self.request_id = request_id
        self.status = status
        self.request = request


class NotFound(GitHubError, NonRetriable):
    """GitHub answered 404 (or a GraphQL NOT_FOUND): the repository, PR or user does not exist."""


class RateLimited(GitHubError, Deferred):
    """The token's budget is below the reserve; resume at ``defer_until`` (the reset time)."""

    def __init__(self, message: str, *, defer_until: datetime, request_id: str | None = None,
                 request: str | None = None) -> None:
        GitHubError.__init__(self, message, request_id=request_id, status=403, request=request)
        self.defer_until = defer_until


class SecondaryRateLimited(RateLimited):
    """GitHub's secondary (abuse) limit: honour ``retry_after`` seconds."""

    def __init__(self, message: str, *, retry_after: int, request_id: str | None = None,
                 request: str | None = None) -> None:
        super().__init__(message, defer_until=datetime.now(UTC) + timedelta(seconds=retry_after),
                         request_id=request_id, request=request)
        self.retry_after = retry_after

    def delay_seconds(self, now: datetime) -> int:
        """``retry_after`` is a wait from the answer, so it is counted from the runtime's clock (``now``), not
        from ``defer_until``, which the system clock set: on a scaled clock the two differ."""
        return max(0, self.retry_after)


class GraphQLError(GitHubError):
    """GitHub's GraphQL endpoint answered with ``errors``; their messages are kept."""

    def __init__(self, messages: list[str], *, request_id: str | None = None, request: str | None = None) -> None:
        super().__init__("GraphQL error: " + "; ".join(messages), request_id=request_id, request=request)
        self.messages = messages


class GitHubUnavailable(GitHubError):
    """GitHub kept answering 5xx or timing out after the client's bounded retries."""


class Unauthorized(GitHubError, NonRetriable):
    """401: the token is wrong, revoked or expired."""


class Unprocessable(GitHubError, NonRetriable):
    """422 (or 400): the request itself is wrong; retrying sends the same wrong request."""


class NoInstallation(GitHubError, NonRetriable):
    """The GitHub App has no installation on a repository's owner (or one outside
    ``GITHUB_APP_INSTALLATION_ID``): no token may read it, and another installation's token is never tried."""


class ForeignHost(GitHubError, NonRetriable):
    """A URL whose scheme, host or port is not ``GITHUB_API_URL``'s (a ``Link: rel="next"`` or an absolute
    URL naming another host, or ``http://`` for an ``https://`` API): the client refuses it before anything
    is sent, so no token goes anywhere but the configured API."""


class OpenAIError(ContribsyncError):
    """A failed OpenAI call (HTTP 5xx, a timeout, a malformed answer). The API key is never in it."""


class OpenAIRateLimited(OpenAIError, Deferred):
    """OpenAI answered 429, or the requests or tokens per minute shared through Postgres are spent."""

    def __init__(self, message: str, *, defer_until: datetime) -> None:
        Exception.__init__(self, message)
        self.defer_until = defer_until


class StoreError(ContribsyncError):
    """A database operation failed (connection lost, constraint violated, bad SQL)."""


class PartialSend(ContribsyncError):
    """SQS refused some (or all) of the events of one send: ``sent`` and ``failed`` are event ids in the
    order given, ``reasons`` SQS's reason by refused id. No send is all-or-nothing: SQS has no transaction
    across batches, so the events of ``sent`` are queued."""

    def __init__(self, message: str, *, sent: list[str], failed: list[str], reasons: dict[str, str]) -> None:
        super().__init__(message)
        self.sent = sent
        self.failed = failed
        self.reasons = reasons


class ConfigurationError(ContribsyncError):
    """The deployment is configured so that it cannot work safely; the message names the setting."""


__all__ = [
    "Cancelled",
    "ConfigurationError",
    "ContribsyncError",
    "Deferred",
    "ForeignHost",
    "GitHubError",
    "GitHubUnavailable",
    "GraphQLError",
    "InvalidEvent",
    "NoInstallation",
    "NonRetriable",
    "NotFound",
    "OpenAIError",
    "OpenAIRateLimited",
    "PartialSend",
    "RateLimited",
    "SecondaryRateLimited",
    "StoreError",
    "Unauthorized",
    "UnknownEvent",
    "Unprocessable",
]

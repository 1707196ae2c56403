"""Pydantic models of every event's ``data``, as contributor.info's senders shape them.

Several jobs are sent in more than one shape (the design documents' names and contributor.info's
code disagree), so the models accept each shape and expose one normalised view. Unknown extra keys
(``priority``, ``reason``, ``jobId``, ``metadata`` …) are kept, never rejected: existing senders put
them there and later steps may read them.

Names of GitHub owners and repositories are checked against GitHub's own rules (``Login``,
``RepositoryName``, and a full name ``owner/name`` under ``FULL_NAME_KEYS``) wherever an event carries
one, so an event that names no possible repository (a NUL in ``owner``, a path in ``repo``) is refused
when it is sent, never queued.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Literal, Self
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

if TYPE_CHECKING:
    from contribsync.flow_control import Clock


def _not_dots(name: str) -> str:
    if name in (".", ".."):
        raise ValueError("a repository name is not . or ..")
    return name


# GitHub's rules, as its sign-up and new-repository forms enforce them: a login (user or organization) is
# 1-39 ASCII letters, digits and single hyphens, neither first nor last; a repository name is 1-100 ASCII
# letters, digits, ".", "_" and "-", and neither "." nor "..". pydantic's pattern runs in Rust's regex
# crate (linear time), so a long hostile value costs no backtracking.
Login = Annotated[str, StringConstraints(min_length=1, max_length=39, pattern=r"^[A-Za-z0-9](?:-?[A-Za-z0-9])*$")]
RepositoryName = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._-]+$"),
                           AfterValidator(_not_dots)]
_LOGIN: TypeAdapter[str] = TypeAdapter(Login)
_REPOSITORY_NAME: TypeAdapter[str] = TypeAdapter(RepositoryName)


def _full_name(value: str) -> str:
    owner, _, name = value.partition("/")
    try:
        _LOGIN.validate_python(owner)
        _REPOSITORY_NAME.validate_python(name)
    except ValidationError:
        raise ValueError(f"{value[:200]!r} is not a repository's full name (owner/name by GitHub's rules)") from None
    return value


# The keys contributor.info's senders put a repository's full name under, beside the fields a model reads.
FULL_NAME_KEYS = ("repositoryName", "repository_name")


class EventData(BaseModel):
    """Base of every event's data: extra keys are kept and field names are also accepted by alias. A full
    name under one of ``FULL_NAME_KEYS`` is checked even where the model keeps it only as an extra key."""

    model_config = ConfigDict(extra="allow", validate_by_name=True, validate_by_alias=True, frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _full_names(cls, value: object) -> object:
        if isinstance(value, dict):
            for key in FULL_NAME_KEYS:
                if isinstance(value.get(key), str):
                    _full_name(value[key])
        return value


class Scheduled(EventData):
    """A cron event. EventBridge Scheduler fills ``scheduledAt`` from ``<aws.scheduler.scheduled-time>``
    (the local cron driver from its own clock), so a run computes "as of" the time it was scheduled for:
    a retried or late run gives the same answer, and fast-forwarded local clocks are honoured.
    Sent by hand (``send``, the event API) it is absent and the run uses its clock."""

    scheduled_at: datetime | None = Field(default=None, alias="scheduledAt")

    def at(self, clock: Clock) -> datetime:
        return self.scheduled_at or clock.now()


Empty = Scheduled  # the cron events carry nothing else


class RepositoryRef(EventData):
    owner: Login
    name: RepositoryName
    github_id: int | None = None


class RepositorySync(EventData):
    """``{owner, repo}``, ``{repository:{owner,name,github_id}}`` or ``{repositoryId, days}``; the range
    in days is ``days``, ``time_range_days`` or ``timeRange`` (contributor.info's scripts send each)."""

    owner: Login | None = None
    repo: RepositoryName | None = None
    repository: RepositoryRef | None = None
    repository_id: UUID | None = Field(default=None, alias="repositoryId")
    days: int | None = Field(default=None, ge=1, le=3650)
    time_range_days: int | None = Field(default=None, ge=1, le=3650)
    time_range: int | None = Field(default=None, alias="timeRange", ge=1, le=3650)
    force: bool = False
    reason: str | None = None
    full: bool = False  # sync-enhanced: read the whole history again, past the watermark (a recovery)

    @property
    def range_days(self) -> int | None:
        """The range asked for, in days, whichever key carried it; None for no range."""
        return self.time_range_days or self.days or self.time_range

    @model_validator(mode="after")
    def _one_shape(self) -> Self:
        if self.repository is None and self.repository_id is None and not (self.owner and self.repo):
            raise ValueError("give {owner, repo}, {repository:{owner,name}} or {repositoryId}")
        return self

    @property
    def full_name(self) -> str | None:
        if self.repository is not None:
            return f"{self.repository.owner}/{self.repository.name}"
        if self.owner and self.repo:
            return f"{self.owner}/{self.repo}"
        return None

    @property
    def repository_key(self) -> str:
        """Concurrency key: the repository, whichever shape named it."""
        return str(self.repository_id) if self.repository_id else (self.full_name or "").lower()


class PullRequestJob(EventData):
    """``{repository:{owner,name}, pr_number}`` or contributor.info's ``{repositoryId, prNumber}``.

    contributor.info's hybrid queue also sends one job for several pull requests (``prNumbers``), or
    for a repository's recently active ones (no number; ``days``, default 7)."""

    repository: RepositoryRef | None = None
    repository_id: UUID | None = Field(default=None, alias="repositoryId")
    pr_number: int | None = Field(default=None, alias="prNumber", ge=1)
    pr_numbers: tuple[Annotated[int, Field(ge=1)], ...] = Field(default=(), alias="prNumbers", max_length=100)
    pr_id: str | None = Field(default=None, alias="prId")
    days: int | None = Field(default=None, ge=1, le=3650)

    @property
    def number(self) -> int:
        """The one pull request this job is about (``for_number`` makes one of a several-PR job)."""
        if self.pr_number is None:
            raise ValueError("this job names no single pull request")
        return self.pr_number

    def for_number(self, number: int) -> PullRequestJob:
        return self.model_copy(update={"pr_number": number, "pr_numbers": ()})

    @model_validator(mode="after")
    def _has_repo(self) -> Self:
        if self.repository is None and self.repository_id is None:
            raise ValueError("give {repository:{owner,name}} or {repositoryId}")
        return self

    @property
    def repository_key(self) -> str:
        if self.repository_id:
            return str(self.repository_id)
        assert self.repository is not None  # guaranteed by _has_repo
        return f"{self.repository.owner}/{self.repository.name}".lower()


class RepositoryIssues(EventData):
    repository_id: UUID = Field(alias="repositoryId")
    time_range: int = Field(default=30, alias="timeRange", ge=1, le=36500)  # 36500: everything (backfill)

    @property
    def repository_key(self) -> str:
        return str(self.repository_id)


class RepositoryComments(EventData):
    """``capture/repository.comments.all``: comments of the repository's recently active PRs and issues."""

    repository_id: UUID = Field(alias="repositoryId")
    time_range: int = Field(default=30, alias="timeRange", ge=1, le=3650)

    @property
    def repository_key(self) -> str:
        return str(self.repository_id)


class PrActivity(EventData):
    """``update/pr.activity``: re-queue details for pull requests active in the last ``days``."""

    repository_id: UUID = Field(alias="repositoryId")
    days: int = Field(default=7, ge=1, le=365)

    @property
    def repository_key(self) -> str:
        return str(self.repository_id)


class RepositoryEvents(EventData):
    """``capture/repository.events``: the repository's recent stars and forks."""

    repository_id: UUID = Field(alias="repositoryId")

    @property
    def repository_key(self) -> str:
        return str(self.repository_id)


class IssueComments(EventData):
    repository_id: UUID = Field(alias="repositoryId")
    issue_number: int = Field(alias="issueNumber", ge=1)
    issue_id: str | None = Field(default=None, alias="issueId")

    @property
    def repository_key(self) -> str:
        return str(self.repository_id)


class RepositoryDiscussions(EventData):
    repository_id: UUID = Field(alias="repositoryId")
    max_items: int = Field(default=100, alias="maxItems", ge=1, le=10_000)

    @property
    def repository_key(self) -> str:
        return str(self.repository_id)


class SingleRepository(EventData):
    repository_id: UUID = Field(alias="repositoryId")
    owner: Login | None = None
    repo: RepositoryName | None = None


class NewRepository(EventData):
    """``{owner, repo}``; contributor.info's App sends ``github.repository.app_enabled`` with
    ``repository_name: "owner/repo"`` instead."""

    owner: Login
    repo: RepositoryName
    source: str | None = None
    time_range: int | None = Field(default=None, alias="timeRange", ge=1, le=3650)  # the first sync's range

    @model_validator(mode="before")
    @classmethod
    def _from_full_name(cls, value: object) -> object:
        if isinstance(value, dict) and "owner" not in value and isinstance(value.get("repository_name"), str):
            owner, _, repo = value["repository_name"].partition("/")
            return {**value, "owner": owner, "repo": repo, "source": value.get("source") or "github-app"}
        return value

    @property
    def full_name_key(self) -> str:
        return f"{self.owner}/{self.repo}".lower()


class WebhookDelivery(EventData):
    """A GitHub webhook delivery the receiver stored (``webhook_deliveries``); the handler reads the
    payload from there, so a delivery of any size (GitHub allows 25 MB, SQS 256 KB) fits a message."""

    delivery_id: str = Field(alias="deliveryId", min_length=1, max_length=200)
    event: str = Field(min_length=1, max_length=100)
    action: str | None = None
    repository_github_id: int | None = Field(default=None, alias="repositoryGithubId")


class RepositoryWebhook(EventData):
    """What ``ApplyRepositoryWebhook`` takes: a stored delivery (the receiver's ``webhook/*`` events, as
    ``WebhookDelivery``), or one of the events contributor.info's App webhook handler sends after it
    stored an installation (``github.app.installed``, ``github.app.permissions_updated``:
    ``{installation_id, account, ...}``)."""

    delivery_id: str | None = Field(default=None, alias="deliveryId", min_length=1, max_length=200)
    event: str | None = Field(default=None, min_length=1, max_length=100)
    action: str | None = None
    repository_github_id: int | None = Field(default=None, alias="repositoryGithubId")
    installation_id: int | None = None
    account: Login | None = None  # the installation's account (its login)

    @model_validator(mode="after")
    def _one_shape(self) -> Self:
        if not ((self.delivery_id and self.event) or self.installation_id is not None):
            raise ValueError("give {deliveryId, event} (a stored delivery) or {installation_id} (an App event)")
        return self


class WorkspaceMetrics(EventData):
    """``{workspace_id}`` or ``{workspaceId, timeRange, forceRefresh, triggeredBy}``; ``asOf`` pins the
    time the metrics are computed for (the scheduled aggregation passes its fire time)."""

    workspace_id: UUID = Field(alias="workspaceId")
    time_range: Literal["7d", "30d", "90d", "1y", "all"] = Field(default="30d", alias="timeRange")
    force_refresh: bool = Field(default=False, alias="forceRefresh")
    triggered_by: str | None = Field(default=None, alias="triggeredBy")
    as_of: datetime | None = Field(default=None, alias="asOf")

    @property
    def workspace_key(self) -> str:
        return str(self.workspace_id)


class WorkspaceRepositoryChange(EventData):
    workspace_id: UUID = Field(alias="workspaceId")
    repository_id: UUID = Field(alias="repositoryId")
    action: Literal["added", "removed"]

    @property
    def workspace_key(self) -> str:
        return str(self.workspace_id)


# The least retention of daily workspace metrics: contributor.info's shortest (a workspace's
# data_retention_days, 30 on its free tier). A shorter one, from an event or the configuration, would delete
# history its workspaces still show.
MIN_METRICS_RETENTION_DAYS = 30


class CleanupWorkspaceMetrics(Scheduled):
    """``retentionDays`` overrides the configured retention (CONTRIBSYNC_METRICS_RETENTION_DAYS, 90); never
    below ``MIN_METRICS_RETENTION_DAYS``."""

    retention_days: int | None = Field(default=None, alias="retentionDays", ge=MIN_METRICS_RETENTION_DAYS,
                                       le=3650)


_SINGULAR = {"issues": "issue", "pull_requests": "pull_request", "discussions": "discussion"}


class EmbeddingsWorkspace(Scheduled):
    """``{workspace_id, batch_size?, delay_ms?}``; contributor.info's ``embeddings/compute.requested``
    shape ``{repositoryId?, forceRegenerate?, itemTypes?}`` too. Neither id: every item that needs one,
    the active workspaces' first (the 6-hourly cron)."""

    workspace_id: UUID | None = Field(default=None, alias="workspaceId")
    repository_id: UUID | None = Field(default=None, alias="repositoryId")
    batch_size: int | None = Field(default=None, alias="batchSize", ge=1, le=2048)
    delay_ms: int | None = Field(default=None, alias="delayMs", ge=0, le=60_000)
    force_regenerate: bool = Field(default=False, alias="forceRegenerate")
    item_types: tuple[Literal["issue", "pull_request", "discussion"], ...] | None = Field(
        default=None, alias="itemTypes")

    @field_validator("item_types", mode="before")
    @classmethod
    def _singular(cls, value: object) -> object:
        """contributor.info's webhook and scripts send the plural (``issues``, ``pull_requests``,
        ``discussions``), its cron the singular: both name the same item types."""
        if isinstance(value, list | tuple):
            return tuple(_SINGULAR.get(v, v) if isinstance(v, str) else v for v in value)
        return value


class EmbeddingsRepository(EventData):
    """``{repositoryId}``, and what contribsync does the same work for: contributor.info's per-item
    ``embedding/issue.generate`` (``issueId``) and ``embedding/pr.generate`` (``prId``),
    ``embedding/batch.process`` (``items``) and ``similarity/repository.recalculate``, each for its
    ``repositoryId``; and ``embedding/progress.update`` (``{jobId, processed, total, status}``, no
    repository), which records an embedding job's progress."""

    repository_id: UUID | None = Field(default=None, alias="repositoryId")
    batch_size: int | None = Field(default=None, alias="batchSize", ge=1, le=2048)
    force_regenerate: bool = Field(default=False, alias="forceRegenerate")
    job_id: str | None = Field(default=None, alias="jobId", max_length=200)
    processed: int | None = Field(default=None, ge=0)
    total: int | None = Field(default=None, ge=0)
    status: Literal["pending", "processing", "completed", "failed"] | None = None

    @model_validator(mode="after")
    def _one_shape(self) -> Self:
        if self.repository_id is None and self.job_id is None:
            raise ValueError("give {repositoryId} or an embedding job's {jobId, processed, total, status}")
        return self


class CancelFunction(EventData):
    """Cancel queued or running work: runs of ``event`` (or of ``function``) whose data contains ``match``.

    Only runs of events sent before the cancellation are affected.
    """

    event: str | None = None
    function: str | None = None
    match: dict[str, object] = Field(default_factory=dict)
    reason: str | None = None

    @model_validator(mode="after")
    def _has_target(self) -> Self:
        if not (self.event or self.function):
            raise ValueError("name the event or the function to cancel")
        return self


class AnyEvent(EventData):
    """The data of an event no function handles: anything (``NoFunction`` records it)."""


__all__ = [
    "FULL_NAME_KEYS",
    "MIN_METRICS_RETENTION_DAYS",
    "AnyEvent",
    "CancelFunction",
    "CleanupWorkspaceMetrics",
    "EmbeddingsRepository",
    "EmbeddingsWorkspace",
    "Empty",
    "EventData",
    "IssueComments",
    "Login",
    "NewRepository",
    "PullRequestJob",
    "RepositoryDiscussions",
    "RepositoryIssues",
    "RepositoryName",
    "RepositoryRef",
    "RepositorySync",
    "RepositoryWebhook",
    "Scheduled",
    "SingleRepository",
    "WorkspaceMetrics",
    "WorkspaceRepositoryChange",
]

"""The event catalog: every event contribsync handles, declared once.

template.yaml, the handlers under functions/, the local stack, ``contribsync send``/``invoke``/``catalog``
and the README all follow from these declarations, and a test fails when template.yaml or a handler
disagrees with them.

Names are the design documents' names; ``aliases`` are the names contributor.info's own code sends
for the same job, so both route to the same function. Configuration mirrors contributor.info's
Inngest functions (``concurrency``, ``throttle``, ``retries``) and is enforced by the runtime through
Postgres, so it holds across Lambda instances and on the local stack alike.

Every function has two queues: its own, and ``<queue>-high`` for high-priority events (``priority`` of
``high`` or ``critical`` in the event's data, as contributor.info's senders mark them), each drained by an
event source mapping of its own so urgent work never waits behind a backlog. Both redrive to the one DLQ.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from contribsync import payloads as p
from contribsync.errors import UnknownEvent

if TYPE_CHECKING:
    from collections.abc import Mapping

    from pydantic import BaseModel

DEFAULT_RETRIES = 3
# contributor.info's priorities (event-data.ts: critical | high | medium | low) that take the high queue:
# critical is what its manual syncs send, above high. Its numeric `priority` on workspace aggregations is
# another thing (an ordering of its own aggregation table, lower first) and takes the normal queue.
HIGH_PRIORITIES = frozenset({"high", "critical"})
HIGH_QUEUE_SUFFIX = "-high"
# Lambda's cap on the batches run at once from a function's high queue (its own event source mapping):
# enough that urgent work always has pollers of its own, few enough that a burst of it (a sync marks every
# open PR's details high) cannot crowd out the function's normal work or flood GitHub. A global
# concurrency limit below it is kept; the runtime's Postgres leases hold it across both queues anyway.
HIGH_PRIORITY_CONCURRENCY = 5
# One message per invocation, with no batching window: a high-priority event starts as soon as it is
# received, never after the others of its batch (a normal batch runs its records one after another).
HIGH_PRIORITY_BATCH_SIZE = 1
LAMBDA_MIN_MAXIMUM_CONCURRENCY = 2  # ScalingConfig.MaximumConcurrency's floor
_WORD_START = re.compile(r"(?<!^)(?=[A-Z])")


def _words(function: str) -> list[str]:
    """``CapturePrDetails`` → ``capture``, ``pr``, ``details``: a word starts at every capital, which is
    why function names spell acronyms as words (``Pr``, not ``PR``)."""
    return [word.lower() for word in _WORD_START.split(function)]


def folder_of(function: str) -> str:
    """The folder under ``functions/`` holding a function's handler: ``ClassifySingleRepository`` →
    ``classify_single_repository``. A function, not only ``Event.folder``, because the two URL functions
    (``EventApi``, ``WebhookReceiver``) have folders too but no catalog event."""
    return "_".join(_words(function))


@dataclass(frozen=True)
class Limit:
    """At most ``n`` runs at once per value of ``key`` (an attribute of the data model; None = global)."""

    n: int
    key: str | None = None


@dataclass(frozen=True)
class Throttle:
    """At most ``limit`` run starts per ``period_s`` seconds, per value of ``key`` (None = global)."""

    limit: int
    period_s: int = 60
    key: str | None = None


# Seed 001's cancelOn condition, `async.data.reason === "user_requested"`: the data a cancel/function
# must carry to cancel a function's runs, unless the function declares its own (``Event.cancel_when``).
USER_REQUESTED = (("reason", "user_requested"),)


@dataclass(frozen=True)
class Event:
    """One event and the function that handles it.

    ``service`` is ``module:function`` inside ``contribsync.services``. ``schedule`` is a 5-field cron
    expression in UTC (Inngest's format); template.yaml gets its EventBridge Scheduler form.
    ``cancel_when`` is the (key, value) pairs a ``cancel/function``'s data must hold to cancel this
    function's runs (Inngest's ``cancelOn`` ``if``, on the cancel event: ``async.data.<key> === value``);
    an empty tuple lets any cancel/function through.
    ``sendable`` says which of its names senders may post to the event API: ``True`` every one, or a
    tuple of them (a cron's job under the names contributor.info's code sends it by); ``False`` (the
    default) none. Internal and destructive events (the receiver's ``webhook/*``, reconciliation, the
    crons' own names, metrics cleanup) stay unsendable: the event API refuses them with 403, and only
    contribsync's own senders and the CLI put them on the queues.
    """

    name: str
    model: type[BaseModel]
    function: str
    service: str
    aliases: tuple[str, ...] = ()
    retries: int = DEFAULT_RETRIES
    concurrency: Limit | None = None
    throttle: Throttle | None = None
    schedule: str | None = None
    timeout_s: int = 300
    batch_size: int = 10
    feeds: tuple[str, ...] = field(default=())
    summary: str = ""
    catch_all: bool = False  # takes every name no other event declares (``NoFunction``)
    cancel_when: tuple[tuple[str, str], ...] = USER_REQUESTED
    sendable: bool | tuple[str, ...] = False

    @property
    def queue(self) -> str:
        """Queue name suffix, e.g. ``capture-repository-sync``; the stack prefixes it."""
        return "-".join(_words(self.function))

    @property
    def high_queue(self) -> str:
        """The queue of the function's high-priority events, e.g. ``capture-pr-details-high``."""
        return f"{self.queue}{HIGH_QUEUE_SUFFIX}"

    @property
    def queues(self) -> tuple[str, str]:
        """Both queues the function is fed from: the normal one, then the high-priority one."""
        return (self.queue, self.high_queue)

    def queue_for(self, data: Mapping[str, Any] | None) -> str:
        """The queue an event with this data goes to: the high one when ``is_high_priority(data)``."""
        return self.high_queue if is_high_priority(data) else self.queue

    @property
    def max_concurrency(self) -> int | None:
        """``ScalingConfig.MaximumConcurrency`` of the normal queue's mapping: a global limit (raised to
        Lambda's minimum of 2, and held at 1 by the runtime); None where the limit is per key or absent."""
        limit = self.concurrency
        if limit is None or limit.key is not None:
            return None
        return max(LAMBDA_MIN_MAXIMUM_CONCURRENCY, limit.n)

    @property
    def high_max_concurrency(self) -> int:
        """``ScalingConfig.MaximumConcurrency`` of the high queue's mapping (``HIGH_PRIORITY_CONCURRENCY``,
        or a lower global limit)."""
        return min(HIGH_PRIORITY_CONCURRENCY, self.max_concurrency or HIGH_PRIORITY_CONCURRENCY)

    @property
    def folder(self) -> str:
        """Where the handler lives, ``functions/<folder>/app.py``, e.g. ``capture_repository_sync``."""
        return folder_of(self.function)

    @property
    def dlq(self) -> str:
        return f"{self.queue}-dlq"

    @property
    def max_receive_count(self) -> int:
        return self.retries + 1

    @property
    def visibility_timeout_s(self) -> int:
        # Lambda's guidance: at least 6x the function timeout, so a batch that is retried inside the
        # event source mapping never becomes visible to a second poller while still running.
        return 6 * self.timeout_s

    def cancel_condition_met(self, data: Mapping[str, object]) -> bool:
        """Whether a cancel/function with ``data`` may cancel this function's runs (``cancel_when``)."""
        return all(data.get(key) == value for key, value in self.cancel_when)

    @property
    def all_names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)

    @property
    def sendable_names(self) -> tuple[str, ...]:
        """The names of this event senders may post to the event API (``sendable``)."""
        if isinstance(self.sendable, tuple):
            return self.sendable
        return self.all_names if self.sendable else ()

    def aws_schedule(self) -> str | None:
        """The cron in EventBridge Scheduler's six-field form: ``cron(0 */12 * * ? *)``."""
        if self.schedule is None:
            return None
        minute, hour, dom, month, dow = self.schedule.split()
        # AWS wants exactly one of day-of-month / day-of-week to be "?", and counts weekdays 1-7 from Sunday.
        if dow == "*":
            dow = "?"
        else:
            dom = "?"
            # cron counts weekdays 0-6 from Sunday, EventBridge 1-7: shift numbers, in ranges too.
            dow = ",".join("-".join(str(int(d) % 7 + 1) if d.isdigit() else d for d in part.split("-"))
                           for part in dow.split(","))
        return f"cron({minute} {hour} {dom} {month} {dow} *)"


def is_high_priority(data: Mapping[str, Any] | None) -> bool:
    """Whether an event's data asks for the high queue: ``priority`` is ``high`` or ``critical``.

    The data, not the envelope: Inngest's event has no priority of its own, and contributor.info's
    senders put it in ``data`` (every data model keeps it, as an extra key)."""
    return data is not None and data.get("priority") in HIGH_PRIORITIES


_REPO = "repository_key"

EVENTS: tuple[Event, ...] = (
    Event("capture/repository.sync", p.RepositorySync, "CaptureRepositorySync",
          "capture:repository_sync",
          aliases=("capture/repository.sync.graphql", "github/repository.sync"),
          retries=2, concurrency=Limit(3, _REPO), throttle=Throttle(75),
          feeds=("capture/pr.details", "capture/repository.events"),
          summary="100 newest PRs by GraphQL (CREATED_AT DESC) with authors", sendable=True),
    Event("capture/repository.sync-enhanced", p.RepositorySync, "CaptureRepositorySyncEnhanced",
          "capture:repository_sync_enhanced",
          aliases=("capture/repository.sync.enhanced",),
          retries=2, concurrency=Limit(5, _REPO), throttle=Throttle(75), timeout_s=900, batch_size=1,
          feeds=("capture/pr.details",),
          summary="every PR in a time range with nested reviews and comments, checkpointed", sendable=True),
    Event("capture/pr.details", p.PullRequestJob, "CapturePrDetails",
          "capture:pr_details",
          aliases=("capture/pr.details.graphql",),
          concurrency=Limit(10, _REPO), throttle=Throttle(50),
          summary="one PR with files, reviews, review comments and issue comments", sendable=True),
    Event("capture/pr.reviews", p.PullRequestJob, "CapturePrReviews",
          "capture:pr_reviews",
          retries=2, concurrency=Limit(3, _REPO), throttle=Throttle(30),
          summary="every review of one PR", sendable=True),
    Event("capture/pr.comments", p.PullRequestJob, "CapturePrComments",
          "capture:pr_comments",
          retries=2, concurrency=Limit(3, _REPO), throttle=Throttle(30),
          summary="review comments and issue comments of one PR, all pages", sendable=True),
    Event("capture/repository.issues", p.RepositoryIssues, "CaptureRepositoryIssues",
          "issues:repository_issues",
          retries=2, concurrency=Limit(2, _REPO), throttle=Throttle(20),
          feeds=("capture/issue.comments",),
          summary="issues (not PRs) with authors and labels, then their comments", sendable=True),
    Event("capture/issue.comments", p.IssueComments, "CaptureIssueComments",
          "issues:issue_comments",
          retries=2, concurrency=Limit(3, _REPO), throttle=Throttle(30),
          summary="comments of one issue", sendable=True),
    Event("capture/repository.comments.all", p.RepositoryComments, "CaptureRepositoryCommentsAll",
          "activity:repository_comments_all",
          retries=2, concurrency=Limit(2, _REPO), throttle=Throttle(20),
          feeds=("capture/pr.comments", "capture/issue.comments"),
          summary="comments of the recently active PRs and issues, one job each", sendable=True),
    Event("update/pr.activity", p.PrActivity, "UpdatePrActivity", "activity:update_pr_activity",
          aliases=("capture/pr.activity.update",),
          retries=2, concurrency=Limit(5, _REPO), throttle=Throttle(30),
          feeds=("capture/pr.details",),
          summary="re-queue details for PRs open, never detailed, or stale, among those active lately",
          sendable=True),
    Event("capture/repository.events", p.RepositoryEvents, "CaptureRepositoryEvents", "activity:repository_events",
          retries=2, concurrency=Limit(3, _REPO), throttle=Throttle(30),
          summary="recent stars and forks (REST events) into github_events_cache", sendable=True),
    Event("capture/repository.discussions", p.RepositoryDiscussions, "CaptureRepositoryDiscussions",
          "discussions:repository_discussions",
          retries=2, concurrency=Limit(2, _REPO), throttle=Throttle(20),
          summary="discussions, their authors and AI summaries", sendable=True),
    Event("sync/discussions-cron", p.Scheduled, "SyncDiscussionsCron", "fanout:discussions_cron",
          retries=1, schedule="0 */12 * * *", feeds=("capture/repository.discussions",),
          summary="a discussions sync per active repository with discussions enabled"),
    Event("classify/repository.size", p.Scheduled, "ClassifyRepositorySize", "classify:classify_all",
          aliases=("capture/repository.classify.batch",),
          concurrency=Limit(5), schedule="0 */6 * * *", feeds=("classify/single-repository",),
          summary="queue a classification for every unclassified or stale repository", sendable=True),
    Event("classify/single-repository", p.SingleRepository, "ClassifySingleRepository",
          "classify:classify_single", aliases=("classify/repository.single",),
          summary="size bucket: small < 100 PRs, medium 100-500, large > 500 (GitHub's count)", sendable=True),
    Event("discover/new-repository", p.NewRepository, "DiscoverNewRepository",
          "discover:discover_new_repository",
          aliases=("discover/repository.new", "capture/repository.discover", "github.repository.app_enabled"),
          retries=2, concurrency=Limit(10, "full_name_key"),
          feeds=("classify/single-repository", "capture/repository.sync-enhanced",
                 "capture/repository.discussions"),
          summary="create a repository record, classify it and start its first sync", sendable=True),
    Event("aggregate/workspace-metrics", p.WorkspaceMetrics, "AggregateWorkspaceMetrics",
          "workspaces:aggregate_workspace_metrics",
          aliases=("workspace/aggregate", "workspace.metrics.aggregate"),
          throttle=Throttle(1, 60, "workspace_key"),
          summary="workspace totals, active contributors, review statistics and trends", sendable=True),
    Event("scheduled/workspace-aggregation", p.Scheduled, "ScheduledWorkspaceAggregation",
          "fanout:workspace_aggregation", aliases=("workspace.metrics.aggregate.scheduled",),
          schedule="0 0 * * *", feeds=("aggregate/workspace-metrics",),
          summary="an aggregation per active workspace", sendable=("workspace.metrics.aggregate.scheduled",)),
    Event("workspace/repository-change", p.WorkspaceRepositoryChange, "WorkspaceRepositoryChange",
          "workspaces:repository_change",
          aliases=("workspace.repository.changed",), concurrency=Limit(1, "workspace_key"),
          feeds=("aggregate/workspace-metrics", "discover/new-repository"),
          summary="incremental metrics when a repository joins or leaves a workspace", sendable=True),
    Event("cleanup/workspace-metrics", p.CleanupWorkspaceMetrics, "CleanupWorkspaceMetrics",
          "maintenance:cleanup_workspace_metrics", schedule="0 3 * * 0",
          summary="delete daily workspace metrics older than the retention (90 days)"),
    Event("sync/workspace-priorities", p.Scheduled, "SyncWorkspacePriorities",
          "priorities:sync_workspace_priorities",
          aliases=("workspace/priorities.sync",), retries=2, concurrency=Limit(1),
          schedule="0 * * * *", feeds=("capture/repository.sync-enhanced",),
          summary="hourly: score workspace repositories; incremental syncs every 1 h (high), 6 h "
                  "(medium), 24 h (low)", sendable=("workspace/priorities.sync",)),
    Event("embeddings/process.workspace", p.EmbeddingsWorkspace, "EmbeddingsProcessWorkspace",
          "embeddings:process_workspace", aliases=("embeddings/compute.requested", "embeddings.generate"),
          retries=2,
          concurrency=Limit(2), timeout_s=900, batch_size=1, schedule="0 */6 * * *",
          feeds=("embeddings/process.workspace",),
          summary="embeddings for a workspace's items (or, from the 6-hourly cron, every item), in priority "
                  "order", sendable=True),
    Event("embeddings/process.repository", p.EmbeddingsRepository, "EmbeddingsProcessRepository",
          "embeddings:process_repository",
          aliases=("embedding/issue.generate", "embedding/pr.generate", "embedding/batch.process",
                   "similarity/repository.recalculate", "embedding/progress.update"),
          retries=2, concurrency=Limit(2), timeout_s=900, batch_size=1, feeds=("embeddings/process.repository",),
          summary="embeddings for one repository's items", sendable=True),
    Event("reconcile/webhook-deliveries", p.Scheduled, "ReconcileWebhookDeliveries",
          "reconcile:reconcile_webhook_deliveries",
          retries=1, concurrency=Limit(1), schedule="0 * * * *", feeds=("capture/repository.sync-enhanced",),
          summary="hourly: find and redeliver webhook deliveries that failed or never arrived"),
    # GitHub webhooks: the receiver sends each stored delivery as `webhook/<X-GitHub-Event>` to the
    # function for its family; event types with no entry here are recorded and acknowledged only.
    Event("webhook/pull_request", p.WebhookDelivery, "ApplyPullRequestWebhook", "webhooks:apply_delivery",
          aliases=("webhook/pull_request_review", "webhook/pull_request_review_comment",
                   "webhook/pull_request_review_thread"),
          timeout_s=60, feeds=("capture/pr.details", "discover/new-repository"),
          summary="pull requests, reviews, review comments and threads from webhook payloads"),
    Event("webhook/issues", p.WebhookDelivery, "ApplyIssueWebhook", "webhooks:apply_delivery",
          aliases=("webhook/issue_comment",), timeout_s=60,
          feeds=("capture/pr.details", "discover/new-repository"),
          summary="issues (deleted and transferred too) and issue or PR comments from webhook payloads"),
    Event("webhook/discussion", p.WebhookDelivery, "ApplyDiscussionWebhook", "webhooks:apply_delivery",
          aliases=("webhook/discussion_comment",), timeout_s=60, feeds=("discover/new-repository",),
          summary="discussions and discussion comments from webhook payloads"),
    Event("webhook/repository", p.RepositoryWebhook, "ApplyRepositoryWebhook", "webhooks:apply_repository",
          aliases=("webhook/installation", "webhook/installation_repositories", "webhook/member",
                   "webhook/star", "webhook/public", "webhook/push",
                   "github.app.installed", "github.app.permissions_updated"),
          timeout_s=60, feeds=("discover/new-repository",),
          summary="repository renames, transfers, archival, deletion and visibility; installations; "
                  "members, stars and pushes",
          # the receiver's webhook/* are internal; contributor.info's App handler sends these two
          sendable=("github.app.installed", "github.app.permissions_updated")),
    Event("cancel/function", p.CancelFunction, "CancelFunction", "maintenance:cancel_function",
          summary="cancel queued or running work matching an event and its data", sendable=True),
    # Inngest accepts an event whose name no function handles and keeps it in its event log; so does the
    # event API, which sends such an event here to be recorded in the run history.
    Event("(no function)", p.AnyEvent, "NoFunction", "maintenance:no_function", retries=1, catch_all=True,
          summary="record an event whose name no function handles (accepted, as Inngest accepts it)",
          sendable=True),
)


@cache
def _by_name() -> dict[str, Event]:
    table: dict[str, Event] = {}
    for event in EVENTS:
        for name in event.all_names:
            if name in table:
                raise ValueError(f"event name {name!r} is declared twice")
            table[name] = event
    return table


def resolve(name: str) -> Event:
    """The event declared under ``name`` or one of its aliases."""
    try:
        return _by_name()[name]
    except KeyError:
        raise UnknownEvent(f"no function handles event {name!r}") from None


def cancel_target(data: p.CancelFunction) -> Event:
    """The event whose function a ``cancel/function`` cancels: its ``event``'s, else its ``function``'s
    (``UnknownEvent`` for a name no function handles)."""
    return resolve(data.event) if data.event else by_function(str(data.function))


def sendable(name: str) -> bool:
    """Whether senders may post ``name`` to the event API: one of its event's ``sendable_names``, or a
    name no function handles when the catch-all (``NoFunction``, which only records it) is sendable."""
    event = route(name)
    return name in event.sendable_names or (event.catch_all and event.sendable is True)


def route(name: str) -> Event:
    """Where the event API sends ``name``: its event, or the catch-all that records it."""
    try:
        return resolve(name)
    except UnknownEvent:
        return next(event for event in EVENTS if event.catch_all)


def by_function(function: str) -> Event:
    for event in EVENTS:
        if event.function == function:
            return event
    raise UnknownEvent(f"no function named {function!r} in the catalog")


def names() -> list[str]:
    return sorted(_by_name())


__all__ = ["DEFAULT_RETRIES", "EVENTS", "HIGH_PRIORITIES", "HIGH_PRIORITY_BATCH_SIZE", "HIGH_PRIORITY_CONCURRENCY",
           "HIGH_QUEUE_SUFFIX", "Event", "Limit", "Throttle", "by_function", "cancel_target", "folder_of",
           "is_high_priority", "names", "resolve", "route", "sendable"]

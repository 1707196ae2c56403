"""The runtime every handler shares: one SQS batch in, partial batch failures out.

For each record it parses the body into the event's model, then, in order:

1. invalid body or data, or an unknown event → recorded as failed and moved to the DLQ at once (so is
   an event Postgres cannot record: NUL or an unpaired surrogate in its name, id or data, which JSON
   carries escaped, or a ``ts`` no datetime holds);
2. a message sent to the wrong function's queue is forwarded to the right one;
3. an event that already completed on this function (SQS redelivery) is skipped; a copy of a message
   whose run is under way elsewhere (SQS may hand out copies at once) is re-queued with a short delay,
   so one event never runs twice at the same time;
4. a matching ``cancel/function`` → recorded as cancelled, not run;
5. the throttle and the per-key concurrency limit are taken from Postgres; over either, the message
   is re-queued with a delay (no attempt spent);
6. the service runs. ``Deferred`` (e.g. ``RateLimited``) re-queues until its time, without spending
   an attempt; ``NonRetriable`` dead-letters at once; anything else is retried with exponential
   backoff and jitter by setting the failed message's visibility timeout, until the catalog's
   retries are spent, and then dead-lettered with its error.

Every outcome is a row in ``function_runs``. Attempts spent before a deferral travel with the
re-queued message (``contribsync-prior-attempts``), so a deferral never resets the retry budget.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import random
import re
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from pydantic import BaseModel, ValidationError

from contribsync import catalog
from contribsync.control import FlowControl, SystemClock
from contribsync.envelope import ATTEMPTS_ATTR, ERROR_ATTR, NOT_BEFORE_ATTR, PRIOR_ATTEMPTS_ATTR, EventEnvelope
from contribsync.errors import Cancelled, Deferred, InvalidEvent, NonRetriable, StoreError
from contribsync.history import RunHistory
from contribsync.observability import logger, metrics

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from aws_lambda_powertools.utilities.typing import LambdaContext

    from contribsync.catalog import Event
    from contribsync.control import Clock, Precheck
    from contribsync.db import Database
    from contribsync.github import GitHubClient
    from contribsync.queues import Queues

    Service = Callable[[Any, "RunContext"], Any]

SQS_MAX_VISIBILITY_S = 43_200
_NOT_SQS_TEXT = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")  # SQS refuses these
_FANOUT_NAMESPACE = uuid.UUID("5c0e7d1e-2f5b-4a53-9b1c-6c6f6e747269")


def _no_github() -> GitHubClient:
    raise RuntimeError("this run has no GitHub client")


@dataclass
class RunContext:
    """What a service gets besides its data: identity of the run, the DB, sending, and checkpoints."""

    event_id: str
    event_name: str
    function: str
    attempt: int
    data: Mapping[str, Any]
    db: Database
    queues: Queues
    clock: Clock
    _cancellation: Callable[[], str | None] = field(repr=False)
    _github: Callable[[], GitHubClient] = field(repr=False, default=_no_github)

    @property
    def github(self) -> GitHubClient:
        """The GitHub client (built on first use, shared by the container's runs)."""
        return self._github()

    def progress(self) -> dict[str, Any] | None:
        """Where a previous attempt at this event stopped (``save_progress``), or None."""
        row = self.db.query_one("run_progress_get", {"function": self.function, "event_id": self.event_id})
        return dict(row["progress"]) if row else None

    def progress_params(self, progress: Mapping[str, Any]) -> dict[str, Any]:
        """Parameters of ``run_progress_save``, for a service that saves progress in its own transaction."""
        from psycopg.types.json import Jsonb

        return {"function": self.function, "event_id": self.event_id, "progress": Jsonb(dict(progress))}

    def save_progress(self, progress: Mapping[str, Any]) -> None:
        self.db.query("run_progress_save", self.progress_params(progress))

    def clear_progress(self) -> None:
        self.db.query("run_progress_clear", {"function": self.function, "event_id": self.event_id})

    def checkpoint(self) -> None:
        """Raise ``Cancelled`` if a cancel/function for this run arrived since it started."""
        if reason := self._cancellation():
            raise Cancelled(reason)

    def send(self, name: str, data: Mapping[str, Any]) -> str:
        """Send a follow-up event (see ``send_many``)."""
        return self.send_many(name, [data])[0]

    def send_many(self, name: str, payloads: Sequence[Mapping[str, Any]]) -> list[str]:
        """Send follow-up events in batches. Each id derives from this event's id and the payload, so
        a retried run re-sends the same ids and the receiving function skips what already completed
        (contributor.info re-sent its fan-out on every retry)."""
        return self.queues.send_events([
            {"name": name, "data": dict(data), "id": self._child_id(name, data)} for data in payloads
        ])

    def _child_id(self, name: str, data: Mapping[str, Any]) -> str:
        canonical = json.dumps(dict(data), sort_keys=True, default=str)
        return str(uuid.uuid5(_FANOUT_NAMESPACE, f"{self.event_id}/{name}/{canonical}"))


@dataclass
class _Deps:
    db: Database
    queues: Queues
    clock: Clock
    retry_base_s: float
    retry_max_s: float
    github_client: GitHubClient | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def github(self) -> GitHubClient:
        with self._lock:  # handler threads of one container share one client
            if self.github_client is None:
                from contribsync.github import github_client
                from contribsync.settings import Settings

                self.github_client = github_client(Settings.from_env(), self.db)
            return self.github_client

    @property
    def history(self) -> RunHistory:
        return RunHistory(self.db)

    @property
    def flow(self) -> FlowControl:
        return FlowControl(self.db, self.clock)


def _build_deps() -> _Deps:
    import boto3

    from contribsync.db import Database
    from contribsync.queues import Queues
    from contribsync.settings import Settings

    settings = Settings.from_env()
    return _Deps(
        db=Database(settings.database_url),
        queues=Queues(boto3.client("sqs", region_name=settings.region), prefix=settings.queue_prefix),
        clock=SystemClock(),
        retry_base_s=settings.retry_base_s,
        retry_max_s=settings.retry_max_s,
    )


class SqsRecord(SqsRecordModel):
    """An SQS record whose body stays raw text: the runtime parses it itself, so a malformed body is
    dead-lettered with its error instead of failing validation inside the batch processor forever."""

    body: str


def _service(event: Event) -> Service:
    if event.service is None:
        raise NonRetriable(f"{event.name} has no service in this release: redrive its DLQ once it ships")
    module, _, name = event.service.partition(":")
    service: Service = getattr(importlib.import_module(f"contribsync.services.{module}"), name)
    return service


class Runtime:
    """Runs one function's SQS batches. Build with ``for_function`` in a handler, or inject in tests."""

    def __init__(self, event: Event, *, db: Database | None = None, queues: Queues | None = None,
                 clock: Clock | None = None, service: Service | None = None,
                 github: GitHubClient | None = None,
                 retry_base_s: float = 10.0, retry_max_s: float = 3600.0,
                 rng: Callable[[], float] = random.random,
                 concurrency_retry_s: tuple[float, float] = (5.0, 15.0)) -> None:
        self.event = event
        self._deps = (
            _Deps(db, queues, clock or SystemClock(), retry_base_s, retry_max_s, github)
            if db is not None and queues is not None else None
        )
        self._service = service
        self._deps_lock = threading.Lock()
        self._rng = rng
        self.concurrency_retry_s = concurrency_retry_s  # re-queue delay range when over a limit
        self.before_run: Callable[[RunContext], None] | None = None  # a chaos/fault-injection hook

    @classmethod
    def for_function(cls, function: str) -> Runtime:
        """The runtime of a catalog function; clients are built on first use, once per container."""
        return cls(catalog.by_function(function))

    @property
    def deps(self) -> _Deps:
        # Locked: the local stack runs a function's records in several threads, and two first records
        # must not each build (and one then drop, connections open) a set of clients.
        with self._deps_lock:
            if self._deps is None:
                self._deps = _build_deps()
            return self._deps

    def close(self) -> None:
        """Close the database connections this runtime opened (the local stack calls this on stop)."""
        if self._deps is not None:
            self._deps.db.close()
            if self._deps.github_client is not None:
                self._deps.github_client.close()

    def handle(self, event: Mapping[str, Any], context: LambdaContext | None) -> dict[str, Any]:
        metrics.add_metric(name="RecordsReceived", unit=MetricUnit.Count, value=len(event.get("Records", [])))
        processor = BatchProcessor(
            event_type=EventType.SQS, model=SqsRecord, raise_on_entire_batch_failure=False
        )
        response = process_partial_response(
            event=dict(event), record_handler=self.process_record, processor=processor, context=context
        )
        return dict(response)

    # -- one record ---------------------------------------------------------------------------

    def process_record(self, record: SqsRecord) -> None:
        attempt = int(_attr(record, PRIOR_ATTEMPTS_ATTR) or 0) + int(record.attributes.ApproximateReceiveCount)
        run: _Run | None = None
        try:
            run = self._prepare(record, attempt)
            if run is not None:
                run.execute()
        except Exception:
            if run is None or not run.retry_scheduled:
                # It failed around a run rather than in it (recording a rejection or an outcome, or the
                # duplicate check, when the database went away): back after a backoff as a failed run
                # is, not after the whole visibility timeout (6 x the function's timeout).
                self.deps.queues.change_visibility(self.event.queue, record.receiptHandle, self.backoff_s(attempt))
            raise

    def _prepare(self, record: SqsRecord, attempt: int) -> _Run | None:
        """The run of a record; None when it is rejected (dead-lettered) or forwarded instead."""
        deps = self.deps
        # Per-thread keys: the local stack runs many functions' records at once in one interpreter, where
        # keys appended to the shared logger showed up in other threads' lines. Lambda runs one at a time.
        logger.thread_safe_clear_keys()
        logger.thread_safe_append_keys(message_id=record.messageId, function=self.event.function, attempt=attempt)
        # SQS delivers at least once: a worker that moved a message to its DLQ and died before the batch was
        # deleted has it delivered again. A redelivery of a message already dead-lettered is dropped.
        if int(record.attributes.ApproximateReceiveCount) > 1 and deps.history.dead_lettered(record.messageId):
            logger.info("message already dead-lettered; dropped")
            return None
        try:
            envelope = EventEnvelope.model_validate_json(record.body)
            event = self._resolve(envelope.name)
            data = event.model.model_validate(envelope.data)
            event_time = _checked(envelope, record)
        except (ValidationError, NonRetriable) as exc:
            error = exc if isinstance(exc, NonRetriable) else InvalidEvent(f"invalid message: {exc}")
            self._reject(record, attempt, error)
            return None
        if event.function != self.event.function:
            logger.warning("event forwarded to its own queue", extra={"event_name": envelope.name})
            deps.queues.send_raw(event.queue, record.body)
            return None
        return _Run(self, record, envelope, data, event_time, attempt, attempt - 1)

    def _resolve(self, name: str) -> Event:
        if name in self.event.all_names or self.event.catch_all:
            return self.event
        return catalog.resolve(name)

    def _reject(self, record: SqsRecord, attempt: int, error: NonRetriable) -> None:
        """Record an unusable message as failed and move it to the DLQ without spending retries."""
        deps = self.deps
        event_id, name, data = record.messageId, "(unparsable)", None
        try:
            raw = json.loads(record.body)
            if isinstance(raw, dict):
                event_id = _pg_text(str(raw.get("id") or event_id))[:200]  # an index entry holds ~2700 bytes
                name = _pg_text(str(raw.get("name") or name))[:200]
                data = raw.get("data") if isinstance(raw.get("data"), dict) and _storable(raw.get("data")) else None
        except (ValueError, RecursionError):  # RecursionError: nesting deeper than the parser allows
            pass
        logger.error("message rejected", extra={"event_name": name, "error": str(error)[:500]})
        # the DLQ first: recorded as dead-lettered only once it is there (a redelivery is then dropped)
        self.dead_letter(record.body, error, attempt)
        deps.history.record(
            event_id=event_id, event_name=name, function=self.event.function, key=None, attempt=attempt,
            status="failed", data=data, message_id=record.messageId, now=deps.clock.now(), error=error,
            dead_lettered=True,
        )

    def dead_letter(self, body: str, error: BaseException, attempt: int) -> None:
        self.deps.queues.send_raw(self.event.dlq, body, attributes={
            ERROR_ATTR: _NOT_SQS_TEXT.sub("\ufffd", f"{type(error).__name__}: {error}"[:1000]),
            "contribsync-function": self.event.function,
            ATTEMPTS_ATTR: str(attempt),
        })
        metrics.add_metric(name="DeadLettered", unit=MetricUnit.Count, value=1)

    def requeue(self, body: str, *, delay_s: float, spent_attempts: int) -> datetime:
        """Send this body again with a delay; beyond SQS's 15 minutes, a not-before attribute carries on."""
        deps = self.deps
        not_before = deps.clock.now() + timedelta(seconds=delay_s)
        deps.queues.send_raw(self.event.queue, body, delay_s=int(delay_s + 0.999), attributes={
            PRIOR_ATTEMPTS_ATTR: str(spent_attempts),
            NOT_BEFORE_ATTR: not_before.isoformat(),
        })
        return not_before

    def backoff_s(self, attempt: int) -> int:
        """Exponential backoff with equal jitter: between half and all of base * 2^(attempt-1)."""
        deps = self.deps
        ceiling = min(deps.retry_max_s, deps.retry_base_s * 2 ** (attempt - 1))
        return int(min(SQS_MAX_VISIBILITY_S, max(1, round(ceiling / 2 + self._rng() * ceiling / 2))))

    def jitter(self) -> float:
        return self._rng()

    def service(self) -> Service:
        if self._service is None:
            self._service = _service(self.event)
        return self._service


def _checked(envelope: EventEnvelope, record: SqsRecord) -> datetime:
    """When the event happened; ``InvalidEvent`` for one whose run Postgres could never record."""
    if not _storable([envelope.name, envelope.id, envelope.data]):
        raise InvalidEvent("invalid message: a NUL or an unpaired surrogate in its name, id or data")
    try:
        return datetime.fromtimestamp(
            (envelope.ts or int(record.attributes.SentTimestamp.timestamp() * 1000)) / 1000, tz=UTC)
    except (OverflowError, ValueError, OSError) as exc:
        raise InvalidEvent(f"invalid message: ts {envelope.ts} is not a time") from exc


def _storable(value: object) -> bool:
    """Whether every string in ``value`` (keys too) fits a Postgres text: no NUL, no unpaired surrogate."""
    pending = [value]
    while pending:  # a loop, not recursion: data may nest as deep as the JSON parser allowed
        item = pending.pop()
        if isinstance(item, str):
            if _pg_text(item) != item:
                return False
        elif isinstance(item, dict):
            pending += [*item.keys(), *item.values()]
        elif isinstance(item, list):
            pending += item
    return True


def _pg_text(text: str) -> str:
    """``text`` without what a Postgres text refuses: NUL dropped, an unpaired surrogate made "?"."""
    return text.replace("\x00", "").encode("utf-8", "replace").decode()


def _attr(record: SqsRecord, name: str) -> str | None:
    value = record.messageAttributes.get(name)
    return value.stringValue if value is not None else None


class _Run:
    """One attempt of one event on one function."""

    def __init__(self, runtime: Runtime, record: SqsRecord, envelope: EventEnvelope, data: BaseModel,
                 event_time: datetime, attempt: int, spent_attempts: int) -> None:
        self.rt = runtime
        self.deps = runtime.deps
        self.record = record
        self.event = runtime.event
        self.event_id = envelope.id or record.messageId
        self.event_name = envelope.name
        self.event_time = event_time
        self.data = data
        self.raw_data = envelope.data
        self.attempt = attempt
        self.spent = spent_attempts
        limit = self.event.concurrency
        self.key = str(getattr(data, limit.key)) if limit and limit.key else None
        self.retry_scheduled = False  # set once the failed message's backoff is set

    def _record(self, status: str, error: BaseException | None = None,
                next_attempt_at: datetime | None = None) -> None:
        self.deps.history.record(
            event_id=self.event_id, event_name=self.event_name, function=self.event.function, key=self.key,
            attempt=self.attempt, status=status, data=self.raw_data, message_id=self.record.messageId,
            now=self.deps.clock.now(), error=error, next_attempt_at=next_attempt_at,
        )

    def _defer(self, delay_s: float, reason: str) -> None:
        at = self.rt.requeue(self.record.body, delay_s=delay_s, spent_attempts=self.spent)
        self._record("deferred", Deferred(reason, defer_until=at), next_attempt_at=at)
        metrics.add_metric(name="Deferred", unit=MetricUnit.Count, value=1)

    def _defer_shortly(self, reason: str) -> None:
        """Come back soon (``concurrency_retry_s``), with jitter so waiting runs don't stampede together."""
        low, high = self.rt.concurrency_retry_s
        self._defer(low + self.rt.jitter() * (high - low), reason)

    def _cancellation(self) -> str | None:
        return self.deps.flow.cancellation(
            function=self.event.function, event_names=self.event.all_names, event_time=self.event_time,
            data=self.raw_data,
        )

    def execute(self) -> None:
        not_before = _attr(self.record, NOT_BEFORE_ATTR)
        if not_before and (wait := (datetime.fromisoformat(not_before) - self.deps.clock.now()).total_seconds()) > 1:
            self.rt.requeue(self.record.body, delay_s=wait, spent_attempts=self.spent)
            return
        check = self.deps.flow.precheck(
            event_id=self.event_id, function=self.event.function, event_names=self.event.all_names,
            event_time=self.event_time, data=self.raw_data)
        try:
            self._checked(check)
        finally:
            if check.claimed:
                with contextlib.suppress(StoreError):  # a lost connection took its locks with it
                    self.deps.flow.release_run(event_id=self.event_id, function=self.event.function)

    def _checked(self, check: Precheck) -> None:
        if check.completed:
            logger.info("duplicate delivery skipped", extra={"event_id": self.event_id})
            self._record("skipped", NonRetriable("already completed: duplicate delivery"))
            return
        if not check.claimed:
            # Another copy of this message is being run (SQS delivers at least once, copies can arrive
            # together): back after it, when the run history says how it ended.
            self._defer_shortly("a run of this event is under way")
            return
        if check.cancelled is not None:
            self._record("cancelled", Cancelled(check.cancelled))
            return
        if not self._admitted():
            return
        lease = None
        if (limit := self.event.concurrency) is not None:
            lease = self.deps.flow.acquire(
                scope=self.event.function, key=self.key or "", limit=limit.n, ttl_s=self.event.timeout_s
            )
            if lease is None:
                self._defer_shortly(f"concurrency limit {limit.n} reached for {self.key or 'all'}")
                return
        try:
            self._run()
        finally:
            if lease is not None:
                self.deps.flow.release(lease, scope=self.event.function)

    def _admitted(self) -> bool:
        throttle = self.event.throttle
        if throttle is None:
            return True
        key = str(getattr(self.data, throttle.key)) if throttle.key else ""
        grant = self.deps.flow.take(scope=self.event.function, key=key, limit=throttle.limit,
                                    period_s=throttle.period_s)
        if not grant.granted:
            self._defer(grant.wait_s, f"throttled: {throttle.limit} per {throttle.period_s}s")
        return grant.granted

    def _run(self) -> None:
        deps, history = self.deps, self.deps.history
        run_id = history.start(
            event_id=self.event_id, event_name=self.event_name, function=self.event.function, key=self.key,
            attempt=self.attempt, data=self.raw_data, message_id=self.record.messageId, now=deps.clock.now(),
        )
        ctx = RunContext(self.event_id, self.event_name, self.event.function, self.attempt, self.raw_data,
                         deps.db, deps.queues, deps.clock, self._cancellation, deps.github)
        logger.thread_safe_append_keys(event_id=self.event_id, run_id=str(run_id))
        try:
            if self.rt.before_run is not None:
                self.rt.before_run(ctx)
            result = self.rt.service()(self.data, ctx)
        except Cancelled as exc:
            history.finish(run_id, status="cancelled", now=deps.clock.now(), error=exc)
        except Deferred as exc:
            at = self.rt.requeue(self.record.body, delay_s=exc.delay_seconds(deps.clock.now()),
                                 spent_attempts=self.spent)
            history.finish(run_id, status="deferred", now=deps.clock.now(), error=exc, next_attempt_at=at)
        except NonRetriable as exc:
            logger.error("run failed, not retriable", extra={"error": str(exc)[:500]})
            self.rt.dead_letter(self.record.body, exc, self.attempt)
            history.finish(run_id, status="failed", now=deps.clock.now(), error=exc, dead_lettered=True)
        except Exception as exc:
            self._retry_or_give_up(run_id, exc)
        else:
            if isinstance(result, BaseModel):
                result = result.model_dump(mode="json", by_alias=True)
            history.finish(run_id, status="completed", now=deps.clock.now(), result=result)
            metrics.add_metric(name="RunCompleted", unit=MetricUnit.Count, value=1)

    def _retry_or_give_up(self, run_id: uuid.UUID, exc: Exception) -> None:
        deps = self.deps
        if self.attempt >= self.event.max_receive_count:
            logger.exception("run failed, retries spent", extra={"attempt": self.attempt})
            self.rt.dead_letter(self.record.body, exc, self.attempt)
            deps.history.finish(run_id, status="failed", now=deps.clock.now(), error=exc, dead_lettered=True)
            return
        delay = self.rt.backoff_s(self.attempt)
        logger.warning("run failed, will retry", extra={"error": str(exc)[:500], "retry_in_s": delay})
        deps.queues.change_visibility(self.event.queue, self.record.receiptHandle, delay)
        self.retry_scheduled = True
        deps.history.finish(run_id, status="retrying", now=deps.clock.now(), error=exc,
                            next_attempt_at=deps.clock.now() + timedelta(seconds=delay))
        metrics.add_metric(name="RunRetried", unit=MetricUnit.Count, value=1)
        raise exc  # reported to SQS as this record's failure: it comes back after `delay`


__all__ = ["RunContext", "Runtime"]

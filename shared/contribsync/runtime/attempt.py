"""One attempt of one event on one function, from its checks to its outcome in ``function_runs``.

In order: a not-before time still ahead → re-queued; already completed → skipped; another copy under
way → re-queued shortly; cancelled → recorded as cancelled; over the throttle or the concurrency limit →
re-queued (no attempt spent); else the service runs, and its outcome is recorded:
``Cancelled`` → cancelled; ``Deferred`` → re-queued until its time; ``NonRetriable`` → dead-lettered;
anything else → retried after a backoff until the catalog's retries are spent, then dead-lettered.
A failed or retried run keeps its failure in full (``failure``: type, message, trimmed traceback, step);
the other outcomes keep their reason (type and message).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING

from pydantic import BaseModel

from contribsync.envelope import NOT_BEFORE_ATTR
from contribsync.errors import Cancelled, Deferred, NonRetriable, StoreError
from contribsync.flow_control import FlowControl
from contribsync.history import RunHistory
from contribsync.meters import Stats, metered
from contribsync.observability import count, github_usage, logger
from contribsync.runtime.context import RunContext
from contribsync.runtime.failure import Failure, defining_file
from contribsync.runtime.messages import attribute, origin

if TYPE_CHECKING:
    import uuid

    from contribsync.catalog import Event
    from contribsync.clients import Clients
    from contribsync.envelope import EventEnvelope
    from contribsync.flow_control import Precheck
    from contribsync.runtime.context import Service
    from contribsync.runtime.delivery import Delivery
    from contribsync.runtime.messages import SqsRecord


@dataclass(frozen=True)
class Waits:
    """How long a run waits when another holds what it needs: re-queued after a random time in
    ``concurrency_s`` (low, high), so waiting runs do not all come back at once."""

    concurrency_s: tuple[float, float] = (5.0, 15.0)


class Attempt:
    """Runs one record's event once; ``retry_scheduled`` tells whether a failure already set its backoff."""

    def __init__(self, *, event: Event, clients: Clients, delivery: Delivery, service: Service, waits: Waits,
                 record: SqsRecord, envelope: EventEnvelope, data: BaseModel, event_time: datetime,
                 attempt: int) -> None:
        self.event = event
        self.clients = clients
        self.delivery = delivery
        self.service = service
        self.waits = waits
        self.record = record
        self.message_id = origin(record)  # the message as first sent, through forwards and re-queues
        self.event_id = envelope.id or self.message_id
        self.event_name = envelope.name
        self.event_time = event_time
        self.data = data
        self.raw_data = envelope.data
        self.attempt = attempt
        self.spent = attempt - 1
        self.history = RunHistory(clients.db)
        self.flow = FlowControl(clients.db, clients.clock)
        limit = event.concurrency
        self.key = str(getattr(data, limit.key)) if limit and limit.key else None
        self.retry_scheduled = False

    def _final(self) -> bool:
        """Whether a failure of this attempt dead-letters the message (the catalog's retries are spent)."""
        return self.attempt >= self.event.max_receive_count

    def _now(self) -> datetime:
        return self.clients.clock.now()

    def _record(self, status: str, error: BaseException | None = None,
                next_attempt_at: datetime | None = None) -> None:
        self.history.record(
            event_id=self.event_id, event_name=self.event_name, function=self.event.function, key=self.key,
            attempt=self.attempt, status=status, data=self.raw_data, message_id=self.message_id,
            now=self._now(), failure=Failure.brief(error, mask=self.clients.mask) if error else None,
            next_attempt_at=next_attempt_at,
        )

    def _failure(self, exc: BaseException) -> Failure:
        """What the run history keeps of a failure: our frames are the layer's and the service's file's."""
        service_file = defining_file(self.service)
        try:
            return Failure.of(exc, code=[service_file] if service_file else [], mask=self.clients.mask)
        except Exception as detail_error:  # the failure is recorded even when its details cannot be made
            logger.warning("failure details not kept", extra={"error_type": type(detail_error).__name__})
            return Failure.brief(exc, mask=self.clients.mask)

    def _requeue(self, delay_s: float) -> datetime:
        return self.delivery.requeue(self.record.body, delay_s=delay_s, spent_attempts=self.spent,
                                     origin=self.message_id)

    def _defer(self, delay_s: float, reason: str) -> None:
        at = self._requeue(delay_s)
        self._record("deferred", Deferred(reason, defer_until=at), next_attempt_at=at)
        count("Deferred")

    def _defer_shortly(self, reason: str) -> None:
        low, high = self.waits.concurrency_s
        self._defer(low + self.delivery.rng() * (high - low), reason)

    def _cancellation(self) -> str | None:
        return self.flow.cancellation(function=self.event.function, event_names=self.event.all_names,
                                      event_time=self.event_time, data=self.raw_data)

    # -- the checks ---------------------------------------------------------------------------------

    def execute(self) -> None:
        not_before = attribute(self.record, NOT_BEFORE_ATTR)
        if not_before and (wait := (datetime.fromisoformat(not_before) - self._now()).total_seconds()) > 1:
            self._requeue(wait)
            return
        check = self.flow.precheck(event_id=self.event_id, function=self.event.function,
                                   event_names=self.event.all_names, event_time=self.event_time,
                                   data=self.raw_data)
        try:
            self._after(check)
        finally:
            if check.claimed:
                with contextlib.suppress(StoreError):  # a lost connection took its locks with it
                    self.flow.release_run(event_id=self.event_id, function=self.event.function)

    def _after(self, check: Precheck) -> None:
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
            lease = self.flow.acquire(scope=self.event.function, key=self.key or "", limit=limit.n,
                                      ttl_s=self.event.timeout_s)
            if lease is None:
                self._defer_shortly(f"concurrency limit {limit.n} reached for {self.key or 'all'}")
                return
        try:
            self._run()
        finally:
            if lease is not None:
                self.flow.release(lease, scope=self.event.function)

    def _admitted(self) -> bool:
        throttle = self.event.throttle
        if throttle is None:
            return True
        key = str(getattr(self.data, throttle.key)) if throttle.key else ""
        # the high queue's bucket is its own: a normal backlog that spent the function's starts never holds it
        scope = f"{self.event.function}:high" if self.delivery.high else self.event.function
        grant = self.flow.take(scope=scope, key=key, limit=throttle.limit, period_s=throttle.period_s)
        if not grant.granted:
            self._defer(grant.wait_s, f"throttled: {throttle.limit} per {throttle.period_s}s")
        return grant.granted

    # -- the run ------------------------------------------------------------------------------------

    def _run(self) -> None:
        history = self.history
        run_id = history.start(
            event_id=self.event_id, event_name=self.event_name, function=self.event.function, key=self.key,
            attempt=self.attempt, data=self.raw_data, message_id=self.message_id, now=self._now(),
        )
        ctx = RunContext(self.event_id, self.event_name, self.event.function, self.attempt, self.raw_data,
                         self.clients, self._cancellation, final_attempt=self._final())
        logger.thread_safe_append_keys(event_id=self.event_id, run_id=str(run_id))
        usage = Stats()  # what the run spends on GitHub, its worker threads included
        try:
            with metered(usage), ctx.step():  # what the service says with ctx.at() is the step a failure keeps
                result = self.service(self.data, ctx)
        except Cancelled as exc:
            history.finish(run_id, status="cancelled", now=self._now(),
                           failure=Failure.brief(exc, mask=self.clients.mask))
        except Deferred as exc:
            at = self._requeue(exc.delay_seconds(self._now()))
            history.finish(run_id, status="deferred", now=self._now(),
                           failure=Failure.brief(exc, mask=self.clients.mask), next_attempt_at=at)
            count("Deferred")
        except NonRetriable as exc:
            failure = self._failure(exc)
            logger.error("run failed, not retriable", extra={"error": failure.message[:500], "step": failure.step})
            self.delivery.dead_letter(self.record.body, failure, self.attempt, record=partial(
                history.finish, run_id, status="failed", now=self._now(), failure=failure, dead_lettered=True))
            count("RunFailed")
        except Exception as exc:
            self._retry_or_give_up(run_id, exc)
        else:
            if isinstance(result, BaseModel):
                result = result.model_dump(mode="json", by_alias=True)
            history.finish(run_id, status="completed", now=self._now(), result=result)
            count("RunCompleted")
        finally:
            github_usage(usage)

    def _retry_or_give_up(self, run_id: uuid.UUID, exc: Exception) -> None:
        failure = self._failure(exc)
        if self._final():
            logger.error("run failed, retries spent", extra={"attempt": self.attempt, "error_type": failure.type,
                                                             "error": failure.message[:500], "step": failure.step,
                                                             "traceback": failure.traceback})
            self.delivery.dead_letter(self.record.body, failure, self.attempt, record=partial(
                self.history.finish, run_id, status="failed", now=self._now(), failure=failure, dead_lettered=True))
            count("RunFailed")
            return
        delay = self.delivery.retry_later(self.record.receiptHandle, self.attempt)
        logger.warning("run failed, will retry", extra={"error": failure.message[:500], "step": failure.step,
                                                        "retry_in_s": delay})
        self.retry_scheduled = True
        self.history.finish(run_id, status="retrying", now=self._now(), failure=failure,
                            next_attempt_at=self._now() + timedelta(seconds=delay))
        count("RunRetried")
        raise exc  # reported to SQS as this record's failure: it comes back after `delay`


__all__ = ["Attempt", "Waits"]

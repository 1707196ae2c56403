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

Every outcome is a row in ``function_runs``, and a count metric of the invocation (``RunCompleted``,
``RunRetried``, ``Deferred``, ``RunFailed``, ``DeadLettered``; with what the run spent on GitHub:
``contribsync.observability``). Attempts spent before a deferral travel with the
re-queued message (``contribsync-prior-attempts``), so a deferral never resets the retry budget.

A message from the function's high-priority queue goes through the same steps. What differs: its
re-queues and backoffs stay on the high queue, and a forward goes to the other function's high queue;
it takes its throttle from a bucket of its own (as contributor.info keys throttles by priority), so a
normal backlog that spent the function's starts does not hold it; and over a concurrency limit, which
both queues share, it comes back five times sooner than a normal run, to take the next free slot.

A failed or retried run keeps its exception's type and message, a traceback of our own frames, and the
step it failed at (what the service said with ``RunContext.step``/``at``, and GitHub's request id).

The package: ``context`` (what a service gets), ``messages`` (an SQS record and the text rules it must
meet), ``failure`` (what a failure keeps), ``delivery`` (re-queue, backoff, dead-letter), ``attempt``
(steps 3-6 for one record), and ``Runtime`` here (the batch, and steps 1-2).
"""

from __future__ import annotations

import json
import random
from functools import partial
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from pydantic import ValidationError

from contribsync import catalog
from contribsync.envelope import PRIOR_ATTEMPTS_ATTR, EventEnvelope
from contribsync.errors import InvalidEvent, NonRetriable
from contribsync.history import RunHistory
from contribsync.observability import count, logger
from contribsync.runtime.attempt import Attempt, Waits
from contribsync.runtime.context import RunContext, Service
from contribsync.runtime.delivery import Delivery
from contribsync.runtime.failure import Failure
from contribsync.runtime.messages import (
    SqsRecord,
    attribute,
    event_time,
    on_high_queue,
    origin,
    pg_text,
    sent_again,
    storable,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from aws_lambda_powertools.utilities.typing import LambdaContext

    from contribsync.catalog import Event
    from contribsync.clients import Clients

# A high-priority run over a concurrency limit is re-queued after 1-3 s where a normal one waits 5-15 s.
HIGH_PRIORITY_WAIT_DIVISOR = 5


class Runtime:
    """Runs one function's SQS batches with its service. A handler builds one at module scope."""

    def __init__(self, event: Event, clients: Clients, *, service: Service,
                 rng: Callable[[], float] = random.random, waits: Waits | None = None) -> None:
        self.event = event
        self.clients = clients
        self.service = service
        self.waits = waits or Waits()
        low, high = self.waits.concurrency_s
        self.high_waits = Waits(concurrency_s=(low / HIGH_PRIORITY_WAIT_DIVISOR, high / HIGH_PRIORITY_WAIT_DIVISOR))
        self.delivery = Delivery(event, clients, rng=rng)
        self.high_delivery = Delivery(event, clients, rng=rng, high=True)

    def close(self) -> None:
        """Close the clients (the local stack calls this on stop)."""
        self.clients.close()

    def handle(self, event: Mapping[str, Any], context: LambdaContext | None) -> dict[str, Any]:
        count("RecordsReceived", len(event.get("Records", [])))
        processor = BatchProcessor(event_type=EventType.SQS, model=SqsRecord, raise_on_entire_batch_failure=False)
        response = process_partial_response(
            event=dict(event), record_handler=self.process_record, processor=processor, context=context
        )
        return dict(response)

    def process_record(self, record: SqsRecord) -> None:
        attempt = int(attribute(record, PRIOR_ATTEMPTS_ATTR) or 0) + int(record.attributes.ApproximateReceiveCount)
        delivery = self.high_delivery if on_high_queue(record, self.event) else self.delivery
        run: Attempt | None = None
        try:
            run = self._prepare(record, attempt, delivery)
            if run is not None:
                run.execute()
        except Exception:
            if run is None or not run.retry_scheduled:
                # It failed around a run rather than in it (recording a rejection or an outcome, or the
                # duplicate check, when the database went away): back after a backoff as a failed run
                # is, not after the whole visibility timeout (6 x the function's timeout).
                delivery.retry_later(record.receiptHandle, attempt)
            raise

    def _prepare(self, record: SqsRecord, attempt: int, delivery: Delivery) -> Attempt | None:
        """The attempt of a record; None when it is rejected (dead-lettered) or forwarded instead."""
        # Per-thread keys: the local stack runs many functions' records at once in one interpreter, where
        # keys appended to the shared logger showed up in other threads' lines. Lambda runs one at a time.
        logger.thread_safe_clear_keys()
        logger.thread_safe_append_keys(message_id=record.messageId, function=self.event.function, attempt=attempt)
        # SQS delivers at least once: a worker that moved a message to its DLQ and died before the batch was
        # deleted has it delivered again. A redelivery of a message already dead-lettered is dropped.
        history = RunHistory(self.clients.db)
        if sent_again(record) and history.dead_lettered(origin(record)):
            logger.info("message already dead-lettered; dropped")
            return None
        try:
            envelope = EventEnvelope.model_validate_json(record.body)
            event = self._resolve(envelope.name)
            data = event.model.model_validate(envelope.data)
            happened = event_time(envelope, record)
        except (ValidationError, NonRetriable) as exc:
            error = exc if isinstance(exc, NonRetriable) else InvalidEvent(f"invalid message: {exc}")
            self._reject(record, attempt, error)
            return None
        if event.function != self.event.function:
            logger.warning("event forwarded to its own queue", extra={"event_name": envelope.name})
            # a high-priority message stays high: the queue it came from, or its data, says so
            queue = event.high_queue if delivery.high else event.queue_for(envelope.data)
            delivery.forward(queue, record.body, origin=origin(record))
            return None
        return Attempt(event=self.event, clients=self.clients, delivery=delivery, service=self.service,
                       waits=self.high_waits if delivery.high else self.waits, record=record, envelope=envelope,
                       data=data, event_time=happened, attempt=attempt)

    def _resolve(self, name: str) -> Event:
        if name in self.event.all_names or self.event.catch_all:
            return self.event
        return catalog.resolve(name)

    def _reject(self, record: SqsRecord, attempt: int, error: NonRetriable) -> None:
        """Record an unusable message as failed and move it to the DLQ without spending retries."""
        event_id, name, data = origin(record), "(unparsable)", None
        try:
            raw = json.loads(record.body)
            if isinstance(raw, dict):
                event_id = pg_text(str(raw.get("id") or event_id))[:200]  # an index entry holds ~2700 bytes
                name = pg_text(str(raw.get("name") or name))[:200]
                data = raw.get("data") if isinstance(raw.get("data"), dict) and storable(raw.get("data")) else None
        except (ValueError, RecursionError):  # RecursionError: nesting deeper than the parser allows
            pass
        # refused before any code of ours ran: no traceback, no step
        failure = Failure.brief(error, mask=self.clients.mask)
        logger.error("message rejected", extra={"event_name": name, "error": failure.message[:500]})
        self.delivery.dead_letter(record.body, failure, attempt, record=partial(
            RunHistory(self.clients.db).record, event_id=event_id, event_name=name, function=self.event.function,
            key=None, attempt=attempt, status="failed", data=data, message_id=origin(record),
            now=self.clients.clock.now(), failure=failure, dead_lettered=True))
        count("RunFailed")  # recorded as a failed run, as the run history shows it


__all__ = ["RunContext", "Runtime", "Service", "SqsRecord", "Waits"]

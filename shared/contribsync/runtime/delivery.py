"""Where a message goes when its run does not complete: back to its queue later, or to its DLQ.

A ``Delivery`` serves one of the function's two queues, the one the message came from: re-queues and
backoffs stay there, so a high-priority message is never moved behind the normal backlog; dead letters
go to the function's one DLQ, which both queues' redrive policies name too.

- ``requeue``: sent again with a delay, without spending an attempt (a deferral, a throttle, a busy
  concurrency key). Beyond SQS's 15-minute delay, a not-before attribute carries the rest of the wait.
- ``retry_later``: the failed message's visibility timeout is set to the backoff, so SQS hands it out again
  then (exponential, with equal jitter) and counts the attempt.
- ``dead_letter``: a copy goes to the DLQ with the error (as the run history keeps it) and the attempts in
  its attributes.

Delays are clock seconds (``contribsync.clock``); what SQS is asked for is real seconds,
``real_delay_s`` of them (the same on AWS; on a scaled clock, divided by its factor).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from contribsync.clock import real_delay_s
from contribsync.envelope import ATTEMPTS_ATTR, ERROR_ATTR, NOT_BEFORE_ATTR, ORIGIN_ATTR, PRIOR_ATTEMPTS_ATTR
from contribsync.errors import StoreError
from contribsync.observability import count, logger
from contribsync.runtime.messages import sqs_text

if TYPE_CHECKING:
    from collections.abc import Callable

    from contribsync.catalog import Event
    from contribsync.clients import Clients
    from contribsync.runtime.failure import Failure

SQS_MAX_VISIBILITY_S = 43_200


class Delivery:
    """Sends, delays and dead-letters the messages of one of a function's queues (``high``: its high one)."""

    def __init__(self, event: Event, clients: Clients, *, rng: Callable[[], float] = random.random,
                 high: bool = False) -> None:
        self.event = event
        self.clients = clients
        self.rng = rng
        self.high = high
        self.queue = event.high_queue if high else event.queue

    def dead_letter(self, body: str, failure: Failure, attempt: int, *, record: Callable[[], object]) -> None:
        """Send a copy to the DLQ, with its failure's type and (masked) message and the attempts, then
        ``record`` it in the run history as dead-lettered.

        In that order, so the history never says dead-lettered of a message the DLQ lacks. A redelivery
        of a message the history records as dead-lettered is dropped; so if recording fails (the
        connection dropped between the two), it is tried once more on a new connection, or the
        redelivery would put a second copy in the DLQ."""
        self.clients.queues.send_raw(self.event.dlq, body, attributes={
            ERROR_ATTR: sqs_text(failure.summary[:1000]),
            "contribsync-function": self.event.function,
            ATTEMPTS_ATTR: str(attempt),
        })
        count("DeadLettered")
        try:
            record()
        except StoreError:
            logger.warning("recording a dead letter failed; trying once more")
            record()

    def requeue(self, body: str, *, delay_s: float, spent_attempts: int, origin: str) -> datetime:
        """Send this body again after ``delay_s``; the attempts already spent, and the id of the message as
        first sent, travel with it. SQS is asked for ``real_delay_s`` (``delay_s`` on the system clock)."""
        clock = self.clients.clock
        not_before = clock.now() + timedelta(seconds=delay_s)
        self.clients.queues.send_raw(self.queue, body, delay_s=real_delay_s(clock, delay_s), attributes={
            PRIOR_ATTEMPTS_ATTR: str(spent_attempts),
            NOT_BEFORE_ATTR: not_before.isoformat(),
            ORIGIN_ATTR: origin,
        })
        return not_before

    def forward(self, queue: str, body: str, *, origin: str) -> None:
        """Send this body to ``queue`` (the function its event belongs to), as the same message."""
        self.clients.queues.send_raw(queue, body, attributes={ORIGIN_ATTR: origin})

    def retry_later(self, receipt_handle: str, attempt: int) -> int:
        """Let SQS hand the message out again after the backoff of ``attempt``; the delay in clock seconds."""
        delay = self.backoff_s(attempt)
        visible_in = max(1, real_delay_s(self.clients.clock, delay))  # 0 would hand it out again at once
        self.clients.queues.change_visibility(self.queue, receipt_handle, visible_in)
        return delay

    def backoff_s(self, attempt: int) -> int:
        """Exponential backoff with equal jitter: between half and all of base * 2^(attempt-1)."""
        settings = self.clients.settings
        ceiling = min(settings.retry_max_s, settings.retry_base_s * 2 ** (attempt - 1))
        return int(min(SQS_MAX_VISIBILITY_S, max(1, round(ceiling / 2 + self.rng() * ceiling / 2))))


__all__ = ["SQS_MAX_VISIBILITY_S", "Delivery"]

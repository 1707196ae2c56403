"""Thread safety for moto's SQS queues, applied in the moto server's process (see ``aws.MotoServer``).

moto's threaded server handles each request on a thread of its own, and its SQS queue (moto 5.2.5, the
version ``requirements-dev.txt`` pins) changes a queue's messages without a lock but for the append of a
new one:

- a receive reads the set of messages in flight (``Queue.pending_message_groups``) while a delete or
  another receive changes it: ``RuntimeError: Set changed size during iteration``. The receive has by then
  marked the messages before it received, the client gets a 500, boto retries, and those messages stay in
  flight, seen by nobody, until their visibility timeout ends (5,400 s for the sync queue). The
  1,000-repository fleet run of 2026-12-07 lost two messages of the sync queue so;
- two receives can both find a visible message still in the set and both remove it (``KeyError``);
- a delete rebuilds the message list (``self._messages = [...]``) from a copy it read while a send may
  be appending to the old list: that message is lost without an error.

No moto release changes this, and the local stack's pollers receive and delete concurrently on every
queue, so the receive, delete, visibility change and purge of a queue are run here under the lock its
send already takes (the queue's ``Condition``, an ``RLock``). A receive's long poll waits outside that
lock, as moto's own loop does (as ``Queue.wait_for_messages`` does), so a poller waiting on an empty queue does
not hold back the others.
"""

from __future__ import annotations

import time
from functools import wraps
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable


def apply() -> None:
    """Patch moto's SQS model classes in this process (idempotent)."""
    from moto.sqs.models import Queue, SQSBackend

    if getattr(SQSBackend, "_contribsync_locked", False):
        return
    receive = SQSBackend.receive_message

    @wraps(receive)
    def receive_message(self: SQSBackend, queue_name: str, count: int, wait_seconds_timeout: int,
                        visibility_timeout: int, message_attribute_names: list[str] | None = None) -> list[Any]:
        queue = self.get_queue(queue_name)
        deadline = time.monotonic() + (wait_seconds_timeout or 0)
        while True:
            with queue._messages_lock:
                result = receive(self, queue_name, count, 0, visibility_timeout, message_attribute_names)
            left = deadline - time.monotonic()
            if result or left <= 0:
                return result
            with queue._messages_lock:  # moto's Queue.wait_for_messages, with a timeout under a second
                queue._messages_lock.wait_for(lambda: queue.messages, timeout=min(1.0, left))

    def under_the_queues_lock(method: Callable[..., object]) -> Callable[..., object]:
        @wraps(method)
        def locked(self: SQSBackend, queue_name: str, *args: object, **kwargs: object) -> object:
            with self.get_queue(queue_name)._messages_lock:
                return method(self, queue_name, *args, **kwargs)
        return locked

    delete = Queue.delete_message

    @wraps(delete)
    def delete_message(self: Queue, receipt_handle: str) -> None:
        with self._messages_lock:
            delete(self, receipt_handle)

    SQSBackend.receive_message = receive_message  # type: ignore[method-assign]
    SQSBackend.change_message_visibility = under_the_queues_lock(  # type: ignore[method-assign,assignment]
        SQSBackend.change_message_visibility)
    SQSBackend.purge_queue = under_the_queues_lock(  # type: ignore[method-assign,assignment]
        SQSBackend.purge_queue)
    Queue.delete_message = delete_message  # type: ignore[method-assign]
    SQSBackend._contribsync_locked = True  # type: ignore[attr-defined]


__all__ = ["apply"]

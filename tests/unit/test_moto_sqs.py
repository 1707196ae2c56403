"""moto's SQS queue made thread-safe (``contribsync_local.moto_sqs``): concurrent sends, receives and
deletes on one queue neither lose a message, nor leave one in flight, nor fail a request."""

from __future__ import annotations

import sys
import threading

import pytest

SENDERS, RECEIVERS, PER_SENDER = 2, 4, 1500


@pytest.fixture
def backend():
    from moto.sqs.models import SQSBackend

    from contribsync_local import moto_sqs

    moto_sqs.apply()
    backend = SQSBackend("us-east-1", "123456789012")
    backend.create_queue("busy", VisibilityTimeout="300")
    return backend


def test_concurrent_sends_receives_and_deletes_deliver_each_message_once(backend):
    received: list[str] = []
    errors: list[BaseException] = []
    sent_all = threading.Event()
    lock = threading.Lock()

    def send(n: int) -> None:
        for i in range(PER_SENDER):
            backend.send_message("busy", f"{n}-{i}")

    def receive() -> None:
        try:
            while True:
                messages = backend.receive_message("busy", 10, 0, 300)
                if not messages and sent_all.is_set() and not backend.get_queue("busy").messages:
                    return
                for message in messages:
                    backend.delete_message("busy", message.receipt_handle)
                with lock:
                    received.extend(m.body for m in messages)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # interleave the threads as often as CPython allows
    try:
        senders = [threading.Thread(target=send, args=(n,)) for n in range(SENDERS)]
        receivers = [threading.Thread(target=receive) for _ in range(RECEIVERS)]
        for thread in senders + receivers:
            thread.start()
        for thread in senders:
            thread.join()
        sent_all.set()
        for thread in receivers:
            thread.join(60)
    finally:
        sys.setswitchinterval(switch)

    queue = backend.get_queue("busy")
    assert errors == []
    assert sorted(received) == sorted(f"{n}-{i}" for n in range(SENDERS) for i in range(PER_SENDER))
    assert queue.pending_messages == set() and queue._messages == []


def test_a_long_poll_waits_outside_the_queues_lock_and_returns_what_is_sent(backend):
    got: list[list[str]] = []
    poll = threading.Thread(target=lambda: got.append([m.body for m in backend.receive_message("busy", 10, 5, 30)]))
    poll.start()
    threading.Event().wait(0.3)
    # WHEN a message is sent while the poll waits (a send takes the same lock, so it would block here)
    backend.send_message("busy", "late")
    poll.join(5)
    assert got == [["late"]]


def test_a_long_poll_of_an_empty_queue_returns_nothing_after_its_wait(backend):
    assert backend.receive_message("busy", 10, 1, 30) == []

"""A poller that behaves like Lambda's SQS event source mapping.

Per function: up to ``concurrency`` workers long-poll the function's queue for batches of
``batch_size``, hand each batch to the real handler as Lambda would (same record shape, a Lambda-like
context), delete the records the handler did not report in ``batchItemFailures`` (in one batch call),
and leave the failed ones to reappear when their visibility timeout ends. If the handler raises,
nothing is deleted, as on Lambda. maxReceiveCount → DLQ is SQS's own redrive policy.

Like the managed mapping, it scales with the backlog: one lead worker per function always long-polls
(10 s), and the others poll only while receives keep finding messages, going back to sleep at the first
empty one. An idle function so costs one long poll at a time, not ``concurrency`` of them: with some 30
functions in one process, idle receives would otherwise take a large share of its CPU (botocore spends
milliseconds of interpreter time on each call).

``kill`` makes a worker die the way a Lambda instance does (killed, out of memory) for chaos tests:
after its handler wrote everything and before it deleted anything, or wherever a ``WorkerKilled`` is
raised inside the handler. Its batch comes back when the visibility timeout ends, and a new worker takes
its place.

Written by hand because no library emulates an event source mapping outside Docker (SAM's local
mode invokes functions, it does not poll queues).
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics.functions import is_metrics_disabled

from contribsync.observability import logger, metrics

if TYPE_CHECKING:

    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]

# The local stack runs every function's handler in threads of one process, which share Powertools'
# module-level Metrics: one handler's flush can take another's metrics (never so on Lambda, one
# invocation per process at a time), and the other's flush then warns that it has nothing to publish.
warnings.filterwarnings("ignore", "No application metrics to publish", UserWarning)


def discard_unpublished_metrics() -> None:
    """Called after every local invocation. With ``POWERTOOLS_METRICS_DISABLED`` (the local stack's
    setting), Powertools' flush neither prints nor clears, so values pile up in the shared Metrics object
    for the life of the process, and it prints the whole set anyway once a metric holds 100 values.
    Lambda starts each invocation clean; this gives a long-running local process the same."""
    if is_metrics_disabled():
        metrics.clear_metrics()


class WorkerKilled(BaseException):
    """A worker dying mid-batch: a BaseException, so neither the runtime nor the batch processor catches it.
    ``reappear_after_s`` shortens the visibility timeout of its batch (see ``FunctionPoller.kill``)."""

    def __init__(self, message: str, *, reappear_after_s: float | None = None) -> None:
        super().__init__(message)
        self.reappear_after_s = reappear_after_s


@dataclass
class LambdaContext:
    """The attributes of Lambda's context object that Powertools and handlers read."""

    function_name: str
    timeout_s: int = 300
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = "local"
    log_stream_name: str = "local"
    _deadline: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_s

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:000000000000:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def lambda_sqs_event(messages: list[MessageTypeDef], *, queue_arn: str, region: str) -> dict[str, Any]:
    """SQS messages as Lambda delivers them to a handler."""
    records = []
    for m in messages:
        attrs = m.get("Attributes", {})
        records.append({
            "messageId": m["MessageId"],
            "receiptHandle": m["ReceiptHandle"],
            "body": m["Body"],
            "attributes": {
                "ApproximateReceiveCount": attrs.get("ApproximateReceiveCount", "1"),
                "SentTimestamp": attrs.get("SentTimestamp", str(int(time.time() * 1000))),
                "SenderId": attrs.get("SenderId", "local"),
                "ApproximateFirstReceiveTimestamp": attrs.get(
                    "ApproximateFirstReceiveTimestamp", str(int(time.time() * 1000))),
            },
            "messageAttributes": {
                name: {"stringValue": v.get("StringValue"), "stringListValues": [], "binaryListValues": [],
                       "dataType": v.get("DataType", "String")}
                for name, v in m.get("MessageAttributes", {}).items()
            },
            "md5OfBody": m.get("MD5OfBody", ""),
            "eventSource": "aws:sqs",
            "eventSourceARN": queue_arn,
            "awsRegion": region,
        })
    return {"Records": records}


class FunctionPoller:
    """The event source mapping of one function: ``concurrency`` workers on one queue."""

    def __init__(self, sqs: SQSClient, *, function: str, queue_url: str, handler: Handler,
                 batch_size: int = 10, concurrency: int = 2, timeout_s: int = 300,
                 region: str = "us-east-1", wait_s: int = 1, lead_wait_s: int = 10) -> None:
        self.sqs = sqs
        self.function = function
        self.queue_url = queue_url
        self.handler = handler
        self.batch_size = batch_size
        self.concurrency = concurrency
        self.timeout_s = timeout_s
        self.region = region
        self.wait_s = wait_s
        self.lead_wait_s = lead_wait_s
        self.queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"]["QueueArn"]
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.invocations = 0
        self.receives = 0  # receive calls made, empty ones included
        self.busy = 0
        self.killed = 0
        self._kills: list[float | None] = []  # armed by kill(): each entry kills one batch's worker
        self._backlog = threading.Event()  # set while receives find messages: the helpers poll too
        self._lock = threading.Lock()

    def start(self) -> None:
        for n in range(self.concurrency):
            thread = threading.Thread(target=self._loop, args=(n == 0,), name=f"poll-{self.function}-{n}",
                                      daemon=True)
            thread.start()
            self._threads.append(thread)

    def kill(self, *, reappear_after_s: float | None = None) -> None:
        """Kill the worker of the next batch after its handler returns, before it deletes a message.

        Its messages stay in flight until their visibility timeout ends (6 x the function's timeout, as on
        AWS); ``reappear_after_s`` shortens that for the killed batch only, so a test need not wait minutes.
        A ``WorkerKilled`` raised inside the handler kills its worker the same way, without arming this."""
        with self._lock:
            self._kills.append(reappear_after_s)

    def signal_stop(self) -> None:
        """Ask the workers to stop after their current poll (see ``stop``)."""
        self._stop.set()
        self._backlog.set()

    def stop(self, timeout_s: float = 10) -> None:
        """Stop: wait for the batches being handled (up to ``timeout_s``), not for the long polls. A lead
        worker still in its receive ends when that returns, and hands nothing it receives to the handler."""
        self._stop.set()
        self._backlog.set()  # wakes the sleeping helpers, which then see the stop
        deadline = time.monotonic() + timeout_s
        while self.busy and time.monotonic() < deadline:
            time.sleep(0.01)
        for thread in self._threads:
            thread.join(timeout=0.01)

    def _loop(self, lead: bool = True) -> None:
        while not self._stop.is_set():
            if not lead and not self._backlog.wait(self.wait_s):
                continue  # a helper sleeps while the lead's receives come back empty
            try:
                if self.poll_once(self.lead_wait_s if lead else self.wait_s):
                    self._backlog.set()
                elif not lead:
                    self._backlog.clear()
            except WorkerKilled:
                self._replace_worker(lead)
                return
            except Exception:  # a poller never dies: log and go on, as the managed mapping would
                if self._stop.is_set():
                    return  # the endpoint may be gone already: a stopping poller has nothing to report
                logger.exception("poller error", extra={"function": self.function})
                self._stop.wait(1)

    def poll_once(self, wait_s: int | None = None) -> int:
        """Receive one batch (long-polling up to ``wait_s``, default ``self.wait_s``) and run it; returns
        how many messages were received. After ``stop`` nothing received is run."""
        response = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=self.batch_size,
            WaitTimeSeconds=self.wait_s if wait_s is None else wait_s,
            AttributeNames=["All"], MessageAttributeNames=["All"], VisibilityTimeout=6 * self.timeout_s,
        )
        messages = response.get("Messages", [])
        with self._lock:
            self.receives += 1
        if not messages:
            return 0
        with self._lock:
            stopped = self._stop.is_set()
            if not stopped:
                self.busy += 1
                self.invocations += 1
        if stopped:  # received after stop: made visible again at once, for whoever polls next
            with contextlib.suppress(Exception):
                self.sqs.change_message_visibility_batch(QueueUrl=self.queue_url, Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                    for i, m in enumerate(messages)])
            return 0
        try:
            self._invoke(messages)
        finally:
            with self._lock:
                self.busy -= 1
        return len(messages)

    def _replace_worker(self, lead: bool) -> None:
        """A killed worker's thread ends here; a new one takes its place, as a new Lambda instance would."""
        with self._lock:
            self.killed += 1
            if self._stop.is_set():
                return
            thread = threading.Thread(target=self._loop, args=(lead,), name=f"poll-{self.function}-r{self.killed}",
                                      daemon=True)
            self._threads.append(thread)
        thread.start()

    def _invoke(self, messages: list[MessageTypeDef]) -> None:
        event = lambda_sqs_event(messages, queue_arn=self.queue_arn, region=self.region)
        try:
            result = self.handler(event, LambdaContext(self.function, timeout_s=self.timeout_s))
            with self._lock:
                armed, reappear_after_s = bool(self._kills), self._kills.pop(0) if self._kills else None
            if armed:
                raise WorkerKilled(f"{self.function}: worker killed after its handler, before deleting",
                                   reappear_after_s=reappear_after_s)
        except WorkerKilled as killed:
            logger.warning("worker killed mid-batch", extra={"function": self.function, "messages": len(messages)})
            if killed.reappear_after_s is not None:
                for m in messages:  # the timeout of the batch in flight, shortened (see kill)
                    self.sqs.change_message_visibility(QueueUrl=self.queue_url, ReceiptHandle=m["ReceiptHandle"],
                                                       VisibilityTimeout=max(0, round(killed.reappear_after_s)))
            raise
        except Exception:
            # A function error fails the whole batch: every message comes back after its timeout.
            logger.exception("handler raised: whole batch will be retried", extra={"function": self.function})
            return
        finally:
            discard_unpublished_metrics()
        failed = {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])}
        done = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            self.sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done[start:start + 10])
            ])

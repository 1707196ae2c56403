"""Sending events to the queues of the functions that handle them (Inngest's ``send``).

Queues are named ``{prefix}-{function queue}`` (template.yaml names them ``${AWS::StackName}-…``), so
the same code finds them on AWS and on the local stack. An event whose data carries a high priority goes
to its function's high queue (``Event.queue_for``), whoever sends it: the event API, a service's follow-up
events, the CLI. The SQS endpoint comes from boto3's own configuration (``AWS_ENDPOINT_URL_SQS`` /
``AWS_ENDPOINT_URL``), never from code.

A send is not all-or-nothing (SQS has no transaction across batches): every batch is tried, and when SQS
refuses some events after others were queued, ``PartialSend`` names both, so a caller (the event API's
503) can say which ids went.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError
from pydantic_core import PydanticSerializationError

from contribsync import catalog
from contribsync.envelope import ATTEMPTS_ATTR, ERROR_ATTR, EventEnvelope, storable
from contribsync.errors import InvalidEvent, PartialSend

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageAttributeValueTypeDef

    from contribsync.clock import Clock

SQS_MAX_DELAY_S = 900  # SQS caps DelaySeconds at 15 minutes
SQS_BATCH = 10


def _attrs(values: Mapping[str, str]) -> dict[str, MessageAttributeValueTypeDef]:
    return {k: {"DataType": "String", "StringValue": v} for k, v in values.items()}


class Queues:
    """Resolves queue URLs once per container and sends, re-queues and dead-letters messages."""

    def __init__(self, sqs: SQSClient, *, prefix: str, clock: Clock | None = None) -> None:
        """``clock`` stamps the ``ts`` of an event sent without one (the system's by default): the time the
        runtime compares with cancellations, so on a scaled clock it must be that clock's."""
        self.sqs = sqs
        self.prefix = prefix
        self.clock = clock
        self._urls: dict[str, str] = {}

    def url(self, queue: str) -> str:
        """URL of ``{prefix}-{queue}``, looked up once."""
        if queue not in self._urls:
            self._urls[queue] = self.sqs.get_queue_url(QueueName=f"{self.prefix}-{queue}")["QueueUrl"]
        return self._urls[queue]

    def send_event(self, name: str, data: Mapping[str, Any] | None = None, *, id: str | None = None) -> str:
        """Validate and send one event to its function's queue; return its id."""
        return self.send_events([{"name": name, "data": dict(data or {}), "id": id}])[0]

    def send_events(self, events: Iterable[Mapping[str, Any]]) -> list[str]:
        """Validate every event first (nothing is sent if one is invalid), then send in batches of 10."""
        now_ms = int(self.clock.now().timestamp() * 1000) if self.clock else None
        return self.send_envelopes([self.validate(raw, now_ms=now_ms) for raw in events])

    def send_envelopes(self, envelopes: Iterable[EventEnvelope]) -> list[str]:
        """Send validated events to their functions' queues (the high one for a high priority) in batches of
        10; return their ids. Every batch is tried: ``PartialSend`` when SQS refused any event (a batch it
        refused whole, or entries of one), naming the ids queued and the ids refused."""
        by_queue: dict[str, list[EventEnvelope]] = defaultdict(list)
        ids: list[str] = []
        for envelope in envelopes:
            by_queue[catalog.route(envelope.name).queue_for(envelope.data)].append(envelope)
            ids.append(str(envelope.id))
        refused: dict[str, str] = {}  # event id -> SQS's reason
        for queue, queued in by_queue.items():
            for start in range(0, len(queued), SQS_BATCH):
                chunk = queued[start : start + SQS_BATCH]
                try:
                    response = self.sqs.send_message_batch(
                        QueueUrl=self.url(queue),
                        Entries=[
                            {"Id": str(i), "MessageBody": e.model_dump_json(exclude_none=True)}
                            for i, e in enumerate(chunk)
                        ],
                    )
                except (ClientError, BotoCoreError) as exc:  # the whole batch: a missing queue, a size limit
                    refused.update({str(e.id): f"{queue}: {exc}"[:500] for e in chunk})
                    continue
                for entry in response.get("Failed", []):
                    reason = f"{queue}: {entry.get('Code')}: {entry.get('Message', '')}"[:500]
                    refused[str(chunk[int(entry["Id"])].id)] = reason
        if refused:
            first = next(iter(refused.values()))
            raise PartialSend(f"SQS refused {len(refused)} of {len(ids)} event(s); first: {first}",
                              sent=[i for i in ids if i not in refused], failed=[i for i in ids if i in refused],
                              reasons=refused)
        return ids

    @staticmethod
    def validate(raw: Mapping[str, Any], *, accept_unknown: bool = False, now_ms: int | None = None) -> EventEnvelope:
        """An event as the runtime will see it, or ``InvalidEvent``/``UnknownEvent`` with the reason.
        ``accept_unknown`` (the event API, as Inngest) takes a name no function handles, for
        ``NoFunction`` to record; contribsync's own senders and the CLI refuse it. An event the runtime
        could never record (a NUL or an unpaired surrogate in its name, id or data) or that cannot be
        written as JSON (data nested deeper than pydantic serialises) is refused too, never queued.
        ``now_ms`` is the ``ts`` of an event sent without one (``EventEnvelope.stamped``)."""
        try:
            envelope = EventEnvelope.model_validate({k: v for k, v in raw.items() if v is not None})
        except ValidationError as exc:
            raise InvalidEvent(f"not an event: {exc.errors(include_url=False)}") from exc
        if not storable([envelope.name, envelope.id, envelope.data]):
            raise InvalidEvent("not an event the run history can record: a NUL or an unpaired surrogate in "
                               "its name, id or data")
        try:
            envelope.model_dump_json(exclude_none=True)
        except PydanticSerializationError as exc:
            raise InvalidEvent(f"{envelope.name}: its data cannot be written as JSON ({exc})") from exc
        event = catalog.route(envelope.name) if accept_unknown else catalog.resolve(envelope.name)
        try:
            event.model.model_validate(envelope.data)
        except ValidationError as exc:
            raise InvalidEvent(f"{envelope.name}: {exc.errors(include_url=False)}") from exc
        return envelope.stamped(now_ms)

    def send_raw(self, queue: str, body: str, *, delay_s: int = 0, attributes: Mapping[str, str] = {}) -> None:
        """Put a body on a queue as it is (re-queues, dead letters, redrives)."""
        self.sqs.send_message(
            QueueUrl=self.url(queue),
            MessageBody=body,
            DelaySeconds=max(0, min(SQS_MAX_DELAY_S, delay_s)),
            MessageAttributes=_attrs(attributes),
        )

    def change_visibility(self, queue: str, receipt_handle: str, timeout_s: int) -> None:
        self.sqs.change_message_visibility(
            QueueUrl=self.url(queue), ReceiptHandle=receipt_handle, VisibilityTimeout=timeout_s
        )

    def dead_letters(self, queue: str, *, max_messages: int = 10) -> list[dict[str, Any]]:
        """Peek at a DLQ (messages stay there): body, the error attribute, the attempts the runtime spent
        and when the message was dead-lettered."""
        response = self.sqs.receive_message(
            QueueUrl=self.url(queue), MaxNumberOfMessages=max_messages, VisibilityTimeout=0,
            MessageAttributeNames=["All"], AttributeNames=["All"],
        )
        out = []
        for message in response.get("Messages", []):
            attributes = message.get("MessageAttributes", {})
            error, attempts = attributes.get(ERROR_ATTR), attributes.get(ATTEMPTS_ATTR)
            sent_ms = message.get("Attributes", {}).get("SentTimestamp")
            out.append({
                "message_id": message["MessageId"],
                "body": message["Body"],
                "error": error.get("StringValue") if error else None,
                "attempts": int(attempts["StringValue"]) if attempts else None,
                "sent_at": datetime.fromtimestamp(int(sent_ms) / 1000, UTC) if sent_ms else None,
            })
        return out


def body_preview(body: str, limit: int = 200) -> str:
    text = body if len(body) <= limit else body[:limit] + "…"
    return json.dumps(text)[1:-1]


__all__ = ["SQS_BATCH", "SQS_MAX_DELAY_S", "Queues", "body_preview"]

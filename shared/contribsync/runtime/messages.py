"""An SQS message as the runtime reads it: the raw record, its attributes, and the text rules it must meet.

SQS and Postgres refuse different characters: SQS any outside XML's character range, Postgres a NUL in
text and an unpaired surrogate anywhere. JSON carries both escaped, so an event can arrive that neither
the DLQ's error attribute nor the run history could hold unless it is cleaned or refused here.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from aws_lambda_powertools.utilities.parser.models import SqsRecordModel

from contribsync.envelope import ORIGIN_ATTR, pg_text, storable
from contribsync.errors import InvalidEvent

if TYPE_CHECKING:
    from contribsync.catalog import Event
    from contribsync.envelope import EventEnvelope

_NOT_SQS_TEXT = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class SqsRecord(SqsRecordModel):
    """An SQS record whose body stays raw text: the runtime parses it itself, so a malformed body is
    dead-lettered with its error instead of failing validation inside the batch processor forever."""

    body: str


def attribute(record: SqsRecord, name: str) -> str | None:
    value = record.messageAttributes.get(name)
    return value.stringValue if value is not None else None


def origin(record: SqsRecord) -> str:
    """The id of the message as first sent: the record's own, or the one a forward or re-queue carried."""
    return attribute(record, ORIGIN_ATTR) or record.messageId


def on_high_queue(record: SqsRecord, event: Event) -> bool:
    """Whether the record came from the function's high-priority queue: its ARN names
    ``<prefix>-<queue>-high`` (no normal queue's name ends so: the catalog's tests hold it)."""
    return record.eventSourceARN.rsplit(":", 1)[-1].endswith(f"-{event.high_queue}")


def sent_again(record: SqsRecord) -> bool:
    """Whether this record may repeat one already handled: SQS handed it out before, or it is a copy the
    runtime sent (a worker that forwarded or re-queued it and died before the delete sends it twice)."""
    return int(record.attributes.ApproximateReceiveCount) > 1 or origin(record) != record.messageId


def sqs_text(text: str) -> str:
    """``text`` as an SQS attribute may carry it: characters SQS refuses become U+FFFD."""
    return _NOT_SQS_TEXT.sub("\ufffd", text)


def event_time(envelope: EventEnvelope, record: SqsRecord) -> datetime:
    """When the event happened; ``InvalidEvent`` for one whose run Postgres could never record."""
    if not storable([envelope.name, envelope.id, envelope.data]):
        raise InvalidEvent("invalid message: a NUL or an unpaired surrogate in its name, id or data")
    try:
        return datetime.fromtimestamp(
            (envelope.ts or int(record.attributes.SentTimestamp.timestamp() * 1000)) / 1000, tz=UTC)
    except (OverflowError, ValueError, OSError) as exc:
        raise InvalidEvent(f"invalid message: ts {envelope.ts} is not a time") from exc


__all__ = ["SqsRecord", "attribute", "event_time", "on_high_queue", "origin", "pg_text", "sent_again", "sqs_text",
           "storable"]

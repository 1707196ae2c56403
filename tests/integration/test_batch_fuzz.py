"""Fuzzing SQS batches into a webhook function's runtime, on the embedded Postgres and moto's SQS.

Whatever a batch holds, ``handle`` returns a partial batch response and never raises, and each record
ends one way, decided by what it is (the runtime's module docstring):

- a body that is not an event, an unknown name, data its model refuses, or anything Postgres cannot
  record (NUL, an unpaired surrogate, a timestamp no datetime holds) is recorded as failed and
  dead-lettered at once: it is never reported for retry, since no retry can fix it;
- an event for another function is forwarded to that function's queue;
- a delivery that is not stored fails for good (``NonRetriable``): dead-lettered;
- a stored delivery whose payload the handler chokes on is reported as a batch item failure, for retry;
- a valid delivery is applied (or skipped as a duplicate), whatever its neighbours are.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from contribsync import catalog, services
from contribsync.db import Database
from contribsync.envelope import ERROR_ATTR, EventEnvelope
from contribsync.errors import NonRetriable
from contribsync.queues import Queues
from contribsync.runtime import Runtime
from contribsync.webhook_receiver import WebhookReceiver, signature
from contribsync_local.aws import create_queues, sqs_client
from contribsync_local.poller import lambda_sqs_event
from tests.fakes import RecordingQueues, clients
from tests.fixtures import WEBHOOKS

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.integration

FUNCTION = "ApplyIssueWebhook"
EVENT = catalog.by_function(FUNCTION)
OTHER_NAMES = sorted(name for e in catalog.EVENTS if e.function != FUNCTION for name in e.all_names)
WEBHOOK_ELSEWHERE = sorted(n for n in OTHER_NAMES if n.startswith("webhook/"))
CORPUS = WEBHOOKS
GOOD = ["issues/opened", "issues/edited", "issues/labeled", "issue_comment/created", "issue_comment/edited"]
# Stored, but without the objects their event type carries (KeyError, ValueError): refused at once,
# dead-lettered; no retry can fix a payload.
BROKEN = [("issues", {"action": "opened"}), ("issue_comment", {"action": "created", "issue": {}}),
          ("issues", {"action": "opened", "repository": {"id": "not a number", "name": "x"}})]


def _pending() -> dict[str, Any]:
    """A comment on a PR that is not stored: the handler queues its details and retries with backoff."""
    payload = json.loads((CORPUS / "issue_comment" / "created.payload.json").read_bytes())
    payload["issue"] = {**payload["issue"], "number": 987654, "pull_request": {"url": "x", "merged_at": None}}
    return payload
SECRET = "batch-fuzz"


@dataclass
class World:
    db: Database
    queues: Queues
    runtime: Runtime
    good: list[str]  # delivery ids of stored, applicable deliveries
    broken: list[str]  # delivery ids of stored deliveries without the objects their event type carries
    pending: list[str]  # delivery ids of stored deliveries whose parent is not stored yet

    def expected(self, body: str) -> str:
        """How the record must end: "dead", "forwarded", "applied" or "retried"."""
        try:
            envelope = EventEnvelope.model_validate_json(body)
            event = EVENT if envelope.name in EVENT.all_names else catalog.resolve(envelope.name)
            data = event.model.model_validate(envelope.data)
        except (ValidationError, NonRetriable):
            return "dead"
        if not (storable(envelope.name) and storable(envelope.id) and storable(envelope.data)) or not in_range(
                envelope.ts):
            return "dead"
        if event.function != FUNCTION:
            return "forwarded"
        delivery = getattr(data, "delivery_id", None)
        return "applied" if delivery in self.good else "retried" if delivery in self.pending else "dead"


def storable(value: object) -> bool:
    """Whether Postgres can hold every text in ``value``: no NUL, no unpaired surrogate."""
    if isinstance(value, str):
        try:
            value.encode()
        except UnicodeEncodeError:
            return False
        return "\x00" not in value
    if isinstance(value, dict):
        return all(storable(k) and storable(v) for k, v in value.items())
    if isinstance(value, list):
        return all(storable(v) for v in value)
    return True


def in_range(ts: int | None) -> bool:
    try:
        datetime.fromtimestamp((ts or 0) / 1000, tz=UTC)
    except (OverflowError, ValueError, OSError):
        return False
    return True


@pytest.fixture(scope="module")
def world(isolated_database, aws_endpoint) -> Iterator[World]:
    db = Database(isolated_database(), application_name="contribsync-tests")
    sqs = sqs_client()
    prefix = f"bf{uuid.uuid4().hex[:8]}"
    create_queues(sqs, prefix)
    queues = Queues(sqs, prefix=prefix)
    # Deliveries stored the way GitHub's arrive: through the receiver (its queue is a fake, so the
    # messages under test are the only ones on the function's queue).
    receiver = WebhookReceiver(clients(db, RecordingQueues(), webhook_secrets=(SECRET,)))

    def store(event: str, body: bytes) -> str:
        delivery = str(uuid.uuid4())
        response = receiver.handle({"headers": {"X-GitHub-Event": event, "X-GitHub-Delivery": delivery,
                                                "X-Hub-Signature-256": signature(SECRET, body)},
                                    "body": body.decode(), "isBase64Encoded": False}, None)
        assert response["statusCode"] == 202, response
        return delivery

    good = [store(name.split("/")[0], (CORPUS / f"{name}.payload.json").read_bytes()) for name in GOOD]
    broken = [store(event, json.dumps(payload).encode()) for event, payload in BROKEN]
    pending = [store("issue_comment", json.dumps(_pending()).encode())]
    runtime = Runtime(EVENT, clients(db, queues, retry_base_s=1), service=services.load(EVENT), rng=lambda: 0.0)
    yield World(db, queues, runtime, good, broken, pending)
    db.close()


# -- strategies -------------------------------------------------------------------------------------------

# What an SQS body can hold (#x9 #xA #xD, #x20-#xD7FF, #xE000-#xFFFD, #x10000 up).
SQS_CHARS = st.characters(min_codepoint=0x20, exclude_categories=("Cs",), exclude_characters="\ufffe\uffff",
                          include_characters="\t\n\r")
tricky_text = st.one_of(
    st.text(max_size=12),
    st.lists(st.sampled_from(["\x00", "\ud800", "\udc00", "\\u0000", "é", "😀", '"', "\\", "a"]),
             max_size=5).map("".join),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False) | tricky_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(tricky_text, inner, max_size=3),
    max_leaves=10,
)
wrong_names = st.one_of(
    st.sampled_from(WEBHOOK_ELSEWHERE), st.sampled_from(WEBHOOK_ELSEWHERE), st.sampled_from(OTHER_NAMES),
    st.sampled_from(["", "webhook/", "webhook/label", "no/such-event", "webhook/issues\x00", "x" * 201]),
    tricky_text, json_values,
)
event_ids = st.one_of(st.sampled_from(["fresh", "x" * 201]), tricky_text,
                      st.text(SQS_CHARS, min_size=1500, max_size=3000))  # past a btree entry's 2704 bytes
timestamps = st.one_of(st.integers(min_value=-(2**70), max_value=2**70),
                       st.sampled_from([0, 1_700_000_000_000, 253_402_300_800_000, -62_135_596_800_001]),
                       json_values)


@st.composite
def deliveries(draw: st.DrawFn) -> dict[str, Any]:
    """``webhook/*`` data: a stored delivery (good, broken or pending), one never stored, or any text."""
    which = draw(st.sampled_from(["good", "good", "broken", "pending", "unstored", "text"]))
    delivery = (which if which in {"good", "broken", "pending"} else draw(tricky_text) if which == "text"
                else str(uuid.UUID(int=draw(st.integers(0, 2**128 - 1)))))
    data = {"deliveryId": delivery, "event": draw(st.sampled_from(["issues", "issue_comment"]))}
    if draw(st.booleans()):
        data["action"] = draw(st.sampled_from(["opened", "created", "edited"]))
    return data


@st.composite
def envelopes(draw: st.DrawFn) -> dict[str, Any]:
    """An Inngest event, ``{name, data, id, ts}``, for this function, right or with one part wrong."""
    body: dict[str, Any] = {"name": draw(st.sampled_from(EVENT.all_names)), "data": draw(deliveries())}
    if draw(st.booleans()):
        body["id"] = "fresh"
    fault = draw(st.sampled_from(["none", "none", "none", "name", "data", "field", "id", "ts"]))
    if fault == "name":  # another function's event (forwarded, or refused by its model), or no event at all
        body["name"] = draw(wrong_names)
    elif fault == "data":
        body["data"] = draw(json_values)
    elif fault == "field":
        body["data"][draw(st.sampled_from(["action", "repositoryGithubId", "event", "deliveryId", "delivery_id",
                                           "extra"]))] = draw(json_values)
    elif fault == "id":
        body["id"] = draw(event_ids)
    elif fault == "ts":
        body["ts"] = draw(timestamps)
    return body


@st.composite
def records(draw: st.DrawFn) -> tuple[str, Any]:
    """One record's body: random text, random JSON, or an event; ("repeat", None) redelivers the previous."""
    kind = draw(st.sampled_from(["text", "json", "deep", "event", "event", "event", "event", "repeat"]))
    if kind == "text":
        return kind, draw(st.text(SQS_CHARS, max_size=200))
    if kind == "deep":  # nesting past the parsers' limits (pydantic's, then json's recursion limit)
        n = draw(st.integers(1, 3000))
        return "text", draw(st.sampled_from(["[" * n + "]" * n, '{"name": "webhook/issues", "data": '
                                             + '{"a": ' * n + "1" + "}" * n + "}"]))
    if kind == "json":
        return kind, draw(json_values)
    return kind, draw(envelopes()) if kind == "event" else None


def sqs_safe(text: str) -> bool:
    return all(c in "\t\n\r" or 0x20 <= ord(c) <= 0xD7FF or 0xE000 <= ord(c) <= 0xFFFD or ord(c) > 0xFFFF
               for c in text)


def bodies(world: World, specs: list[tuple[str, Any]], ascii_only: bool) -> list[str]:
    """Message bodies for the specs: stand-ins replaced by stored delivery ids and fresh event ids."""
    out: list[str] = []
    for kind, spec in specs:
        if kind == "repeat":
            out.append(out[-1] if out else "")
            continue
        value = spec
        if kind == "event":
            value = dict(spec)
            data = value.get("data")
            if isinstance(data, dict) and data.get("deliveryId") in ("good", "broken", "pending"):
                pool = {"good": world.good, "broken": world.broken, "pending": world.pending}[data["deliveryId"]]
                value["data"] = {**data, "deliveryId": pool[len(out) % len(pool)]}
            ident = value.get("id")
            if isinstance(ident, str) and ident:  # unique, or a completed id would make a later record "skipped"
                value["id"] = str(uuid.uuid4()) if ident == "fresh" else f"{ident}~{uuid.uuid4().hex[:8]}"
        text = value if kind == "text" else json.dumps(value, ensure_ascii=ascii_only)
        out.append(text if sqs_safe(text) else json.dumps(value) if kind != "text" else "")
    return [body or " " for body in out]  # SQS refuses an empty body


# -- SQS round trip ---------------------------------------------------------------------------------------

def receive(world: World, sent: list[str]) -> list[dict[str, Any]]:
    """The sent messages, received as Lambda's event source mapping receives them."""
    url = world.queues.url(EVENT.queue)
    wanted, got = set(sent), {}
    while len(got) < len(wanted):
        response = world.queues.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"],
                                                    MessageAttributeNames=["All"], WaitTimeSeconds=1)
        for message in response.get("Messages", []):
            if message["MessageId"] in wanted:
                got[message["MessageId"]] = message
            else:  # a retried message of an earlier example, back after its backoff
                world.queues.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return [got[m] for m in sent]


def drain(world: World, queue: str) -> list[dict[str, Any]]:
    url = world.queues.url(queue)
    out: list[dict[str, Any]] = []
    while messages := world.queues.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                                       MessageAttributeNames=["All"]).get("Messages", []):
        out += messages
        world.queues.sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)])
    return out


def runs(world: World, message_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    rows = world.db.connection().execute(
        "SELECT message_id, status, dead_lettered, error_type FROM function_runs WHERE message_id = ANY(%s)",
        (message_ids,)).fetchall()
    out: dict[str, list[dict[str, Any]]] = {m: [] for m in message_ids}
    for row in rows:
        out[row["message_id"]].append(row)
    return out


# -- the property ------------------------------------------------------------------------------------------

@settings(max_examples=50, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(specs=st.lists(records(), min_size=1, max_size=10), ascii_only=st.booleans())
@example(specs=[  # each bad record here was once reported for retry, with no run row and no DLQ error
    ("event", {"name": "webhook/issues", "data": {"deliveryId": "good", "event": "issues"}, "id": "fresh"}),
    ("event", {"name": "webhook/issues", "data": {"deliveryId": "good", "event": "issues"}, "ts": -62135596800001}),
    ("event", {"name": "webhook/issues", "data": {"deliveryId": "good", "event": "issues"}, "ts": 10**20}),
    ("event", {"name": "webhook/issues\x00", "data": {}}),
    ("event", {"name": "webhook/issues", "data": {"deliveryId": "good", "event": "issues", "x": "\x00"}}),
    ("event", {"name": "webhook/issues", "data": {"deliveryId": "good", "event": "issues"}, "id": "a\x00"}),
    ("event", {"name": "webhook/issues", "data": {"deliveryId": "\ud800", "event": "issues"}}),
    ("text", '{"name": "webhook/issues", "data": ' + '{"a": ' * 2000 + "1" + "}" * 2000 + "}"),
    ("event", {"name": "no/such-event", "id": "".join(map(chr, range(0x4E00, 0x4E00 + 1500)))}),
    ("event", {"name": "webhook/issues", "data": {"deliveryId": "\x01", "event": "issues"}}),  # in its DLQ error
], ascii_only=False)
def test_any_batch_gets_a_partial_response_and_only_retriable_records_fail(world, specs, ascii_only):
    # GIVEN a batch of 1-10 messages on the function's queue, good and bad mixed
    texts = bodies(world, specs, ascii_only)
    url = world.queues.url(EVENT.queue)
    sent = world.queues.sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": str(i), "MessageBody": text} for i, text in enumerate(texts)])
    assert not sent.get("Failed"), sent
    ids = [entry["MessageId"] for entry in sorted(sent["Successful"], key=lambda e: int(e["Id"]))]
    messages = receive(world, ids)
    expected = {m["MessageId"]: world.expected(m["Body"]) for m in messages}
    for outcome in sorted(set(expected.values())):
        event(f"a record {outcome}")
    # WHEN the runtime handles it
    try:
        response = world.runtime.handle(lambda_sqs_event(messages, queue_arn="arn:aws:sqs:us-east-1:1:x",
                                                         region="us-east-1"), None)
    finally:
        world.queues.sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)])
    dead = drain(world, EVENT.dlq)
    by_id = {m["MessageId"]: m for m in messages}
    forwards = Counter(by_id[m]["Body"] for m, outcome in expected.items() if outcome == "forwarded")
    arrived = Counter(m["Body"] for queue in {catalog.resolve(json.loads(body)["name"]).queue for body in forwards}
                      for m in drain(world, queue))
    # THEN it is a partial batch response naming exactly the records worth retrying
    assert set(response) == {"batchItemFailures"}
    failed = [f["itemIdentifier"] for f in response["batchItemFailures"]]
    assert sorted(failed) == sorted(m for m, outcome in expected.items() if outcome == "retried"), (
        expected, response)
    # ... every record that no retry can fix is in the DLQ, with its error, and recorded as failed
    assert Counter(m["Body"] for m in dead) == Counter(by_id[m]["Body"] for m, o in expected.items() if o == "dead")
    # (moto takes any text; SQS refuses an attribute with characters a body may not hold)
    assert all(sqs_safe(m["MessageAttributes"][ERROR_ATTR]["StringValue"]) for m in dead)
    rows = runs(world, ids)
    for message_id, outcome in expected.items():
        statuses = [(r["status"], r["dead_lettered"]) for r in rows[message_id]]
        if outcome == "dead":
            assert statuses == [("failed", True)], (by_id[message_id]["Body"], statuses)
        elif outcome == "retried":
            assert statuses == [("retrying", False)], (by_id[message_id]["Body"], statuses)
        elif outcome == "applied":  # a redelivery in the same batch is skipped, not applied twice
            assert statuses in ([("completed", False)], [("skipped", False)]), (by_id[message_id]["Body"], statuses)
        else:
            assert statuses == []
    assert forwards <= arrived  # (those queues also hold what applied deliveries sent: discover/...)

"""Fuzzing the webhook receiver: whatever reaches the Function URL, the answer is JSON with a status GitHub
understands (200, 202, 400, 401, 413, 503), never a 500 and never an exception out of ``handle``.

503 means "redeliver": GitHub shows the delivery as failed and the hourly reconciler redelivers it. So a 503
is right only when storage or the queue failed. For anything that fails the same way every time (a body
Postgres refuses, a header ``int()`` refuses) a 503 would be redelivered forever, so these properties
fail on any 503 while the fakes are healthy.

The fake database refuses what PostgreSQL 16 refuses (checked on the embedded server), so a payload
Python's ``json`` accepts but ``jsonb`` does not is caught here, without a database.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import psycopg
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from contribsync.clock import ScaledClock
from contribsync.errors import StoreError
from contribsync.webhook_receiver import MAX_BODY_BYTES, MAX_HEADER_CHARS, WebhookReceiver, handled_events, signature
from tests.fakes import RecordingQueues, clients

RECEIVER_AT = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
RECEIVER_CLOCK = ScaledClock(60, start=RECEIVER_AT, monotonic=lambda: 0.0)  # stopped: now() is RECEIVER_AT

SECRET = "fuzz-s3cret"
SECRETS = ("rotated-out", SECRET)  # the receiver accepts either, as during a secret rotation
ANSWERS = {200, 202, 400, 401, 413, 503}
EVENT, DELIVERY, SIGNATURE, TARGET = ("X-GitHub-Event", "X-GitHub-Delivery", "X-Hub-Signature-256",
                                      "X-GitHub-Hook-Installation-Target-ID")
HANDLED = sorted(handled_events())
BIGINT = range(-(2**63), 2**63)
FUZZ = settings(max_examples=200, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
SMALL_SPACE = settings(FUZZ, max_examples=80)  # few distinct cases: more examples only repeat them


# -- fakes ------------------------------------------------------------------------------------------------

class PostgresLikeDb:
    """``Database`` as the receiver uses it. ``webhook_delivery_insert`` stores once per delivery id (a
    redelivery gets no row back, as with ``ON CONFLICT``) and refuses, with ``StoreError`` as the real
    adapter would, what PostgreSQL 16 refuses: NUL or an unpaired surrogate in text, a bigint out of range,
    and jsonb that is not strict JSON (NaN, Infinity, a BOM, ``\\u0000``, an unpaired ``\\ud800``)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.stored: dict[str, dict[str, Any]] = {}
        self.refused: list[str] = []

    def query_one(self, name: str, params: dict[str, Any]) -> dict[str, Any] | None:
        self.calls.append((name, dict(params)))
        assert name == "webhook_delivery_insert"
        try:
            for key in ("delivery_id", "event", "action", "status"):
                _pg_text(params[key])
            for key in ("installation_target_id", "repository_github_id"):
                if params[key] is not None and (type(params[key]) is not int or params[key] not in BIGINT):
                    raise ValueError(f"{key} {params[key]!r} is not a bigint")
            _pg_jsonb(params["payload"])
        except ValueError as exc:
            self.refused.append(f"{type(exc).__name__}: {exc}"[:300])
            raise StoreError(f"database error: {exc}") from exc
        if params["delivery_id"] in self.stored:
            return None
        self.stored[params["delivery_id"]] = dict(params)
        return {"delivery_id": params["delivery_id"]}

    def query(self, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        self.calls.append((name, dict(params)))
        return []

    @property
    def inserts(self) -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == "webhook_delivery_insert"]


def _pg_text(value: object) -> None:
    if value is None:
        return
    if not isinstance(value, str) or "\x00" in value:
        raise ValueError(f"PostgreSQL text fields cannot contain NUL (0x00) bytes: {value!r}")
    value.encode()  # psycopg sends UTF-8: an unpaired surrogate fails here


def _refuse_constant(name: str) -> None:
    raise ValueError(f'Token "{name}" is invalid')


def _pg_jsonb(text: object) -> None:
    if not isinstance(text, str):
        raise ValueError(f"payload is {type(text).__name__}, not text")
    text.encode()
    try:
        pending = [json.loads(text, parse_constant=_refuse_constant)]  # a BOM fails here, as in Postgres
    except RecursionError:  # Python's limit, a few frames below the receiver's; Postgres nests far deeper
        return
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            if "\x00" in value:
                raise ValueError("unsupported Unicode escape sequence: \\u0000 cannot be converted to text")
            value.encode()  # an unpaired surrogate escape: "Unicode low surrogate must follow a high surrogate"
        elif isinstance(value, dict):
            pending += [*value.keys(), *value.values()]
        elif isinstance(value, list):
            pending += value


class FailingDb(PostgresLikeDb):
    """A database that is down (``StoreError``) or fails in a way the adapter did not translate."""

    def __init__(self, error: Exception, *, on: str) -> None:
        super().__init__()
        self.error = error
        self.on = on

    def query_one(self, name: str, params: dict[str, Any]) -> dict[str, Any] | None:
        if self.on == "insert":
            self.calls.append((name, dict(params)))
            raise self.error
        return super().query_one(name, params)

    def query(self, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        self.calls.append((name, dict(params)))
        if self.on == "unsent":
            raise self.error
        return []


# -- strategies -------------------------------------------------------------------------------------------

def mixed_case(name: str) -> st.SearchStrategy[str]:
    return st.lists(st.booleans(), min_size=len(name), max_size=len(name)).map(
        lambda upper: "".join(c.upper() if u else c.lower() for c, u in zip(name, upper, strict=True)))


# What an HTTP header value can hold: no control characters (no NUL, CR, LF) and no unpaired surrogates.
HEADER_CHARS = st.characters(exclude_categories=("Cc", "Cs"))
header_values = st.one_of(
    st.just(""),
    st.text(HEADER_CHARS, max_size=40),
    st.text(HEADER_CHARS, min_size=101, max_size=400),  # over the 100 characters of an event or delivery
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.integers(min_value=4290, max_value=4400).map(lambda n: "9" * n),  # past int()'s 4300-digit limit
    st.sampled_from(["ping", "é", "\uff11\uff12\uff13", "\u0663", "sha256=", *HANDLED]),
)
any_header_name = st.one_of(st.text(HEADER_CHARS, max_size=30),
                            st.sampled_from([EVENT, DELIVERY, SIGNATURE, TARGET]).flatmap(mixed_case))
header_dicts = st.dictionaries(any_header_name, header_values, max_size=8)
other_headers = st.dictionaries(
    st.text(HEADER_CHARS, max_size=30).filter(lambda k: k.lower() not in {EVENT.lower(), DELIVERY.lower(),
                                                                         SIGNATURE.lower(), TARGET.lower()}),
    header_values, max_size=4)

# Strings that trip escaping: a NUL, the *text* "\u0000" (JSON "\\u0000"), backslashes before quotes.
tricky_text = st.one_of(
    st.text(max_size=12),
    st.lists(st.sampled_from(["\x00", "\\u0000", "\\", "u0000", '"', "\\\\", "é", "😀", "\ufeff", "a", "/"]),
             max_size=8).map("".join),
)
json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=False, allow_infinity=False), tricky_text,
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(tricky_text, inner, max_size=4),
    max_leaves=12,
)
github_ids = st.one_of(
    st.integers(min_value=-(2**64), max_value=2**64),
    st.sampled_from([0, 2**63 - 1, 2**63, -1, 10**40, True]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(min_value=0, max_value=2**64).map(str),
    json_values,
)
payload_objects = st.tuples(
    st.dictionaries(tricky_text, json_values, max_size=4),
    st.fixed_dictionaries({}, optional={
        "action": tricky_text | json_values,
        "repository": st.fixed_dictionaries({}, optional={"id": github_ids, "full_name": tricky_text}) | json_values,
        "zen": tricky_text,
        "hook_id": github_ids,
    }),
).map(lambda parts: {**parts[0], **parts[1]})


@st.composite
def json_bodies(draw: st.DrawFn, values: st.SearchStrategy[Any]) -> bytes:
    text = json.dumps(draw(values), ensure_ascii=draw(st.booleans()), indent=draw(st.none() | st.integers(0, 2)))
    return text.encode()


def nested(n: int, kind: str) -> bytes:
    return ("[" * n + "]" * n if kind == "list" else '{"a":' * n + "1" + "}" * n).encode()


# Bodies Python's json takes but jsonb refuses: each is a JSON object to ``json.loads(bytes)``.
python_only_json = st.one_of(
    st.sampled_from([b'{"a": NaN}', b'{"a": Infinity}', b'{"a": [-Infinity]}', b'{"a": "\\ud800"}',
                     b'{"\\udc00": 1}', b'{"a": "x\\ud83d"}']),
    json_bodies(payload_objects).map(lambda b: b"\xef\xbb\xbf" + b),  # a UTF-8 byte order mark
    st.tuples(payload_objects, st.sampled_from(["utf-16", "utf-16-le", "utf-32", "utf-32-be"])).map(
        lambda p: json.dumps(p[0]).encode(p[1])),
    payload_objects.map(lambda p: json.dumps({**p, "lone": "\ud800"}).encode()),
)
bodies = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=200).map(str.encode),
    json_bodies(json_values),
    json_bodies(payload_objects),
    st.tuples(st.integers(1, 3000), st.sampled_from(["list", "object"])).map(lambda t: nested(*t)),
    st.integers(min_value=4290, max_value=4400).map(lambda n: b'{"repository": {"id": 1' + b"0" * n + b"}}"),
    python_only_json,
)
invalid_base64 = st.one_of(st.sampled_from(["a", "abc", "YQ=", "=", "ab=c", "a===="]), st.text(max_size=30))


def decode(event: dict[str, Any]) -> bytes | None:
    """The body the receiver must verify, or None when it is not valid base64."""
    raw = event.get("body") or ""
    if not event.get("isBase64Encoded"):
        return str(raw).encode()
    try:
        return base64.b64decode(raw)
    except ValueError:
        return None


@st.composite
def function_url_events(draw: st.DrawFn) -> dict[str, Any]:
    """A Function URL request: any headers, any body, signed right, wrong or not at all."""
    body = draw(bodies)
    headers = draw(header_dicts)
    how = draw(st.sampled_from(["valid", "valid", "other secret", "random", "absent"]))
    if how != "absent":
        value = {"valid": signature(SECRET, body), "other secret": signature("not-ours", body)}.get(how)
        headers[draw(mixed_case(SIGNATURE))] = value if value is not None else draw(header_values)
    event: dict[str, Any] = {"headers": headers}
    encoding = draw(st.sampled_from(["base64", "base64", "text", "invalid base64", "missing", "none"]))
    if encoding == "base64" or (encoding == "text" and not _utf8(body)):
        event.update(body=base64.b64encode(body).decode(), isBase64Encoded=True)
    elif encoding == "text":
        event.update(body=body.decode(), isBase64Encoded=False)
    elif encoding == "invalid base64":
        event.update(body=draw(invalid_base64), isBase64Encoded=True)
    elif encoding == "none":
        event.update(body=None, isBase64Encoded=draw(st.booleans()))
    headers_as = draw(st.sampled_from(["dict"] * 8 + ["none", "missing"]))
    if headers_as == "none":
        event["headers"] = None
    elif headers_as == "missing":
        del event["headers"]
    return event


def _utf8(body: bytes) -> bool:
    try:
        body.decode()
    except UnicodeDecodeError:
        return False
    return True


def signed(body: bytes, headers: dict[str, str], *, base64_encoded: bool) -> dict[str, Any]:
    headers = {**headers, SIGNATURE: signature(SECRET, body)}
    if base64_encoded or not _utf8(body):
        return {"headers": headers, "body": base64.b64encode(body).decode(), "isBase64Encoded": True}
    return {"headers": headers, "body": body.decode(), "isBase64Encoded": False}


# -- checks -----------------------------------------------------------------------------------------------

def answer(response: object, db: PostgresLikeDb | None = None) -> tuple[int, dict[str, Any]]:
    """The status and decoded body of a well-formed response."""
    assert isinstance(response, dict), response
    status = response["statusCode"]
    assert type(status) is int, status
    assert status in ANSWERS, response
    assert response["headers"] == {"content-type": "application/json"}
    assert isinstance(response["body"], str)
    body = json.loads(response["body"])
    assert isinstance(body, dict)
    if db is not None:
        assert status != 503, f"503 (redeliver) from healthy fakes: {body}; the database refused {db.refused}"
    return status, body


def without_nul(value: object) -> object:
    """What jsonb can hold of a payload: the receiver drops NUL characters (``\\u0000``)."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {without_nul(k): without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_nul(v) for v in value]
    return value


def as_bigint(value: object) -> int | None:
    """A GitHub id as the receiver reads it: an int, or a digit string (headers carry ids as text)."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= MAX_HEADER_CHARS:
        value = int(value)
    return value if type(value) is int and 0 <= value < 2**63 else None


# -- properties ------------------------------------------------------------------------------------------

@FUZZ
@given(event=function_url_events())
@example(event={"headers": {}, "body": "a", "isBase64Encoded": True})  # was 503: binascii.Error
def test_any_request_gets_a_json_answer_and_a_503_only_when_storage_fails(event):
    # GIVEN a receiver whose database and queues work
    db, queues = PostgresLikeDb(), RecordingQueues()
    receiver = WebhookReceiver(clients(db, queues, webhook_secrets=SECRETS))
    # WHEN any request arrives
    status, _ = answer(receiver.handle(event, None), db)
    # THEN it is answered; only an accepted delivery touches storage or the queue
    if status not in {200, 202}:
        assert db.calls == [] and queues.sent == []
    body = decode(event)
    if body is None:
        assert status == 400  # isBase64Encoded with a body that is not base64: the client's error
        return
    headers = {str(k).lower(): v for k, v in (event.get("headers") or {}).items()}
    if headers.get("x-hub-signature-256") not in {signature(s, body) for s in SECRETS}:
        assert status == 401
        assert db.calls == [] and queues.sent == []
    else:  # signed: stored (202), ping (200), or not a JSON object with its headers (400)
        assert status in {200, 202, 400}


@FUZZ
@given(
    payload=payload_objects,
    name=st.sampled_from(["ping", "create", "label", *HANDLED]) | st.text(HEADER_CHARS, min_size=1, max_size=100),
    delivery=st.uuids().map(str) | st.text(HEADER_CHARS, min_size=1, max_size=100),
    target=st.none() | header_values,
    names=st.tuples(mixed_case(EVENT), mixed_case(DELIVERY), mixed_case(TARGET)),
    extra=other_headers,
    ascii_only=st.booleans(),
    base64_encoded=st.booleans(),
)
# Each was 503, on every redelivery: the text "\u0000" (JSON "\\u0000") was cut into a broken string, a NUL
# in the action reached a text column, and int() refused a 4301-digit installation target id.
@example(payload={"body": "\\u0000"}, name="issues", delivery="d1", target=None, names=(EVENT, DELIVERY, TARGET),
         extra={}, ascii_only=True, base64_encoded=False)
@example(payload={"action": "\x00"}, name="issues", delivery="d1", target=None, names=(EVENT, DELIVERY, TARGET),
         extra={}, ascii_only=True, base64_encoded=False)
@example(payload={}, name="issues", delivery="d1", target="9" * 4301, names=(EVENT, DELIVERY, TARGET), extra={},
         ascii_only=True, base64_encoded=False)
def test_a_signed_delivery_is_stored_once_and_queued_once(payload, name, delivery, target, names, extra,
                                                         ascii_only, base64_encoded):
    # GIVEN a delivery signed with the receiver's secret, whatever its payload holds
    body = json.dumps(payload, ensure_ascii=ascii_only).encode()
    headers = {**extra, names[0]: name, names[1]: delivery}
    if target is not None:
        headers[names[2]] = target
    event = signed(body, headers, base64_encoded=base64_encoded)
    db, queues = PostgresLikeDb(), RecordingQueues()
    receiver = WebhookReceiver(clients(db, queues, webhook_secrets=SECRETS, clock=RECEIVER_CLOCK))
    # WHEN it arrives
    status, answered = answer(receiver.handle(event, None), db)
    # THEN ping is answered 200 and not stored; anything else is 202 and stored exactly once
    if name == "ping":
        assert (status, db.calls, queues.sent) == (200, [], [])
        return
    assert status == 202, answered
    assert answered == {"delivery": delivery, "duplicate": False, "handled": name in HANDLED}
    [stored] = db.inserts
    assert json.loads(stored["payload"]) == without_nul(payload)
    action = payload.get("action")
    repository = payload.get("repository")
    repo_id = as_bigint(repository.get("id")) if isinstance(repository, dict) else None
    assert stored == {
        "delivery_id": delivery, "event": name, "action": without_nul(action) if isinstance(action, str) else None,
        "installation_target_id": as_bigint(target), "repository_github_id": repo_id,
        "payload": stored["payload"], "status": "queued" if name in HANDLED else "ignored",
        "received_at": RECEIVER_AT,  # the receiver's clock, which sync/workspace-priorities compares with its fires
    }
    # ... and queued once, on the queue of the function for its event type
    expected_sent = [(f"webhook/{name}", {"deliveryId": delivery, "event": name, "action": stored["action"],
                                          "repositoryGithubId": repo_id}, f"webhook:{delivery}")]
    assert queues.sent == (expected_sent if name in HANDLED else [])
    # WHEN GitHub redelivers it, THEN it is acknowledged and not queued again
    status, answered = answer(receiver.handle(event, None), db)
    assert (status, answered) == (202, {"delivery": delivery, "duplicate": True})
    assert queues.sent == (expected_sent if name in HANDLED else [])


@SMALL_SPACE
@given(body=python_only_json, name=st.sampled_from(HANDLED), delivery=st.uuids().map(str),
       base64_encoded=st.booleans())
def test_a_signed_body_postgres_cannot_store_is_400_not_503(body, name, delivery, base64_encoded):
    # GIVEN a signed JSON object that Python's json reads but jsonb refuses (NaN, a BOM, UTF-16, "\ud800")
    db, queues = PostgresLikeDb(), RecordingQueues()
    receiver = WebhookReceiver(clients(db, queues, webhook_secrets=SECRETS))
    event = signed(body, {EVENT: name, DELIVERY: delivery}, base64_encoded=base64_encoded)
    # WHEN it arrives, THEN it is refused as the sender's error: a 503 would be redelivered forever
    status, _ = answer(receiver.handle(event, None), db)
    assert status == 400
    assert db.calls == [] and queues.sent == []


@SMALL_SPACE
@given(
    payload=st.dictionaries(tricky_text, json_scalars, max_size=3),
    name=st.sampled_from(["create", *HANDLED]),
    delivery=st.uuids().map(str),
    failure=st.sampled_from(["insert", "queue", "queue and unsent"]),
    error=st.sampled_from([StoreError("database error: connection refused"), RuntimeError("bug"),
                           psycopg.OperationalError("server closed the connection"), OSError("reset"),
                           KeyError("delivery_id"), RecursionError()]),
)
def test_a_storage_or_queue_failure_is_503_never_500_and_never_raises(payload, name, delivery, failure, error):
    # GIVEN a valid signed delivery, and a database or a queue that fails
    if failure == "queue":
        db: PostgresLikeDb = PostgresLikeDb()
    else:
        db = FailingDb(error, on="insert" if failure == "insert" else "unsent")
    queues = RecordingQueues(refuse=failure != "insert")
    receiver = WebhookReceiver(clients(db, queues, webhook_secrets=SECRETS))
    event = signed(json.dumps(payload).encode(), {EVENT: name, DELIVERY: delivery}, base64_encoded=False)
    # WHEN it arrives
    response = receiver.handle(event, None)
    # THEN the answer is 503 (GitHub redelivers), whenever the failure comes
    status, answered = answer(response)
    if failure != "insert" and name not in HANDLED:
        assert status == 202  # stored and acknowledged: no queue is involved
        return
    assert status == 503
    assert "redeliver" in answered["error"]
    assert queues.sent == []
    if failure == "queue":  # the row is marked unsent, so the redelivery claims it again
        assert [n for n, _ in db.calls] == ["webhook_delivery_insert", "webhook_delivery_unsent"]
        assert db.calls[1][1]["delivery_id"] == delivery


@settings(max_examples=5, deadline=None, database=None)
@given(extra=st.integers(1, 2048), headers=header_dicts, base64_encoded=st.booleans())
def test_an_oversized_body_is_413_before_anything_else(extra, headers, base64_encoded):
    body = "x" * (MAX_BODY_BYTES + extra)
    event = ({"headers": headers, "body": base64.b64encode(body.encode()).decode(), "isBase64Encoded": True}
             if base64_encoded else {"headers": headers, "body": body, "isBase64Encoded": False})
    db, queues = PostgresLikeDb(), RecordingQueues()
    status, _ = answer(WebhookReceiver(clients(db, queues, webhook_secrets=SECRETS)).handle(event, None), db)
    assert status == 413
    assert db.calls == [] and queues.sent == []


event_keys = st.sampled_from(["headers", "body", "isBase64Encoded", "requestContext"]) | st.text(max_size=10)
json_ish = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20) | st.binary(
    max_size=20), lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10) | st.integers(),
                                                                              inner, max_size=3), max_leaves=10)


@FUZZ
@given(event=st.dictionaries(event_keys, json_ish, max_size=5))
def test_an_event_of_any_shape_gets_an_answer_never_an_exception(event):
    # Not a Function URL event at all (a wrong integration, a test tool): still an answer, never a raise
    db, queues = PostgresLikeDb(), RecordingQueues()
    status, _ = answer(WebhookReceiver(clients(db, queues, webhook_secrets=SECRETS)).handle(event, None))
    assert status != 500

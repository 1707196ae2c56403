"""The event API's door: its keys, the events senders may post, bad bodies and names, through
``EventApi.handle`` with Function URL events (the queues are a fake that records what it is given)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
import yaml

from contribsync import catalog
from contribsync.errors import ConfigurationError
from contribsync.event_api import EventApi
from contribsync.settings import LOCAL_EVENT_KEY, LOCAL_STACK_ENV, MIN_EVENT_KEY_LENGTH, Settings
from tests.fakes import clients
from tests.fixtures import CONTRIBUTOR_INFO

KEY = "k" * MIN_EVENT_KEY_LENGTH
ROOT = Path(__file__).resolve().parents[2]
SENDERS = json.loads((CONTRIBUTOR_INFO / "sender-events.json").read_text())
REPO_ID = "11111111-1111-1111-1111-111111111111"


class EnvelopeQueues:
    """``Queues.send_envelopes``: records the envelopes it is given (what would reach SQS)."""

    def __init__(self) -> None:
        self.sent: list = []

    def send_envelopes(self, envelopes):
        self.sent += envelopes
        return [str(e.id) for e in envelopes]


def url_event(body: str | bytes, *, key: str = KEY, source_ip: str = "192.0.2.1", base64_body: bool = False) -> dict:
    """A Function URL event as Lambda hands it over: a body that is not UTF-8 comes base64-encoded."""
    if isinstance(body, bytes):
        body, base64_body = base64.b64encode(body).decode(), True
    path = f"/e/{key}"
    return {
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": "",
        "headers": {"content-type": "application/json"},
        "requestContext": {"accountId": "anonymous", "apiId": "x", "domainName": "x.lambda-url.aws",
                           "domainPrefix": "x", "requestId": "r", "routeKey": "$default", "stage": "$default",
                           "time": "01/Jan/2026:00:00:00 +0000", "timeEpoch": 0,
                           "http": {"method": "POST", "path": path, "protocol": "HTTP/1.1",
                                    "sourceIp": source_ip, "userAgent": "test"}},
        "body": body, "isBase64Encoded": base64_body,
    }


def api(**settings) -> tuple[EventApi, EnvelopeQueues]:
    queues = EnvelopeQueues()
    return EventApi(clients(queues=queues, **{"event_keys": (KEY,), **settings})), queues


def post(event_api: EventApi, body: object, **options) -> tuple[int, dict]:
    text = body if isinstance(body, str | bytes) else json.dumps(body)
    response = event_api.handle(url_event(text, **options), None)
    return response["statusCode"], json.loads(response["body"])


# -- 1. keys: no fallback to the public key ------------------------------------------------------------------

@pytest.mark.parametrize("configured", [None, "", " , ", "short-key", "short-1, short-2"])
def test_no_usable_key_stops_the_api_with_a_clear_error(configured):
    env = {"DATABASE_URL": "postgresql://x"}
    if configured is not None:
        env["CONTRIBSYNC_EVENT_KEYS"] = configured
    settings = Settings.from_env(env)
    assert LOCAL_EVENT_KEY not in settings.event_keys  # no fallback to the public key
    event_api = EventApi(clients(queues=EnvelopeQueues(), event_keys=settings.event_keys))
    with pytest.raises(ConfigurationError) as raised:
        event_api.handle(url_event("{}", key=LOCAL_EVENT_KEY, source_ip="127.0.0.1"), None)
    assert "CONTRIBSYNC_EVENT_KEYS" in str(raised.value) and f"{MIN_EVENT_KEY_LENGTH} characters" in str(raised.value)


def test_a_key_shorter_than_20_characters_is_never_accepted_beside_a_long_one():
    event_api, queues = api(event_keys=("short-key", KEY))
    event = {"name": "capture/commits.analyze", "data": {}}
    assert post(event_api, event, key="short-key")[0] == 401
    assert post(event_api, event, key=KEY)[0] == 200
    assert len(queues.sent) == 1


def test_the_public_key_is_the_local_stacks_alone_and_only_from_loopback():
    event = {"name": "capture/commits.analyze", "data": {}}
    local, _ = api(event_keys=(), local_stack=True)
    assert post(local, event, key=LOCAL_EVENT_KEY, source_ip="127.0.0.1")[0] == 200
    assert post(local, event, key=LOCAL_EVENT_KEY, source_ip="::1")[0] == 200
    assert post(local, event, key=LOCAL_EVENT_KEY, source_ip="192.168.1.20")[0] == 401
    assert post(local, event, key=LOCAL_EVENT_KEY, source_ip="not-an-address")[0] == 401
    deployed, _ = api(event_keys=(KEY, LOCAL_EVENT_KEY))  # even configured, it is too short to count
    assert post(deployed, event, key=LOCAL_EVENT_KEY, source_ip="127.0.0.1")[0] == 401
    assert post(deployed, event, key=KEY)[0] == 200


def test_the_local_stack_flag_is_refused_on_lambda_and_only_1_sets_it():
    base = {"DATABASE_URL": "postgresql://x"}
    assert Settings.from_env(base | {LOCAL_STACK_ENV: "1"}).local_stack
    assert not Settings.from_env(base | {LOCAL_STACK_ENV: "true"}).local_stack
    assert not Settings.from_env(base).local_stack
    with pytest.raises(ConfigurationError, match=LOCAL_STACK_ENV):
        Settings.from_env(base | {LOCAL_STACK_ENV: "1", "AWS_LAMBDA_FUNCTION_NAME": "stack-EventApiFunction"})


def test_no_deployed_function_can_set_the_local_stack_flag():
    assert LOCAL_STACK_ENV not in (ROOT / "template.yaml").read_text()
    assert LOCAL_STACK_ENV not in (ROOT / "devtools" / "gen_template.py").read_text()


# -- 2. which events senders may post -------------------------------------------------------------------------

def test_every_name_contributor_infos_senders_send_is_sendable_and_cancel_function_too():
    names = {sent["name"] for sent in SENDERS} | {"cancel/function"}
    assert [name for name in sorted(names) if not catalog.sendable(name)] == []


def test_each_of_contributor_infos_sender_events_is_accepted():
    event_api, queues = api()
    status, answer = post(event_api, [{"name": s["name"], "data": s["data"]} for s in SENDERS])
    assert status == 200 and "errors" not in answer, answer.get("errors")
    assert len(queues.sent) == len(SENDERS)


INTERNAL = ["reconcile/webhook-deliveries", "webhook/pull_request", "webhook/pull_request_review", "webhook/issues",
            "webhook/discussion", "webhook/repository", "webhook/installation", "cleanup/workspace-metrics",
            "sync/discussions-cron", "scheduled/workspace-aggregation", "sync/workspace-priorities"]


@pytest.mark.parametrize("name", INTERNAL)
def test_internal_and_destructive_events_are_refused_with_403_and_never_queued(name):
    event_api, queues = api()
    data = {"deliveryId": "d", "event": "pull_request"} if name.startswith("webhook/") else {}
    status, answer = post(event_api, {"name": name, "data": data})
    assert status == 403, answer
    assert answer["errors"][0]["status"] == 403 and "internal" in answer["error"]
    assert queues.sent == []
    assert not catalog.sendable(name)


def test_a_refused_internal_event_never_refuses_the_others_of_a_list():
    event_api, queues = api()
    status, answer = post(event_api, [{"name": "cleanup/workspace-metrics", "data": {"retentionDays": 30}},
                                      {"name": "classify/repository.single", "data": {"repositoryId": REPO_ID}}])
    assert status == 200
    assert answer["ids"][0] is None and answer["ids"][1]
    assert answer["errors"] == [{"index": 0, "status": 403, "error": answer["errors"][0]["error"]}]
    assert [e.name for e in queues.sent] == ["classify/repository.single"]


@pytest.mark.parametrize(("data", "status"), [
    ({"event": "capture/repository.sync", "reason": "user_requested"}, 200),
    ({"event": "github/repository.sync"}, 200),
    ({"function": "CapturePrDetails", "match": {"prNumber": 1}}, 200),
    ({"function": "ApplyRepositoryWebhook"}, 200),  # it runs contributor.info's github.app.* events too
    ({"event": "reconcile/webhook-deliveries", "reason": "user_requested"}, 403),
    ({"event": "webhook/pull_request"}, 403),
    ({"function": "ApplyPullRequestWebhook"}, 403),
    ({"function": "CleanupWorkspaceMetrics"}, 403),
    ({"event": "no/such-event"}, 400),  # was accepted, then dead-lettered by the cancel function
    ({"function": "NoSuchFunction"}, 400),
    ({}, 400),
])
def test_a_cancel_function_may_target_only_what_senders_may_post(data, status):
    event_api, queues = api()
    assert post(event_api, {"name": "cancel/function", "data": data})[0] == status
    assert len(queues.sent) == (status == 200)


def test_a_name_no_function_handles_is_still_accepted_as_inngest_does():
    event_api, queues = api()
    assert post(event_api, {"name": "app/user.signed-up", "data": {"id": 1}})[0] == 200
    assert catalog.route(queues.sent[0].name).function == "NoFunction"


def test_the_readme_names_every_event_the_api_refuses():
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("  - **Sendable events.**"):readme.index("  - **Statuses.**")]
    refused = [n for n in catalog.names() if not catalog.sendable(n)]
    assert [n for n in refused if not n.startswith("webhook/") and f"`{n}`" not in section] == []
    assert all(not catalog.sendable(n) for n in catalog.names() if n.startswith("webhook/"))


def test_the_catalogs_sendable_names_are_names_of_their_own_event():
    for event in catalog.EVENTS:
        assert set(event.sendable_names) <= set(event.all_names), event.function
    assert "webhook/repository" not in catalog.resolve("webhook/repository").sendable_names
    assert catalog.sendable("github.app.installed")


# -- 3. retention has a floor ---------------------------------------------------------------------------------

def test_a_cleanup_retention_below_30_days_is_refused_by_its_model():
    from pydantic import ValidationError

    from contribsync.payloads import MIN_METRICS_RETENTION_DAYS, CleanupWorkspaceMetrics

    assert MIN_METRICS_RETENTION_DAYS == 30  # contributor.info's shortest data_retention_days
    for days in (1, 29):
        with pytest.raises(ValidationError):
            CleanupWorkspaceMetrics.model_validate({"retentionDays": days})
    assert CleanupWorkspaceMetrics.model_validate({"retentionDays": 30}).retention_days == 30


def test_the_templates_retention_parameter_has_the_same_floor():
    from contribsync.payloads import MIN_METRICS_RETENTION_DAYS

    template = yaml.safe_load((ROOT / "template.yaml").read_text())
    assert template["Parameters"]["MetricsRetentionDays"]["MinValue"] == MIN_METRICS_RETENTION_DAYS


# -- 4. bad input gets 400, never a raise ---------------------------------------------------------------------

@pytest.mark.parametrize(("body", "error"), [
    (b'{"name": "capture/commits.analyze", "data": {"x": "\xff\xfe"}}', "not UTF-8"),  # invalid UTF-8
    (b"\x80" * 100, "not UTF-8"),
    ("[" * 10_000 + "]" * 10_000, "not JSON"),  # json.loads: RecursionError
    ('{"name": "x", "data": ' + '{"a": ' * 10_000 + "1" + "}" * 10_000 + "}", "not JSON"),
    ('{"name": "x", "data": {"n": ' + "9" * 5000 + "}}", "not JSON"),  # past int's digit limit
    ("", "not JSON"),
    ("[]", "an event object or a list"),
], ids=["invalid-utf8-in-json", "invalid-utf8", "10000-deep-list", "10000-deep-data", "5000-digit-int", "empty",
        "empty-list"])
def test_a_body_that_is_not_utf8_json_is_400(body, error):
    event_api, queues = api()
    status, answer = post(event_api, body)
    assert status == 400 and error in answer["error"], answer
    assert queues.sent == []


def test_a_base64_body_that_is_not_base64_is_400():
    event_api, queues = api()
    response = event_api.handle(url_event("not base64!!", base64_body=True), None)
    assert response["statusCode"] == 400 and queues.sent == []


@pytest.mark.parametrize("data", [
    '{"a": ' * 300 + "1" + "}" * 300,  # parses, but nests deeper than the event can be written as JSON
    '{"note": "a\\u0000b"}',  # a NUL: the run history could not record it
    '{"note": "\\ud800"}',  # an unpaired surrogate
    '{"\\u0000": 1}',
], ids=["300-deep", "nul", "unpaired-surrogate", "nul-key"])
def test_an_event_that_could_never_be_sent_or_recorded_is_400(data):
    event_api, queues = api()
    body = '[{"name": "capture/commits.analyze", "data": ' + data + "}]"
    status, answer = post(event_api, body)
    assert status == 400 and answer["errors"][0]["status"] == 400, answer
    assert queues.sent == []


# -- 5. names checked at the door -----------------------------------------------------------------------------

BAD_NAMES = [
    ("capture/repository.sync", {"owner": "o\x00", "repo": "r"}),
    ("capture/repository.sync", {"owner": "-o", "repo": "r"}),
    ("capture/repository.sync", {"owner": "o--o", "repo": "r"}),
    ("capture/repository.sync", {"owner": "o" * 40, "repo": "r"}),
    ("capture/repository.sync", {"owner": "o", "repo": ".."}),
    ("capture/repository.sync", {"owner": "o", "repo": "r/../../x"}),
    ("capture/repository.sync", {"owner": "o", "repo": "r" * 101}),
    ("capture/repository.sync", {"repository": {"owner": "o", "name": "r?x=1"}}),
    ("capture/pr.details", {"repository": {"owner": "o_o", "name": "r"}, "prNumber": 1}),
    ("discover/repository.new", {"owner": "o", "repo": "."}),
    ("github.repository.app_enabled", {"installation_id": 1, "repository_name": "o/r/x"}),
    ("classify/repository.single", {"repositoryId": REPO_ID, "owner": "ö", "repo": "r"}),
    ("capture/repository.issues", {"repositoryId": REPO_ID, "repositoryName": "o\x00/r"}),
    ("capture/commits.analyze", {"repositoryName": "no-slash"}),
    ("github.app.installed", {"installation_id": 1, "account": "has space"}),
]


@pytest.mark.parametrize(("name", "data"), BAD_NAMES, ids=lambda v: v if isinstance(v, str) else None)
def test_a_name_github_would_never_give_is_refused_at_the_door(name, data):
    event_api, queues = api()
    status, answer = post(event_api, {"name": name, "data": data})
    assert status == 400, answer
    assert queues.sent == []


@pytest.mark.parametrize(("owner", "repo"), [
    ("o", "r"), ("a-b-c", "repo.name_with-all"), ("A1", ".github"), ("x" * 39, "r" * 100),
    ("simorg", "repo-0"), ("octo", "..."),
])
def test_names_github_gives_are_accepted(owner, repo):
    event_api, queues = api()
    assert post(event_api, {"name": "capture/repository.sync", "data": {"owner": owner, "repo": repo}})[0] == 200
    assert post(event_api, {"name": "discover/new-repository", "data": {"owner": owner, "repo": repo}})[0] == 200
    assert post(event_api, {"name": "github.repository.app_enabled",
                            "data": {"installation_id": 1, "repository_name": f"{owner}/{repo}"}})[0] == 200
    assert len(queues.sent) == 3

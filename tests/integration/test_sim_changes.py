"""Change mode: every change yields signed deliveries shaped like GitHub's (octokit's webhook schema), the
API then serves the changed data, and the sender duplicates and reorders into the real webhook receiver.
"""

from __future__ import annotations

import json
from functools import cache

import httpx
import jsonschema
import pytest

from contribsync.webhook_receiver import WebhookReceiver, verify
from contribsync_local.http import LocalHttp
from contribsync_sim.changes import KINDS, ChangeFeed, WebhookSender
from contribsync_sim.dataset import generate
from contribsync_sim.graphql_api import GraphQLApi
from contribsync_sim.rest_api import RestApi
from contribsync_sim.server import SimulatorApp, SimulatorServer
from tests.fakes import RecordingQueues, clients
from tests.fixtures import WEBHOOKS

pytestmark = pytest.mark.integration

SCHEMA = WEBHOOKS / "schema.json"


@cache
def validator(event: str, action: str | None) -> jsonschema.Draft7Validator:
    schema = json.loads(SCHEMA.read_text())
    definition = schema["definitions"][f"{event}${action}" if action else f"{event}_event"]
    return jsonschema.Draft7Validator({**definition, "definitions": schema["definitions"]})


@pytest.fixture
def sim():
    ds = generate(31, repos=2, prs_per_repo=40)
    app = SimulatorApp(graphql=GraphQLApi(ds), rest=RestApi(ds))
    server = SimulatorServer(app).start()
    yield ds, server
    server.stop()


@pytest.mark.parametrize("kind", KINDS)
def test_each_change_is_delivered_signed_and_shaped_like_github(sim, kind):
    ds, server = sim
    feed = ChangeFeed(ds, api=server.url, secret="change-secret", seed=3, lock=server.app.data_lock)
    deliveries = feed.step(kind)
    assert deliveries
    for d in deliveries:
        errors = [f"{list(e.absolute_path)}: {e.message[:160]}" for e in validator(d.event, d.action).iter_errors(
            d.payload)]
        assert errors == [], (d.event, d.action, errors[:5])
        assert verify(("change-secret",), d.body, d.headers["X-Hub-Signature-256"])
        assert not verify(("other",), d.body, d.headers["X-Hub-Signature-256"])
        assert d.headers["X-GitHub-Event"] == d.event
        assert d.payload["repository"]["url"].startswith(server.url)


def test_the_api_serves_what_the_webhook_announced(sim):
    ds, server = sim
    feed = ChangeFeed(ds, api=server.url, secret="s", seed=4, lock=server.app.data_lock)
    opened = feed.step("open_pr")[0].payload["pull_request"]
    repo = opened["base"]["repo"]["full_name"]
    with httpx.Client(base_url=server.url) as http:
        rest = http.get(f"/repos/{repo}/pulls/{opened['number']}").json()
        assert (rest["id"], rest["title"], rest["state"], rest["created_at"]) == (
            opened["id"], opened["title"], "open", opened["created_at"])
        edited = None
        for _ in range(20):
            payloads = [d.payload for d in feed.step("edit_pr")]
            if payloads[0]["action"] == "edited" and payloads[0]["repository"]["full_name"] == repo:
                edited = payloads[0]
                break
        assert edited is not None
        after = http.get(f"/repos/{repo}/pulls/{edited['number']}").json()
        assert after["title"] == edited["pull_request"]["title"] != edited["changes"]["title"]["from"]
        assert after["updated_at"] == edited["pull_request"]["updated_at"]
        removed = next(d for d in feed.step("delete_comment")).payload
        listed = http.get(f"/repos/{removed['repository']['full_name']}/issues/{removed['issue']['number']}"
                          "/comments", params={"per_page": 100}).json()
        assert removed["comment"]["id"] not in [c["id"] for c in listed]


def test_duplicated_and_reordered_deliveries_reach_the_receiver_once_each(sim, db):
    ds, server = sim
    receiver = WebhookReceiver(clients(db, RecordingQueues(), webhook_secrets=("change-secret",)))
    http = LocalHttp(event_api=lambda event, context: {"statusCode": 404}, webhook=receiver.handle, port=0)
    http.start()
    try:
        feed = ChangeFeed(ds, api=server.url, secret="change-secret", seed=5, lock=server.app.data_lock)
        sender = WebhookSender(f"{http.url}/webhook", duplicate=0.3, reorder=4, seed=6)
        produced = []
        for _ in range(30):
            batch = feed.step()
            produced += batch
            sender.send(batch)
        sender.flush()
    finally:
        http.stop()
    result = sender.result
    assert result.failures == []
    assert result.duplicates > 0
    assert result.sent == len(produced) + result.duplicates
    assert result.statuses == {202: result.sent}
    ids = [d.id for d in produced]
    arrival = db.connection().execute("SELECT delivery_id AS id FROM webhook_deliveries WHERE delivery_id = ANY(%s)"
                                      " ORDER BY received_at, delivery_id", (ids,)).fetchall()
    assert sorted(r["id"] for r in arrival) == sorted(ids)  # each stored once, none lost
    assert [r["id"] for r in arrival] != [d.id for d in produced]  # reordered on the way

"""A delivery refused for its size, taken from GitHub's delivery log: the receiver's own path (stored once,
only its id queued), a sync instead when it cannot be taken, and a retried run when storing fails."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest

from contribsync import catalog
from contribsync.errors import NotFound, StoreError
from contribsync.runtime import RunContext
from contribsync.services.refused_delivery import recover_refused
from tests.fakes import RecordingQueues, clients

GUID = "72d3162e-cc78-11e3-81ab-4c9367dc0958"
LOG = "/app/hook/deliveries"


class Store:
    """The two statements the intake runs; ``refuse`` makes the insert fail as a database error would."""

    def __init__(self, *, refuse: bool = False, stored: set[str] | None = None) -> None:
        self.refuse = refuse
        self.stored = stored if stored is not None else set()
        self.inserted: list[dict[str, Any]] = []
        self.unsent: list[str] = []

    def query_one(self, name: str, params: dict[str, Any]) -> dict[str, Any] | None:
        assert name == "webhook_delivery_insert"
        if self.refuse:
            raise StoreError("connection lost")
        self.inserted.append(params)
        if params["delivery_id"] in self.stored:
            return None
        self.stored.add(params["delivery_id"])
        return {"delivery_id": params["delivery_id"]}

    def query(self, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        assert name == "webhook_delivery_unsent"
        self.unsent.append(params["delivery_id"])
        return []


class DeliveryLog:
    """GitHub's ``GET .../deliveries/{id}``: ``details`` by path; a missing path is GitHub's 404."""

    def __init__(self, details: dict[str, Any]) -> None:
        self.details = details
        self.asked: list[tuple[str, bool]] = []

    def get(self, path: str, params: Any = None, *, conditional: bool = True) -> SimpleNamespace:
        self.asked.append((path, conditional))
        if path not in self.details:
            raise NotFound(f"GET {path}: 404")
        return SimpleNamespace(json=self.details[path], headers={})


def detail(payload: Any, **headers: str) -> dict[str, Any]:
    return {"id": 7, "guid": GUID, "event": "pull_request", "status_code": 413,
            "request": {"headers": {"X-GitHub-Delivery": GUID, "X-GitHub-Event": "pull_request",
                                    "X-GitHub-Hook-Installation-Target-ID": "99", **headers},
                        "payload": payload}}


PAYLOAD = {"action": "edited", "number": 3, "pull_request": {"id": 11, "body": "x" * 1000},
           "repository": {"id": 99, "full_name": "octo/hello"}}


def run(details: dict[str, Any], *, store: Store | None = None, queues: RecordingQueues | None = None,
        refused: dict[str, int] | None = None) -> tuple[set[str], Store, RecordingQueues, DeliveryLog]:
    store = store or Store()
    queues = queues or RecordingQueues()
    github = DeliveryLog(details)
    ctx = RunContext.outside_a_run(clients(store, queues, github=github),
                                   catalog.resolve("reconcile/webhook-deliveries"))
    return recover_refused(ctx, LOG, refused or {GUID: 7}, hook="app"), store, queues, github


def test_a_refused_delivery_is_stored_under_its_guid_and_only_its_id_is_queued():
    unusable, store, queues, github = run({f"{LOG}/7": detail(PAYLOAD)})
    assert unusable == set()
    assert github.asked == [(f"{LOG}/7", False)]  # read once, never kept in the ETag cache
    [row] = store.inserted
    assert (row["delivery_id"], row["event"], row["action"], row["repository_github_id"],
            row["installation_target_id"], row["status"]) == (GUID, "pull_request", "edited", 99, 99, "queued")
    assert json.loads(row["payload"]) == PAYLOAD
    assert queues.sent == [("webhook/pull_request", {"deliveryId": GUID, "event": "pull_request", "action": "edited",
                                                     "repositoryGithubId": 99}, f"webhook:{GUID}")]


def test_one_already_stored_is_not_queued_again():
    unusable, _, queues, _ = run({f"{LOG}/7": detail(PAYLOAD)}, store=Store(stored={GUID}))
    assert unusable == set()
    assert queues.sent == []


def test_the_logs_guid_names_the_delivery_and_its_event_fills_a_missing_header():
    logged = detail(PAYLOAD)
    logged["request"]["headers"] = {"X-GitHub-Delivery": "something-else"}
    unusable, store, _, _ = run({f"{LOG}/7": logged})
    assert unusable == set()
    assert (store.inserted[0]["delivery_id"], store.inserted[0]["event"]) == (GUID, "pull_request")


@pytest.mark.parametrize("logged", [
    None,  # gone from GitHub's log: 404
    detail(None),  # GitHub kept no payload
    detail(["not", "an", "object"]),
    detail({**PAYLOAD, "title": "\ud800"}),  # an unpaired surrogate: jsonb refuses it, so the receiver does
    {**detail(PAYLOAD), "event": None, "request": {"headers": {}, "payload": PAYLOAD}},  # no event at all
], ids=["gone", "no-payload", "not-an-object", "unpaired-surrogate", "no-event"])
def test_one_that_cannot_be_taken_is_left_to_a_sync(logged):
    unusable, store, queues, _ = run({} if logged is None else {f"{LOG}/7": logged})
    assert unusable == {GUID}
    assert (store.inserted, queues.sent) == ([], [])


def test_a_store_or_queue_failure_fails_the_run_so_its_retry_reads_the_log_again():
    with pytest.raises(StoreError, match="not stored"):
        run({f"{LOG}/7": detail(PAYLOAD)}, store=Store(refuse=True))
    store = Store()
    with pytest.raises(StoreError, match="not queued"):
        run({f"{LOG}/7": detail(PAYLOAD)}, store=store, queues=RecordingQueues(refuse=True))
    assert store.unsent == [GUID]  # as the receiver leaves it: a retry claims the row again

"""The event catalog: names, aliases, routing and the configuration contributor.info documents."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest

from contribsync import catalog
from contribsync.errors import UnknownEvent

DESIGN_TABLE = {  # the design's event table: event → aliases in contributor.info's code
    "capture/repository.sync": {"capture/repository.sync.graphql", "github/repository.sync"},
    "capture/repository.sync-enhanced": {"capture/repository.sync.enhanced"},
    "capture/pr.details": {"capture/pr.details.graphql"},
    "capture/pr.reviews": set(),
    "capture/pr.comments": set(),
    "capture/repository.issues": set(),
    "capture/issue.comments": set(),
    "capture/repository.discussions": set(),
    "sync/discussions-cron": set(),
    "classify/repository.size": {"capture/repository.classify.batch"},
    "classify/single-repository": {"classify/repository.single"},
    "discover/new-repository": {"discover/repository.new", "capture/repository.discover"},
    "aggregate/workspace-metrics": {"workspace/aggregate", "workspace.metrics.aggregate"},
    "scheduled/workspace-aggregation": {"workspace.metrics.aggregate.scheduled"},
    "workspace/repository-change": {"workspace.repository.changed"},
    "cleanup/workspace-metrics": set(),
    "sync/workspace-priorities": {"workspace/priorities.sync"},
    "embeddings/process.workspace": {"embeddings/compute.requested"},
    "cancel/function": set(),
}


@pytest.mark.parametrize(("name", "aliases"), sorted(DESIGN_TABLE.items()))
def test_every_design_event_and_alias_routes_to_one_function(name, aliases):
    event = catalog.resolve(name)
    assert event.name == name
    assert set(event.aliases) >= aliases
    for alias in aliases:
        assert catalog.resolve(alias) is event


def test_unknown_names_raise_a_non_retriable_error():
    with pytest.raises(UnknownEvent, match="no/such"):
        catalog.resolve("no/such")


def test_one_queue_per_function_and_names_fit_sqs():
    queues = [e.queue for e in catalog.EVENTS]
    assert len(queues) == len(set(queues))
    for event in catalog.EVENTS:
        assert re.fullmatch(r"[a-z0-9-]{1,60}", event.dlq), event.dlq
        assert event.max_receive_count == event.retries + 1
        assert event.visibility_timeout_s >= 6 * event.timeout_s


def test_discussions_config_is_exactly_as_documented():
    event = catalog.resolve("capture/repository.discussions")
    assert event.retries == 2
    assert event.concurrency == catalog.Limit(2, "repository_key")
    assert event.throttle == catalog.Throttle(20, 60)


@pytest.mark.parametrize(("cron", "aws"), [
    ("0 */12 * * *", "cron(0 */12 * * ? *)"),
    ("0 0 * * *", "cron(0 0 * * ? *)"),
    ("0 3 * * 0", "cron(0 3 ? * 1 *)"),     # Sunday is 0 in cron, 1 in EventBridge
    ("30 6 * * 1,5", "cron(30 6 ? * 2,6 *)"),
    ("0 9 * * 1-5", "cron(0 9 ? * 2-6 *)"),  # ranges shift too
])
def test_cron_expressions_convert_to_eventbridge_form(cron, aws):
    event = catalog.Event("x/y", catalog.EVENTS[0].model, "X", None, schedule=cron)
    assert event.aws_schedule() == aws


def test_the_documented_crons_are_declared():
    schedules = {e.name: e.schedule for e in catalog.EVENTS if e.schedule}
    assert schedules["scheduled/workspace-aggregation"] == "0 0 * * *"
    assert schedules["sync/discussions-cron"] == "0 */12 * * *"
    assert schedules["reconcile/webhook-deliveries"] == "0 * * * *"
    assert schedules["cleanup/workspace-metrics"].endswith("* * 0")  # weekly


def test_feeds_name_real_events():
    for event in catalog.EVENTS:
        for target in event.feeds:
            catalog.resolve(target)


def test_the_readme_lists_every_function_and_event():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    rows = {line.split(" | ")[1]: line for line in readme.splitlines() if line.startswith("| `")}
    for event in catalog.EVENTS:
        assert f"| {event.function} |" in readme, event.function
        assert f"`{event.name}`" in readme, event.name
        row = rows[event.function]
        assert row.endswith(f"| `{event.service}` |" if event.service else "| not yet (dead-letters) |"), row


def test_a_name_no_function_handles_routes_to_the_catch_all_only_for_the_event_api():
    from contribsync.queues import Queues

    assert catalog.route("capture/commits.analyze").function == "NoFunction"
    assert catalog.route("github/repository.sync").function == "CaptureRepositorySync"
    assert [e.function for e in catalog.EVENTS if e.catch_all] == ["NoFunction"]
    with pytest.raises(UnknownEvent):
        catalog.resolve("capture/commits.analyze")
    # contribsync's own senders and the CLI refuse it; the event API accepts it, as Inngest does
    with pytest.raises(UnknownEvent):
        Queues.validate({"name": "capture/commits.analyze", "data": {}})
    assert Queues.validate({"name": "capture/commits.analyze", "data": {}}, accept_unknown=True).name == (
        "capture/commits.analyze")


def test_folders_and_queues_split_function_names_into_the_same_words():
    assert catalog.folder_of("ClassifySingleRepository") == "classify_single_repository"
    assert catalog.folder_of("EventApi") == "event_api"  # a URL function: a folder, no event
    for event in catalog.EVENTS:
        assert event.folder == catalog.folder_of(event.function)
        assert event.queue == event.folder.replace("_", "-")


def test_a_cancel_needs_seed_001s_condition_unless_the_function_declares_its_own():
    sync = catalog.resolve("capture/repository.sync")
    assert sync.cancel_when == (("reason", "user_requested"),)
    assert sync.cancel_condition_met({"event": sync.name, "reason": "user_requested"})
    assert not sync.cancel_condition_met({"event": sync.name, "reason": "repo removed"})
    assert not sync.cancel_condition_met({"event": sync.name})
    own = dataclasses.replace(sync, cancel_when=(("reason", "budget"), ("scope", "all")))
    assert own.cancel_condition_met({"reason": "budget", "scope": "all"})
    assert not own.cancel_condition_met({"reason": "user_requested"})
    assert dataclasses.replace(sync, cancel_when=()).cancel_condition_met({})


def test_every_function_has_a_high_priority_queue_named_apart_from_every_other_queue():
    names = [q for e in catalog.EVENTS for q in (*e.queues, e.dlq)]
    assert len(names) == len(set(names))
    for event in catalog.EVENTS:
        assert event.queues == (event.queue, f"{event.queue}-high")
        assert re.fullmatch(r"[a-z0-9-]{1,60}", event.high_queue), event.high_queue
        # the runtime knows a record from the high queue by this ending of its queue's name
        assert not event.queue.endswith(catalog.HIGH_QUEUE_SUFFIX)
        assert not any(other.queue.endswith(f"-{event.high_queue}") for other in catalog.EVENTS)


@pytest.mark.parametrize(("data", "high"), [
    ({"priority": "high"}, True),
    ({"priority": "critical"}, True),  # contributor.info's manual syncs: above high
    ({"priority": "medium"}, False),
    ({"priority": "low"}, False),
    ({"priority": "normal"}, False),
    ({"priority": 100}, False),  # a workspace aggregation's tier order (lower first), not a priority class
    ({"priority": "HIGH"}, False),
    ({"priority": None}, False),
    ({}, False),
    (None, False),
])
def test_the_data_s_priority_chooses_the_queue(data, high):
    event = catalog.resolve("capture/pr.details")
    assert catalog.is_high_priority(data) is high
    assert event.queue_for(data) == (event.high_queue if high else event.queue)


def test_contributor_infos_high_and_critical_senders_reach_a_high_queue():
    from pathlib import Path

    sent = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "contributor-info" /
                       "sender-events.json").read_text())
    high = {e["name"] for e in sent if e["data"].get("priority") in ("high", "critical")}
    assert high >= {"capture/pr.details", "capture/repository.sync.graphql", "github/repository.sync",
                    "embedding/issue.generate"}
    for e in sent:
        queue = catalog.route(e["name"]).queue_for(e["data"])
        assert queue.endswith("-high") is (e["data"].get("priority") in ("high", "critical")), e["src"]


def test_a_high_queues_mapping_has_concurrency_of_its_own_within_a_global_limit():
    for event in catalog.EVENTS:
        limit = event.concurrency
        if limit is not None and limit.key is None:
            assert event.max_concurrency == max(2, limit.n)
            assert event.high_max_concurrency == min(catalog.HIGH_PRIORITY_CONCURRENCY, max(2, limit.n))
        else:
            assert event.max_concurrency is None
            assert event.high_max_concurrency == catalog.HIGH_PRIORITY_CONCURRENCY

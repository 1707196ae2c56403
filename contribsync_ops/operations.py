"""Operator controls over runs and queues: replay, redrive, cancel and status (the Inngest dashboard's).

- ``replay``: send a failed run's event again, with the same name and data, under the id
  ``replay:<run id>``. Replaying one run twice is harmless: once the replay completed, the runtime skips
  its id.
- ``redrive``: move a function's dead-lettered messages back to its queue, bodies unchanged (same event
  ids), without the runtime's bookkeeping attributes, so they get a fresh set of attempts. The one DLQ
  holds the dead letters of both of the function's queues: a message goes back to the queue its data
  asks for, the high-priority one for a high priority, as a sender's would. SQS's own
  StartMessageMoveTask would do this on AWS (to one queue only), but moto does not implement it, and a
  receive/send/delete loop behaves the same on both.
- ``cancel``: ``cancel/function`` for an event and a match.
- ``status``: queue (both of a function's queues, and the high-priority one alone) and DLQ depths, runs in
  flight, failures of the last hour and the last cron fires.
- ``run``: one run with everything recorded about it (a failure's traceback and step too) and every
  attempt of its event.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from contribsync import catalog
from contribsync.errors import ContribsyncError
from contribsync.history import RunHistory
from contribsync_ops import OPS_SQL

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from contribsync.db import Database
    from contribsync.queues import Queues

REDRIVE_BATCH = 10
FULL_ID_LENGTH = 36  # a UUID's text


def replay(db: Database, queues: Queues, *, run_id: str | None = None,
           failed_since: datetime | None = None) -> list[dict[str, Any]]:
    """Re-send one run's event (``run_id``), or every event whose final attempt failed since a time and
    that has not completed since. Returns what was sent, or why a run could not be."""
    if (run_id is None) == (failed_since is None):
        raise ValueError("give a run id or a time, not both")
    if run_id is not None:
        rows = db.query("runs_by_id", {"id": _full_run_id(db, run_id)})
        if not rows:
            raise ContribsyncError(f"no run {run_id} in the run history")
    else:
        rows = db.query("runs_failed_since", {"since": failed_since}, folder=OPS_SQL)
    out = []
    for run in rows:
        if run["event_name"] == "(unparsable)" or run["data"] is None:
            out.append({"runId": str(run["id"]), "skipped": "the message could not be parsed: nothing to replay"})
            continue
        event_id = queues.send_event(run["event_name"], dict(run["data"]), id=f"replay:{run['id']}")
        out.append({"runId": str(run["id"]), "function": run["function"], "event": run["event_name"],
                    "eventId": event_id})
    return out


def run(db: Database, run_id: str) -> dict[str, Any]:
    """One run (``run_id``, or its first characters as ``contribsync runs`` prints them) with everything
    recorded about it, and every attempt of its event under ``attempts``."""
    history = RunHistory(db)
    found = history.get(_full_run_id(db, run_id))
    if found is None:
        raise ContribsyncError(f"no run {run_id} in the run history")
    return {**found, "attempts": history.attempts(event_id=found["event_id"], function=found["function"])}


def _full_run_id(db: Database, run_id: str) -> str:
    """A run id, or a prefix of one as ``contribsync runs`` prints them (8 characters)."""
    if len(run_id) >= FULL_ID_LENGTH:
        return run_id
    matches = db.query("runs_by_id_prefix", {"prefix": run_id}, folder=OPS_SQL)
    if len(matches) > 1:
        raise ContribsyncError(f"run id {run_id} is ambiguous: give more of it")
    return str(matches[0]["id"]) if matches else run_id


def redrive(queues: Queues, function: str | None = None) -> dict[str, int]:
    """Move every message of the function's DLQ (or of every DLQ) back to its queue; counts by function."""
    events = [catalog.by_function(function)] if function else list(catalog.EVENTS)
    moved: dict[str, int] = {}
    for event in events:
        n = 0
        while True:
            messages = queues.sqs.receive_message(
                QueueUrl=queues.url(event.dlq), MaxNumberOfMessages=REDRIVE_BATCH, WaitTimeSeconds=0,
                VisibilityTimeout=60).get("Messages", [])
            if not messages:
                break
            for message in messages:
                # fresh attempts: no bookkeeping attributes
                queues.send_raw(_queue_of(event, message["Body"]), message["Body"])
                queues.sqs.delete_message(QueueUrl=queues.url(event.dlq), ReceiptHandle=message["ReceiptHandle"])
                n += 1
        if n:
            moved[event.function] = n
    return moved


def _queue_of(event: catalog.Event, body: str) -> str:
    """The queue a dead-lettered body goes back to: its data's priority decides, as for a sender; a body
    that is no event (it was dead-lettered as such) goes to the normal queue, to be rejected again."""
    try:
        raw = json.loads(body)
    except ValueError:
        return event.queue
    data = raw.get("data") if isinstance(raw, dict) else None
    return event.queue_for(data if isinstance(data, dict) else None)


def cancel(queues: Queues, event: str, match: Mapping[str, Any], reason: str | None = None) -> str:
    """Send ``cancel/function``: queued runs of ``event`` whose data contains ``match`` are skipped and
    running ones stop at their next checkpoint."""
    catalog.resolve(event)  # an unknown event fails here, not in the function
    return queues.send_event("cancel/function", {"event": event, "match": dict(match), "reason": reason})


def status(db: Database, queues: Queues, *, function: str | None = None) -> dict[str, Any]:
    """What an operator checks first: per function (every one, or only ``function``), its queues
    (visible, in flight, delayed: both queues together; ``highQueued``: visible in the high-priority one)
    and DLQ depths, runs in flight, failures of the last hour and its schedule's last fire."""
    runs = {r["function"]: r for r in db.query("runs_status", folder=OPS_SQL)}
    functions = []
    for event in [catalog.by_function(function)] if function else catalog.EVENTS:
        normal, high = _depths(queues, event.queue), _depths(queues, event.high_queue)
        queue = {k: normal[k] + high[k] for k in normal}
        dlq = _depths(queues, event.dlq)
        r = runs.get(event.function, {})
        functions.append({
            "function": event.function, "event": event.name, "queued": queue["visible"],
            "highQueued": high["visible"],
            "inFlight": queue["in_flight"], "delayed": queue["delayed"], "deadLettered": dlq["visible"],
            "running": r.get("running", 0), "failedLastHour": r.get("failed_last_hour", 0),
            "completedLastHour": r.get("completed_last_hour", 0), "lastRun": r.get("last_run"),
            "schedule": event.schedule, "lastCronFire": r.get("last_cron"),
        })
    return {"functions": functions,
            "totals": {k: sum(f[k] for f in functions) for k in ("queued", "highQueued", "inFlight", "delayed",
                                                                 "deadLettered", "running", "failedLastHour")}}


def _depths(queues: Queues, queue: str) -> dict[str, int]:
    attributes = queues.sqs.get_queue_attributes(QueueUrl=queues.url(queue), AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed"])["Attributes"]
    return {"visible": int(attributes.get("ApproximateNumberOfMessages", 0)),
            "in_flight": int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
            "delayed": int(attributes.get("ApproximateNumberOfMessagesDelayed", 0))}


__all__ = ["cancel", "redrive", "replay", "run", "status"]

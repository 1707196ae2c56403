"""The run history: one row per attempt of an event on a function (the Inngest dashboard's data).

A run that ended otherwise than completed keeps why (``contribsync.runtime.failure.Failure``): its error's
type and message (``error_type``, ``error``) and, for a failed or retried run, the trimmed traceback of
our own frames (``error_traceback``) and the step it failed at (``error_step``).
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import datetime

    from contribsync.db import Database
    from contribsync.runtime.failure import Failure

# Statuses a run row can have: running, completed, failed, retrying, deferred, cancelled, skipped.
# The progressive_capture_jobs status a run's status moves its job to (the others leave it).
_JOB_STATUS = {"running": "processing", "completed": "completed", "failed": "failed", "cancelled": "cancelled"}
# The statuses of a run whose service raised: it failed for good, or will be retried.
FAILED_STATUSES = ("failed", "retrying")


def _json(value: object) -> str | None:
    return None if value is None else json.dumps(value, default=str)


def _failure(failure: Failure | None) -> dict[str, Any]:
    return {"error_type": failure.type if failure else None, "error": failure.message if failure else None,
            "error_traceback": failure.traceback if failure else None,
            "error_step": _json(failure.step) if failure else None}


class RunHistory:
    def __init__(self, db: Database) -> None:
        self.db = db

    def start(self, *, event_id: str, event_name: str, function: str, key: str | None, attempt: int,
              data: dict[str, Any], message_id: str | None, now: datetime) -> uuid.UUID:
        row = self.db.query_one("run_start", {
            "event_id": event_id, "event_name": event_name, "function": function, "concurrency_key": key,
            "attempt": attempt, "data": _json(data), "message_id": message_id, "now": now,
        })
        assert row is not None
        self._job(data, "running", now)
        return uuid.UUID(str(row["id"]))

    def finish(self, run_id: uuid.UUID, *, status: str, now: datetime, result: object = None,
               failure: Failure | None = None, next_attempt_at: datetime | None = None,
               dead_lettered: bool = False) -> None:
        row = self.db.query_one("run_finish", {
            "run_id": run_id, "status": status, "now": now, "result": _json(result), **_failure(failure),
            "next_attempt_at": next_attempt_at, "dead_lettered": dead_lettered,
        })
        self._job({"jobId": row["job_id"]} if row else None, status, now, failure)

    def record(self, *, event_id: str, event_name: str, function: str, key: str | None, attempt: int,
               status: str, data: dict[str, Any] | None, message_id: str | None, now: datetime,
               failure: Failure | None = None, next_attempt_at: datetime | None = None,
               dead_lettered: bool = False) -> uuid.UUID:
        """A run that ended before it started: invalid, throttled, over its limit, or cancelled."""
        row = self.db.query_one("run_record", {
            "event_id": event_id, "event_name": event_name, "function": function, "concurrency_key": key,
            "attempt": attempt, "status": status, "data": _json(data), "message_id": message_id,
            "now": now, **_failure(failure), "next_attempt_at": next_attempt_at, "dead_lettered": dead_lettered,
        })
        assert row is not None
        self._job(data, status, now, failure)
        return uuid.UUID(str(row["id"]))

    def dead_lettered(self, message_id: str) -> bool:
        """Whether a run of this SQS message already moved it to its DLQ."""
        row = self.db.query_one("run_dead_lettered", {"message_id": message_id})
        return bool(row and row["found"])

    def _job(self, data: Mapping[str, Any] | None, run_status: str, now: datetime,
             failure: Failure | None = None) -> None:
        """Move the ``progressive_capture_jobs`` row named by ``data.jobId`` (contributor.info's hybrid
        queue) with its run: ``processing`` when the run starts, ``completed``, ``failed`` or
        ``cancelled`` when it ends. Retries, deferrals and skipped copies leave it as it is; data
        without a job id, or with one that is not a uuid, names no row."""
        status = _JOB_STATUS.get(run_status)
        job_id = (data or {}).get("jobId")
        if status is None or job_id is None:
            return
        try:
            job = uuid.UUID(str(job_id))
        except ValueError:
            return
        self.db.query("capture_job_status", {"job_id": job, "status": status, "now": now,
                                             "error": failure.message if failure else None})

    def completed(self, *, event_id: str, function: str) -> bool:
        return self.db.query_one("run_completed", {"event_id": event_id, "function": function}) is not None

    def recent(self, *, function: str | None = None, status: str | Sequence[str] | None = None,
               limit: int = 50) -> list[dict[str, Any]]:
        """The newest runs, of one function and with one status (or any of several) when given."""
        statuses = [status] if isinstance(status, str) else list(status) if status is not None else None
        return self.db.query("runs_recent", {"function": function, "statuses": statuses, "limit": limit})

    def get(self, run_id: str) -> dict[str, Any] | None:
        """One run with everything recorded about it (None for an unknown id)."""
        return self.db.query_one("runs_by_id", {"id": run_id})

    def attempts(self, *, event_id: str, function: str) -> list[dict[str, Any]]:
        """Every attempt of one event on one function, oldest first."""
        return self.db.query("runs_of_event", {"event_id": event_id, "function": function})


__all__ = ["FAILED_STATUSES", "RunHistory"]

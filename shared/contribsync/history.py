"""The run history: one row per attempt of an event on a function (the Inngest dashboard's data)."""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from contribsync.db import Database

# Statuses a run row can have: running, completed, failed, retrying, deferred, cancelled, skipped.
# The progressive_capture_jobs status a run's status moves its job to (the others leave it).
_JOB_STATUS = {"running": "processing", "completed": "completed", "failed": "failed", "cancelled": "cancelled"}


def _json(value: object) -> str | None:
    return None if value is None else json.dumps(value, default=str)


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
               error: BaseException | None = None, next_attempt_at: datetime | None = None,
               dead_lettered: bool = False) -> None:
        row = self.db.query_one("run_finish", {
            "run_id": run_id, "status": status, "now": now, "result": _json(result),
            "error_type": type(error).__name__ if error else None,
            "error": str(error)[:4000] if error else None,
            "next_attempt_at": next_attempt_at, "dead_lettered": dead_lettered,
        })
        self._job({"jobId": row["job_id"]} if row else None, status, now, error)

    def record(self, *, event_id: str, event_name: str, function: str, key: str | None, attempt: int,
               status: str, data: dict[str, Any] | None, message_id: str | None, now: datetime,
               error: BaseException | None = None, next_attempt_at: datetime | None = None,
               dead_lettered: bool = False) -> uuid.UUID:
        """A run that ended before it started: invalid, throttled, over its limit, or cancelled."""
        row = self.db.query_one("run_record", {
            "event_id": event_id, "event_name": event_name, "function": function, "concurrency_key": key,
            "attempt": attempt, "status": status, "data": _json(data), "message_id": message_id,
            "now": now, "error_type": type(error).__name__ if error else None,
            "error": str(error)[:4000] if error else None, "next_attempt_at": next_attempt_at,
            "dead_lettered": dead_lettered,
        })
        assert row is not None
        self._job(data, status, now, error)
        return uuid.UUID(str(row["id"]))

    def dead_lettered(self, message_id: str) -> bool:
        """Whether a run of this SQS message already moved it to its DLQ."""
        row = self.db.query_one("run_dead_lettered", {"message_id": message_id})
        return bool(row and row["found"])

    def _job(self, data: Mapping[str, Any] | None, run_status: str, now: datetime,
             error: BaseException | None = None) -> None:
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
                                             "error": str(error)[:4000] if error else None})

    def completed(self, *, event_id: str, function: str) -> bool:
        return self.db.query_one("run_completed", {"event_id": event_id, "function": function}) is not None

    def recent(self, *, function: str | None = None, status: str | None = None,
               limit: int = 50) -> list[dict[str, Any]]:
        return self.db.query("runs_recent", {"function": function, "status": status, "limit": limit})

    def get(self, run_id: str) -> dict[str, Any] | None:
        """One run with everything recorded about it (None for an unknown id)."""
        return self.db.query_one("runs_by_id", {"id": run_id})

    def attempts(self, *, event_id: str, function: str) -> list[dict[str, Any]]:
        """Every attempt of one event on one function, oldest first."""
        return self.db.query("runs_of_event", {"event_id": event_id, "function": function})


__all__ = ["RunHistory"]

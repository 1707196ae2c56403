"""The operator dashboard ``contribsync dev`` serves: read-only, server-rendered HTML with no JavaScript
and no build step (Jinja templates in ``templates/dashboard/``, every value autoescaped).

It shows what ``contribsync status``, ``runs`` and ``dlq`` print, from the same sources
(``contribsync_ops.operations.status``, ``RunHistory``, ``Queues.dead_letters``, ``PostgresBudget.budgets``):

- ``/``: totals; per function its queued (both queues, and the high-priority one alone), in-flight,
  delayed and DLQ depths, runs in flight, failures and completions of the last hour, the last run, the
  schedule and its last fire; the GitHub budget; the recent failures (error, step, last frame of ours);
  the workspaces.
- ``/functions/<Function>`` (``?status=failed`` filters): the function's settings, its run history (a
  failure's step under its error) and the messages in its DLQ with the error each carries.
- ``/runs/<id>``: one run's error, the step it failed at and its traceback (our frames), data and result,
  and every attempt of its event.

GET (and HEAD) only: any other method is answered 405. ``?refresh=N`` reloads a page every N seconds.
Times are shown in UTC.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from botocore.exceptions import BotoCoreError, ClientError
from jinja2 import Environment, PackageLoader, StrictUndefined
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, RequestRedirect, Rule
from werkzeug.wrappers import Response

from contribsync import catalog
from contribsync.errors import ContribsyncError
from contribsync.github import PostgresBudget
from contribsync.history import RunHistory
from contribsync.runtime.failure import innermost_frame, shown_step, step_line
from contribsync_ops import OPS_SQL, operations

if TYPE_CHECKING:
    from uuid import UUID

    from werkzeug.wrappers import Request

    from contribsync.db import Database
    from contribsync.queues import Queues

STATUSES = ("running", "completed", "failed", "retrying", "deferred", "cancelled", "skipped")
RUN_LIMIT = 100  # rows of a function's run history
FAILURE_LIMIT = 10  # recent failures on the overview
DLQ_PEEK = 10  # SQS returns at most 10 messages per receive
SUMMARY_CHARS = 120
MAX_REFRESH_S = 3600


def when(value: datetime | None, *, zone: bool = True) -> str:
    """``2026-05-01 12:00:03 UTC`` (without `` UTC`` where a column's heading says so)."""
    if value is None:
        return ""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S" + (" UTC" if zone else ""))


def ago(value: datetime | None, now: datetime | None = None) -> str:
    """``12 s ago``, ``3 min ago``, ``in 2 h``: how far from now, roughly."""
    if value is None:
        return ""
    seconds = ((now or datetime.now(UTC)) - value).total_seconds()
    span = _span(abs(seconds))
    return "just now" if span == "0 s" else f"{span} ago" if seconds >= 0 else f"in {span}"


def _span(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{int(seconds // size)} {unit}"
    return f"{int(seconds)} s"


def duration(ms: int | None) -> str:
    """``340 ms``, ``2.4 s``, ``3 min 12 s``, ``1 h 5 min``."""
    if ms is None:
        return ""
    if ms < 1000:  # noqa: PLR2004
        return f"{ms} ms"
    seconds = ms / 1000
    if seconds < 60:  # noqa: PLR2004
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:  # noqa: PLR2004
        return f"{minutes} min {secs} s"
    return f"{minutes // 60} h {minutes % 60} min"


def summary(value: object, limit: int = SUMMARY_CHARS) -> str:
    """A value as one line of compact JSON, cut to ``limit`` characters."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, default=str, separators=(", ", ": "))
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def pretty(value: object) -> str:
    return json.dumps(value, default=str, indent=2, ensure_ascii=False)


def dead_letter_view(message: dict[str, Any]) -> dict[str, Any]:
    """A DLQ message with its event's name, id and data read from the body, when it is an event."""
    try:
        body = json.loads(message["body"])
    except ValueError:
        body = None
    event = body if isinstance(body, dict) else {}
    return {**message, "event_name": event.get("name"), "event_id": event.get("id"), "data": event.get("data")}


class Dashboard:
    """A WSGI-free handler: ``dashboard(request)`` returns the page's response (``LocalHttp`` routes to it)."""

    def __init__(self, db: Database, queues: Queues) -> None:
        self.db = db
        self.queues = queues
        self.history = RunHistory(db)
        self.env = Environment(loader=PackageLoader("contribsync_local", "templates/dashboard"), autoescape=True,
                               undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
        self.env.filters.update(when=when, ago=ago, duration=duration, summary=summary, pretty=pretty,
                                step_line=step_line, shown_step=shown_step,
                                innermost_frame=innermost_frame)
        self.env.globals.update(STATUSES=STATUSES)
        self.urls = Map([
            Rule("/", endpoint="overview", methods=["GET"]),
            Rule("/dashboard", endpoint="overview", methods=["GET"]),
            Rule("/functions/<name>", endpoint="function", methods=["GET"]),
            Rule("/runs/<uuid:run_id>", endpoint="run", methods=["GET"]),
        ])

    def __call__(self, request: Request) -> Response:
        adapter = self.urls.bind_to_environ(request.environ)
        try:
            endpoint, args = adapter.match()
            return self._html(request, getattr(self, f"_{endpoint}")(request, **args))
        except RequestRedirect as exc:
            return exc.get_response()
        except MethodNotAllowed as exc:
            response = self._error(request, 405, "Read-only",
                                   f"This dashboard only shows things: {request.method} is not accepted here. "
                                   "Use the contribsync CLI (replay, redrive, cancel) to change anything.")
            response.headers["Allow"] = ", ".join(sorted(exc.valid_methods or ["GET", "HEAD"]))
            return response
        except NotFound as exc:
            return self._error(request, 404, "Not found", exc.description or "No such page.")
        except HTTPException as exc:
            return self._error(request, exc.code or 500, exc.name, exc.description or "")
        except (ContribsyncError, BotoCoreError, ClientError) as exc:
            return self._error(request, 503, "Cannot read the stack", f"{type(exc).__name__}: {exc}")

    # -- pages ----------------------------------------------------------------------------------

    def _overview(self, request: Request) -> tuple[str, dict[str, Any]]:
        state = operations.status(self.db, self.queues)
        return "overview.html", {
            "functions": state["functions"], "totals": state["totals"],
            "budgets": PostgresBudget(self.db).budgets(),
            "failures": self.history.recent(status="failed", limit=FAILURE_LIMIT),
            "workspaces": self.db.query("workspaces_list", folder=OPS_SQL),
        }

    def _function(self, request: Request, name: str) -> tuple[str, dict[str, Any]]:
        try:
            event = catalog.by_function(name)
        except ContribsyncError as exc:
            raise NotFound(f"No function named {name!r} in the catalog.") from exc
        status = request.args.get("status")
        status = status if status in STATUSES else None
        runs = self.history.recent(function=name, status=status, limit=RUN_LIMIT)
        dead = [dead_letter_view(m) for m in self.queues.dead_letters(event.dlq, max_messages=DLQ_PEEK)]
        failed_runs = {str(r["event_id"]): r for r in reversed(runs) if r["dead_lettered"]}
        for message in dead:
            message["run"] = failed_runs.get(str(message["event_id"]))
        return "function.html", {
            "event": event, "row": operations.status(self.db, self.queues, function=name)["functions"][0],
            "runs": runs, "status": status, "dead_letters": dead, "run_limit": RUN_LIMIT,
            "dlq_url": self.queues.url(event.dlq),
        }

    def _run(self, request: Request, run_id: UUID) -> tuple[str, dict[str, Any]]:
        run = self.history.get(str(run_id))
        if run is None:
            raise NotFound(f"No run {run_id} in the run history.")
        return "run.html", {"run": run,
                            "attempts": self.history.attempts(event_id=run["event_id"], function=run["function"])}

    # -- rendering ------------------------------------------------------------------------------

    def _context(self, request: Request) -> dict[str, Any]:
        refresh = request.args.get("refresh", "")
        seconds = int(refresh) if refresh.isdigit() and 0 < int(refresh) <= MAX_REFRESH_S else None

        def here(**changes: object) -> str:
            """This page's address with some query arguments changed (None removes one)."""
            args = {k: v for k, v in request.args.items() if k not in changes}
            args.update({k: str(v) for k, v in changes.items() if v is not None})
            return request.path + (f"?{urlencode(args)}" if args else "")

        return {"now": datetime.now(UTC), "refresh": seconds, "here": here}

    def _html(self, request: Request, page: tuple[str, dict[str, Any]]) -> Response:
        template, context = page
        body = self.env.get_template(template).render(**self._context(request), **context)
        return Response(body, content_type="text/html; charset=utf-8",
                        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})

    def _error(self, request: Request, code: int, title: str, message: str) -> Response:
        body = self.env.get_template("error.html").render(**self._context(request), code=code, title=title,
                                                          message=message)
        return Response(body, status=code, content_type="text/html; charset=utf-8")


__all__ = ["Dashboard", "ago", "duration", "summary", "when"]

"""The database migrations as a CloudFormation custom resource (``Custom::DatabaseMigrations``).

CloudFormation sends the MigrateDatabase function a Create, Update or Delete request and waits for the
answer at the request's pre-signed ``ResponseURL`` (an S3 URL, answered with an HTTP PUT):
- Create and Update apply the migrations not applied yet (``contribsync.db.migrate``, under its advisory
  lock, so a CLI or a second deploy waits its turn) and answer SUCCESS with what was applied, or FAILED
  with the error's message (its secrets masked) as ``Reason``, so the deploy fails with it and rolls back;
- Delete answers SUCCESS and touches nothing: the data outlives the stack, and a database already gone
  must not block the stack's deletion.

The function must answer before its own timeout, or CloudFormation waits for nothing until the resource's
``ServiceTimeout``. So the migrations run in a worker thread, and when only ``margin_s`` of the
invocation's time is left, the running statement is cancelled (Postgres rolls its migration back), and
FAILED is answered. When the answer itself cannot be sent, the invocation raises: Lambda retries an
asynchronous invocation, and a second run applies nothing twice.
"""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.data_classes import CloudFormationCustomResourceEvent

from contribsync.db import migrate
from contribsync.observability import logger
from contribsync.runtime.failure import Masker

if TYPE_CHECKING:
    from collections.abc import Callable

    import httpx
    import psycopg
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from contribsync.clients import Clients
    from contribsync.db import Database

RESPONSE_LIMIT_BYTES = 4096  # CloudFormation refuses a custom resource response body over 4 KB
MARGIN_S = 15.0  # left of the invocation when the migrations are cancelled: the cancel, then the answer
CANCEL_WAIT_S = 5.0  # how long a cancelled migration gets to roll back before FAILED is answered
PUT_TIMEOUT_S = 5.0
ELLIPSIS = "..."


def fit_reason(body: dict[str, Any]) -> bytes:
    """The response as JSON, its ``Reason`` cut (marked with an ellipsis) so the whole stays within
    CloudFormation's limit: the longest prefix that fits, found by bisection (JSON escapes make a
    character cost 1 to 6 bytes)."""
    def encode(reason: str) -> bytes:
        return json.dumps({**body, "Reason": reason}).encode()

    reason = str(body.get("Reason", ""))
    if len(encoded := encode(reason)) <= RESPONSE_LIMIT_BYTES:
        return encoded
    fits, too_long = 0, len(reason)
    while too_long - fits > 1:
        middle = (fits + too_long) // 2
        fits, too_long = (middle, too_long) if len(encode(reason[:middle] + ELLIPSIS)) <= RESPONSE_LIMIT_BYTES \
            else (fits, middle)
    return encode(reason[:fits] + ELLIPSIS)


class _Run:
    """One migration run in a worker thread, with the connection it uses so that it can be cancelled."""

    def __init__(self, clients: Clients, apply: Callable[[Database], list[str]]) -> None:
        self.clients, self.apply = clients, apply
        self.connection: psycopg.Connection[Any] | None = None
        self.applied: list[str] = []
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="migrations", daemon=True)

    def _run(self) -> None:
        try:
            db = self.clients.db  # here: reading the settings or connecting may fail too, and is reported
            self.connection = db.connection()  # the worker's own: Database keeps one per thread
            self.applied = self.apply(db)
        except BaseException as exc:  # reported to CloudFormation, never lost with the thread
            self.error = exc

    def finish_within(self, seconds: float) -> None:
        self.thread.start()
        self.thread.join(max(0.0, seconds))
        if self.thread.is_alive():
            if self.connection is not None:
                self.connection.cancel_safe(timeout=CANCEL_WAIT_S)
            self.thread.join(CANCEL_WAIT_S)
            self.error = TimeoutError(f"the migrations did not finish in {seconds:.0f} s, the time the function had "
                                      f"left; cancelled ({self.error or 'still running'}). Run `contribsync db "
                                      "migrate` against the database, then deploy again")


class DatabaseMigrations:
    """Answers CloudFormation's requests for ``Custom::DatabaseMigrations`` with ``clients``' database.

    ``http`` sends the answer (an httpx client of its own by default); ``apply`` is ``db.migrate``."""

    def __init__(self, clients: Clients, *, http: httpx.Client | None = None,
                 apply: Callable[[Database], list[str]] = migrate, margin_s: float = MARGIN_S) -> None:
        import httpx  # here, not at the top: every handler imports the package, and only this one PUTs

        self.clients = clients
        # No library in the layer answers a custom resource: Powertools parses the request (its data
        # class) but has no response helper, and AWS's cfnresponse module exists only inside Lambda's
        # inline ZipFile code. The answer is one PUT of a JSON body, so httpx sends it.
        self.http = http or httpx.Client(timeout=PUT_TIMEOUT_S)
        self.apply = apply
        self.margin_s = margin_s

    def handle(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        request = CloudFormationCustomResourceEvent(event)
        physical_id = request.physical_resource_id or f"{request.logical_resource_id}-{_stack_name(request)}"
        status, reason = "SUCCESS", "nothing to do on Delete: the database is kept"
        data: dict[str, str] = {}
        if request.request_type != "Delete":
            status, reason, data = self._migrate(context.get_remaining_time_in_millis() / 1000 - self.margin_s)
        body = {"Status": status, "Reason": reason, "PhysicalResourceId": physical_id,
                "StackId": request.stack_id, "RequestId": request.request_id,
                "LogicalResourceId": request.logical_resource_id, "Data": data}
        import httpx

        log = {"request": request.request_type, "status": status, "stack": request.stack_id}
        try:
            # Content-Type empty, as the URL was signed without one (AWS's own cfnresponse sends it so).
            self.http.put(request.response_url, content=fit_reason(body),
                          headers={"Content-Type": ""}).raise_for_status()
        except httpx.HTTPError:
            logger.exception("CloudFormation could not be answered", extra=log)
            raise
        logger.info("CloudFormation answered", extra={**log, "reason": body["Reason"]})
        return body

    def _migrate(self, seconds: float) -> tuple[str, str, dict[str, str]]:
        run = _Run(self.clients, self.apply)
        run.finish_within(seconds)
        if run.error is not None:  # shown in the stack's events: masked like the run history's errors
            error = self._masker()(f"{type(run.error).__name__}: {run.error}")
            logger.error("migrations failed", extra={"error": error})
            return "FAILED", f"database migrations failed: {error}", {}
        applied = run.applied
        reason = f"applied {len(applied)} migration(s): {', '.join(applied)}" if applied else "the schema is current"
        return "SUCCESS", reason, {"Applied": str(len(applied)), "Last": applied[-1] if applied else ""}

    def _masker(self) -> Masker:
        """Masks the configured secrets (the database password among them) and credential shapes."""
        try:
            return Masker(self.clients.settings.secrets())
        except Exception:  # settings that cannot be read name no secret: the shapes are still masked
            return Masker()


def _stack_name(request: CloudFormationCustomResourceEvent) -> str:
    """``arn:aws:cloudformation:<region>:<account>:stack/<name>/<id>`` → ``<name>``."""
    parts = request.stack_id.split("/")
    return parts[1] if len(parts) > 2 else request.stack_id  # noqa: PLR2004 (stack/<name>/<id>)


__all__ = ["RESPONSE_LIMIT_BYTES", "DatabaseMigrations", "fit_reason"]

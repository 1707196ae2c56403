"""GitHub's webhook delivery log, and the REST endpoints over it.

GitHub records every attempt to deliver a webhook: the ``guid`` (the ``X-GitHub-Delivery`` id, which a
redelivery keeps), when, how long it took, and the receiver's answer: ``status`` is "OK" for a 2xx,
otherwise a short description such as "Invalid HTTP Response: 503" or "timed out", with ``status_code`` 0
when nothing answered. GitHub never redelivers a failed delivery by itself, and redelivers on request
only within three days. ``WebhookSender`` records into a ``DeliveryLog``; ``HookApi`` serves the log:

- ``GET /repos/{o}/{r}/hooks``: the one webhook (``HOOK_ID``), delivering to the sender's URL;
- ``GET /repos/{o}/{r}/hooks/{id}/deliveries`` and ``GET /app/hook/deliveries``: attempts newest first,
  ``per_page`` up to 100, and a ``Link: <...cursor=...>; rel="next"`` to older ones. A repository's hook
  lists that repository's deliveries only; the App hook lists all of them (here one hook stands for both);
- ``GET .../deliveries/{id}``: one attempt, with its ``request`` and ``response``;
- ``POST .../deliveries/{id}/attempts``: 202, then the sender delivers the same body and guid again in
  the background, logged as a new attempt with ``redelivery`` true; 422 past the redelivery window, 404
  for an id the hook does not have.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule

from contribsync_sim.changes import HOOK_ID
from contribsync_sim.graphql_api import iso

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from werkzeug.wrappers import Request

    from contribsync_sim.changes import Delivery, WebhookSender
    from contribsync_sim.dataset import Dataset, Repository
    from contribsync_sim.server import Answer

REDELIVERY_WINDOW = timedelta(days=3)
FIRST_ID = 10_000_000_001  # GitHub's delivery ids are large, increasing integers
DEFAULT_PER_PAGE = 30
MAX_PER_PAGE = 100
DOCS = "https://docs.github.com/rest/webhooks"
HOOK_EVENTS = ("issue_comment", "issues", "pull_request", "pull_request_review", "pull_request_review_comment")
_NOT_FOUND: Answer = (404, {"message": "Not Found", "documentation_url": DOCS, "status": "404"}, {}, 0, 1)


def describe(status_code: int) -> str:
    """GitHub's ``status`` for an answer with this code."""
    return "OK" if 200 <= status_code < 300 else f"Invalid HTTP Response: {status_code}"  # noqa: PLR2004


@dataclass
class Attempt:
    """One attempt to deliver ``delivery``, as GitHub logs it."""

    id: int
    delivery: Delivery
    delivered_at: datetime
    redelivery: bool
    duration: float
    status: str
    status_code: int
    repository_id: int | None
    installation_id: int | None
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: str | None = None

    @property
    def guid(self) -> str:
        return self.delivery.id

    def item(self) -> dict[str, Any]:
        """The list endpoints' shape (no request or response)."""
        return {"id": self.id, "guid": self.guid, "delivered_at": iso(self.delivered_at),
                "redelivery": self.redelivery, "duration": self.duration, "status": self.status,
                "status_code": self.status_code, "event": self.delivery.event, "action": self.delivery.action,
                "installation_id": self.installation_id, "repository_id": self.repository_id,
                "throttled_at": None}

    def detail(self, url: str) -> dict[str, Any]:
        return {**self.item(), "url": url,
                "request": {"headers": dict(self.delivery.headers), "payload": self.delivery.payload},
                "response": {"headers": dict(self.response_headers), "payload": self.response_body}}


class DeliveryLog:
    """Every delivery attempt, in the order made; safe to record into from several threads."""

    def __init__(self, *, clock: Callable[[], datetime] | None = None,
                 redelivery_window: timedelta = REDELIVERY_WINDOW) -> None:
        self.clock = clock or (lambda: datetime.now(UTC))
        self.redelivery_window = redelivery_window
        self._attempts: list[Attempt] = []
        self._ids = itertools.count(FIRST_ID)
        self._lock = threading.Lock()

    def record(self, delivery: Delivery, *, status_code: int, duration: float, status: str | None = None,
               redelivery: bool = False, response_headers: dict[str, str] | None = None,
               response_body: str | None = None) -> Attempt:
        """Log an attempt; ``status`` defaults to GitHub's description of ``status_code``."""
        payload = delivery.payload
        repository = payload.get("repository") or {}
        installation = payload.get("installation") or {}
        with self._lock:
            attempt = Attempt(next(self._ids), delivery, self.clock(), redelivery, round(duration, 3),
                              status or describe(status_code), status_code, repository.get("id"),
                              installation.get("id"), dict(response_headers or {}), response_body)
            self._attempts.append(attempt)
        return attempt

    def age(self, by: timedelta) -> None:
        """As if every attempt logged so far had been made ``by`` earlier, e.g. past the redelivery window.
        Everything moves together, so ids stay in time order as on GitHub."""
        with self._lock:
            for attempt in self._attempts:
                attempt.delivered_at -= by

    def attempts(self, *, repository_id: int | None = None, guid: str | None = None) -> list[Attempt]:
        """Newest first, optionally only one repository's or one guid's."""
        with self._lock:
            newest_first = self._attempts[::-1]
        return [a for a in newest_first if (repository_id is None or a.repository_id == repository_id)
                and (guid is None or a.guid == guid)]

    def redeliverable(self, attempt: Attempt) -> bool:
        return self.clock() - attempt.delivered_at <= self.redelivery_window


_DELIVERIES = "/repos/<owner>/<repo>/hooks/<int:hook_id>/deliveries"
_RULES = {
    "repo_hooks": ("GET", "/repos/<owner>/<repo>/hooks"),
    "repo_deliveries": ("GET", _DELIVERIES),
    "repo_delivery": ("GET", f"{_DELIVERIES}/<int:delivery_id>"),
    "repo_attempts": ("POST", f"{_DELIVERIES}/<int:delivery_id>/attempts"),
    "app_deliveries": ("GET", "/app/hook/deliveries"),
    "app_delivery": ("GET", "/app/hook/deliveries/<int:delivery_id>"),
    "app_attempts": ("POST", "/app/hook/deliveries/<int:delivery_id>/attempts"),
}


class _Missing(Exception):
    pass


_URLS = Map([Rule(path, endpoint=name, methods=[method]) for name, (method, path) in _RULES.items()],
            strict_slashes=False)


class HookApi:
    """The webhook endpoints (``RestApi`` hands them over). ``sender`` is the hook: without one, no
    repository has a webhook and the App hook's endpoints are 404."""

    def __init__(self, ds: Dataset, log: DeliveryLog) -> None:
        self.ds = ds
        self.log = log
        self.sender: WebhookSender | None = None

    def __call__(self, request: Request, path: str, api: str) -> Answer | None:
        """The answer for a webhook endpoint, or None when ``path`` is not one."""
        try:
            endpoint, params = _URLS.bind("sim").match(path, method=request.method)
        except (NotFound, MethodNotAllowed):
            return None
        try:
            return self._answer(request, endpoint, params, api)
        except _Missing:
            return _NOT_FOUND

    def _answer(self, request: Request, endpoint: str, params: Mapping[str, Any], api: str) -> Answer:
        repository_id: int | None = None
        if endpoint.startswith("repo_"):
            repo = self.ds.repo_by_name.get(f"{params['owner']}/{params['repo']}")
            if repo is None:
                raise _Missing
            if endpoint == "repo_hooks":
                return 200, [self._hook(repo, api, self.sender)] if self.sender else [], {}, 1, 1
            if params["hook_id"] != HOOK_ID:
                raise _Missing
            repository_id = repo.id
        sender = self.sender
        if sender is None:
            raise _Missing
        attempts = self.log.attempts(repository_id=repository_id)
        if endpoint.endswith("_deliveries"):
            return self._page(request, attempts)
        attempt = next((a for a in attempts if a.id == params["delivery_id"]), None)
        if attempt is None:
            raise _Missing
        if endpoint.endswith("_delivery"):
            return 200, attempt.detail(sender.url), {}, 1, 1
        return self._redeliver(attempt, sender)

    def _redeliver(self, attempt: Attempt, sender: WebhookSender) -> Answer:
        if not self.log.redeliverable(attempt):
            days = self.log.redelivery_window.days
            return 422, {"message": "Validation Failed", "errors": [{
                "resource": "HookDelivery", "code": "custom",
                "message": f"Deliveries older than {days} days cannot be redelivered"}],
                "documentation_url": DOCS, "status": "422"}, {}, 0, 1
        sender.redeliver(attempt.delivery)
        return 202, {}, {}, 0, 1

    def _hook(self, repo: Repository, api: str, sender: WebhookSender) -> dict[str, Any]:
        url = f"{api}/repos/{repo.full_name}/hooks/{HOOK_ID}"
        created = iso(self.ds.now)
        return {"type": "Repository", "id": HOOK_ID, "name": "web", "active": True, "events": list(HOOK_EVENTS),
                "config": {"content_type": "json", "insecure_ssl": "0", "url": sender.url},
                "updated_at": created, "created_at": created, "url": url, "test_url": f"{url}/test",
                "ping_url": f"{url}/pings", "deliveries_url": f"{url}/deliveries",
                "last_response": {"code": None, "status": "unused", "message": None}}

    def _page(self, request: Request, attempts: list[Attempt]) -> Answer:
        """Newest first; the cursor names the last attempt of the previous page, so attempts logged
        meanwhile never shift a page (they are newer than every cursor)."""
        try:
            per_page = max(1, min(MAX_PER_PAGE, int(request.args.get("per_page", DEFAULT_PER_PAGE))))
        except ValueError:
            per_page = DEFAULT_PER_PAGE
        if cursor := request.args.get("cursor"):
            before = cursor.removeprefix("v1_")
            if not before.isdigit():
                return 400, {"message": "Invalid cursor", "documentation_url": DOCS, "status": "400"}, {}, 0, 1
            attempts = [a for a in attempts if a.id < int(before)]
        page = attempts[:per_page]
        headers: dict[str, str] = {}
        if len(attempts) > per_page:
            query = {**{k: v for k, v in request.args.items() if k != "cursor"},
                     "per_page": str(per_page), "cursor": f"v1_{page[-1].id}"}
            headers["link"] = f'<{request.base_url}?{urlencode(query)}>; rel="next"'
        return 200, [a.item() for a in page], headers, len(page), 1


__all__ = ["REDELIVERY_WINDOW", "Attempt", "DeliveryLog", "HookApi", "describe"]

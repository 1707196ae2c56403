"""Change mode: mutate the simulator's dataset and deliver the webhooks GitHub would send for it.

``ChangeFeed.step()`` applies one change (a new pull request or issue, an edit, a review with an inline
comment, a close or merge, a new or deleted comment) and returns the deliveries it causes, built from
the same REST shapes the API serves, so a payload matches what a later REST or GraphQL read returns.
Payloads follow octokit's webhook schema (``tests/fixtures/github/webhooks/schema.json``; a
test validates them) and carry GitHub's delivery headers, signed with ``X-Hub-Signature-256`` (and the legacy SHA-1
header, which GitHub still sends).

``WebhookSender`` posts deliveries to a URL. Like GitHub it may send one twice (a redelivery keeps the
``X-GitHub-Delivery`` id) and out of order (a shuffled window), both as configured shares, or every delivery
a set number of times (``copies``), posting several at once (``workers``). A ``drop`` share
is lost as if the receiver were down, and with a ``DeliveryLog`` every attempt is recorded the way GitHub
records it, so the hook endpoints (``hooks``) can list and redeliver it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx

from contribsync_sim.rest_shapes import Shapes

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from contribsync_sim.dataset import Dataset, PullRequest, Repository
    from contribsync_sim.hooks import DeliveryLog

HOOK_ID = 424_242_424
USER_AGENT = "GitHub-Hookshot/sim"
TIMEOUT_S = 10.0  # GitHub gives up on a receiver after 10 seconds
MAX_BODY_CHARS = 1_048_576  # what contribsync's pull_requests.body holds (migration 0026)
_LARGE_LINE = "📜🚀🎉🔥🐛🧪🔧📦" * 10 + "\n"  # 4-byte characters: the most bytes a character can take
KINDS = ("open_pr", "edit_pr", "add_review", "close_pr", "open_issue", "add_comment", "delete_comment")


@dataclass(frozen=True)
class Delivery:
    """One webhook delivery: its headers and the exact bytes that were signed."""

    id: str
    event: str
    action: str | None
    body: bytes
    headers: dict[str, str]

    @property
    def payload(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


def sign(secret: str, body: bytes) -> dict[str, str]:
    return {"X-Hub-Signature-256": "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
            "X-Hub-Signature": "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()}


class ChangeFeed:
    """Applies random changes to ``ds`` (seeded) and builds the matching deliveries.

    ``lock`` is held while the dataset changes and the payload is built; pass the simulator app's
    ``data_lock`` so a change never interleaves with a request being answered.

    A delivery names ``installation_id`` (None: no ``installation``, as a repository webhook sends), or,
    when ``installations`` maps owners to App installations, the installation on the repository's owner,
    as GitHub does for an App installed on several accounts.
    """

    def __init__(self, ds: Dataset, *, api: str, secret: str, seed: int = 0, installation_id: int | None = 1,
                 installations: Mapping[str, int] | None = None,
                 clock: Callable[[], datetime] | None = None, lock: threading.RLock | None = None) -> None:
        self.ds = ds
        self.shapes = Shapes(ds, api, webhook=True)
        self.secret = secret
        self.installation_id = installation_id
        self.installations = installations
        self.rng = random.Random(seed)
        self.clock = clock or (lambda: datetime.now(UTC))
        self.lock = lock or threading.RLock()
        self._last = ds.now

    def _now(self) -> datetime:
        # Changes never go back in time, whatever the clock says.
        self._last = max(self.clock(), self._last + timedelta(seconds=1))
        return self._last

    def delivery(self, event: str, payload: dict[str, Any], repo: Repository) -> Delivery:
        iid = self.installation_id if self.installations is None else self.installations.get(repo.owner.login)
        installation = {} if iid is None else {"installation": {
            "id": iid, "node_id": f"MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9u{iid}"}}
        body = json.dumps({**payload, "repository": self.shapes.repository(repo),
                           "organization": self.shapes.organization(repo), **installation},
                          ensure_ascii=False).encode()
        delivery_id = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, "X-GitHub-Event": event,
                   "X-GitHub-Delivery": delivery_id, "X-GitHub-Hook-ID": str(HOOK_ID),
                   "X-GitHub-Hook-Installation-Target-ID": str(repo.id),
                   "X-GitHub-Hook-Installation-Target-Type": "repository", **sign(self.secret, body)}
        return Delivery(delivery_id, event, payload.get("action"), body, headers)

    def step(self, kind: str | None = None, repository: Repository | None = None) -> list[Delivery]:
        """Apply one change (``kind`` from ``KINDS``, else drawn at random) to ``repository`` (else one drawn
        at random) and return its deliveries."""
        with self.lock:
            kind = kind or self.rng.choice(KINDS)
            repo = repository or self.ds.repos[self.rng.choice(sorted(self.ds.repos))]
            handler: Callable[[Repository], list[Delivery]] = getattr(self, f"_{kind}")
            return handler(repo)

    def oversized(self, min_bytes: int) -> list[Delivery]:
        """Two edits of one open pull request's body, to texts so long that the second ``edited``
        delivery (its new body, and the one before in ``changes.body.from``) is at least ``min_bytes``:
        a payload over a Function URL's 6 MB that the pull request's row still holds (a body stays
        under the 1 MiB characters of ``pull_requests.body``: 4-byte characters)."""
        per_body = -(-min_bytes // 2)
        lines = -(-per_body // len(_LARGE_LINE.encode()))
        if lines * len(_LARGE_LINE) + 100 > MAX_BODY_CHARS:
            raise ValueError(f"{min_bytes} bytes do not fit two bodies of {MAX_BODY_CHARS} characters")
        with self.lock:
            repo = self.ds.repos[self.rng.choice(sorted(self.ds.repos))]
            opened = [] if self._open_prs(repo) else self._open_pr(repo)
            pr = self.rng.choice(self._open_prs(repo))
            return [*opened, *(self._edit_body(repo, pr, f"Release log, part {part} 📜\n{_LARGE_LINE * lines}")
                               for part in (1, 2))]

    def _edit_body(self, repo: Repository, pr: PullRequest, body: str | None = None) -> Delivery:
        """An ``edited`` delivery for ``pr``, whose body becomes ``body`` (None: a line is added)."""
        before = {"title": {"from": pr.title}, "body": {"from": pr.body}}
        self.ds.edit_pr(pr.id, self._now(), body=body)
        return self.delivery("pull_request", self._pr_event("edited", pr, pr.author_id, changes=before), repo)

    # -- changes ------------------------------------------------------------------------------------

    def _sender(self, user_id: int) -> dict[str, Any]:
        return self.shapes.user(user_id) or {}

    def _open_prs(self, repo: Repository) -> list[PullRequest]:
        return [p for p in self.ds.prs_by_repo.get(repo.id, []) if p.state == "OPEN"]

    def _pr_event(self, action: str, pr: PullRequest, sender: int, **extra: Any) -> dict[str, Any]:  # noqa: ANN401
        return {"action": action, "number": pr.number, **extra, "pull_request": self.shapes.pull_request(pr),
                "sender": self._sender(sender)}

    def _open_pr(self, repo: Repository) -> list[Delivery]:
        pr = self.ds.open_pr(repo.id, self.rng, self._now())
        return [self.delivery("pull_request", self._pr_event("opened", pr, pr.author_id), repo)]

    def _edit_pr(self, repo: Repository) -> list[Delivery]:
        candidates = self._open_prs(repo)
        if not candidates:
            return self._open_pr(repo)
        return [self._edit_body(repo, self.rng.choice(candidates))]

    def _add_review(self, repo: Repository) -> list[Delivery]:
        candidates = self._open_prs(repo)
        if not candidates:
            return self._open_pr(repo)
        pr = self.rng.choice(candidates)
        review = self.ds.add_review(pr.id, self.rng, self._now())
        comment = next(c for c in self.ds.review_comments_by_pr[pr.id] if c.review_id == review.id)
        # A review's comments are delivered before the review itself, as GitHub does.
        return [
            self.delivery("pull_request_review_comment",
                          {"action": "created", "comment": self.shapes.review_comment(comment),
                           "pull_request": self.shapes.pull_request_item(pr),
                           "sender": self._sender(comment.author_id)}, repo),
            self.delivery("pull_request_review",
                          {"action": "submitted", "review": self.shapes.review(review),
                           "pull_request": self.shapes.pull_request_item(pr),
                           "sender": self._sender(review.author_id)}, repo),
        ]

    def _close_pr(self, repo: Repository) -> list[Delivery]:
        candidates = self._open_prs(repo)
        if not candidates:
            return self._open_pr(repo)
        pr = self.ds.close_pr(self.rng.choice(candidates).id, self._now(), merge=self.rng.random() < 0.7)  # noqa: PLR2004
        return [self.delivery("pull_request", self._pr_event("closed", pr, pr.merged_by_id or pr.author_id), repo)]

    def _open_issue(self, repo: Repository) -> list[Delivery]:
        issue = self.ds.open_issue(repo.id, self.rng, self._now())
        return [self.delivery("issues", {"action": "opened", "issue": self.shapes.issue(issue),
                                         "sender": self._sender(issue.author_id)}, repo)]

    def _add_comment(self, repo: Repository) -> list[Delivery]:
        numbers = sorted({n for (rid, n) in self.ds.issue_by_number if rid == repo.id}
                         | {p.number for p in self.ds.prs_by_repo.get(repo.id, [])})
        comment = self.ds.add_issue_comment(repo.id, self.rng.choice(numbers), self.rng, self._now())
        parent = (self.ds.pr_by_number.get((repo.id, comment.issue_or_pr_number))
                  or self.ds.issue_by_number[(repo.id, comment.issue_or_pr_number)])
        return [self.delivery("issue_comment", {"action": "created", "issue": self.shapes.issue(parent),
                                                "comment": self.shapes.issue_comment(comment),
                                                "sender": self._sender(comment.author_id)}, repo)]

    def _delete_comment(self, repo: Repository) -> list[Delivery]:
        comments = sorted(c.id for c in self.ds.issue_comments.values() if c.repo_id == repo.id)
        if not comments:
            return self._add_comment(repo)
        doomed = self.ds.issue_comments[self.rng.choice(comments)]
        shaped = self.shapes.issue_comment(doomed)
        self.ds.delete_issue_comment(doomed.id, self._now())
        parent = (self.ds.pr_by_number.get((repo.id, doomed.issue_or_pr_number))
                  or self.ds.issue_by_number[(repo.id, doomed.issue_or_pr_number)])
        return [self.delivery("issue_comment", {"action": "deleted", "issue": self.shapes.issue(parent),
                                                "comment": shaped, "sender": self._sender(doomed.author_id)}, repo)]


@dataclass
class SendResult:
    sent: int = 0
    duplicates: int = 0
    dropped: int = 0
    redelivered: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)


class WebhookSender:
    """Posts deliveries to ``url``; ``duplicate`` is the share sent twice, ``reorder`` the shuffle window,
    ``copies`` how many times each delivery is sent (before ``duplicate``'s extra copies), ``workers`` how
    many posts are under way at once.

    ``drop`` is the share of attempts lost as if the receiver were down: nothing is posted and ``log``
    records a timeout. It is drawn from its own seeded generator, so the other shares draw as before;
    set it to 0 to bring the receiver back. ``log`` records every attempt (see ``hooks.DeliveryLog``).
    """

    def __init__(self, url: str, *, duplicate: float = 0.0, reorder: int = 0, drop: float = 0.0, seed: int = 0,
                 client: httpx.Client | None = None, log: DeliveryLog | None = None, copies: int = 1,
                 workers: int = 1) -> None:
        self.url = url
        self.duplicate = duplicate
        self.copies = copies
        self.workers = workers
        self.reorder = reorder
        self.drop = drop
        self.log = log
        self.rng = random.Random(seed)
        self._drop_rng = random.Random(f"drop:{seed}")
        self.client = client or httpx.Client(timeout=TIMEOUT_S)
        self._pending: list[Delivery] = []
        self._lock = threading.Lock()  # redeliveries post from their own threads
        self._redeliveries: list[threading.Thread] = []
        self.result = SendResult()

    def plan(self, deliveries: list[Delivery]) -> list[Delivery]:
        """The order (with repeats) in which ``deliveries`` go out; a window keeps some back for later."""
        out: list[Delivery] = []
        for d in deliveries:
            self._pending.extend([d] * self.copies)
            if self.rng.random() < self.duplicate:
                self._pending.append(d)
                self.result.duplicates += 1
        if self.reorder > 1:
            self.rng.shuffle(self._pending)
            keep = min(len(self._pending), self.reorder - 1)
            out, self._pending = self._pending[: len(self._pending) - keep], self._pending[len(self._pending) - keep:]
        else:
            out, self._pending = self._pending, []
        return out

    def send(self, deliveries: list[Delivery]) -> None:
        self._post_all(self.plan(deliveries))

    def flush(self) -> None:
        pending, self._pending = self._pending, []
        self._post_all(pending)

    def _post_all(self, deliveries: list[Delivery]) -> None:
        if self.workers <= 1:
            for d in deliveries:
                self._post(d)
            return
        with ThreadPoolExecutor(self.workers, thread_name_prefix="github-sim-sender") as pool:
            list(pool.map(self._post, deliveries))

    def redeliver(self, delivery: Delivery) -> None:
        """Deliver ``delivery`` again (same body, same ``X-GitHub-Delivery``) in the background, as GitHub
        does after answering a redelivery request with 202."""
        thread = threading.Thread(target=self._post, args=(delivery,), kwargs={"redelivery": True},
                                  name="github-sim-redelivery", daemon=True)
        with self._lock:
            self._redeliveries.append(thread)
        thread.start()

    def wait(self, timeout_s: float = 30.0) -> bool:
        """Wait until every redelivery asked for so far has been attempted; False on timeout."""
        deadline = time.monotonic() + timeout_s
        with self._lock:
            threads = list(self._redeliveries)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        with self._lock:
            self._redeliveries = [t for t in self._redeliveries if t.is_alive()]
            return not self._redeliveries

    def _post(self, d: Delivery, *, redelivery: bool = False) -> None:
        with self._lock:
            dropped = self.drop > 0 and self._drop_rng.random() < self.drop
            self.result.redelivered += redelivery
            self.result.dropped += dropped
        if dropped:
            self._record(d, redelivery=redelivery, status_code=0, status="timed out", duration=TIMEOUT_S)
            return
        started = time.monotonic()
        try:
            response = self.client.post(self.url, content=d.body, headers=d.headers)
        except httpx.HTTPError as exc:
            with self._lock:
                self.result.failures.append(f"{d.id} {d.event}: {exc}")
            self._record(d, redelivery=redelivery, status_code=0, duration=time.monotonic() - started,
                         status="timed out" if isinstance(exc, httpx.TimeoutException) else "failed to connect")
            return
        with self._lock:
            self.result.sent += 1
            self.result.statuses[response.status_code] = self.result.statuses.get(response.status_code, 0) + 1
        self._record(d, redelivery=redelivery, status_code=response.status_code, duration=time.monotonic() - started,
                     response_headers=dict(response.headers), response_body=response.text)

    def _record(self, d: Delivery, *, redelivery: bool, status_code: int, duration: float,
                status: str | None = None, response_headers: dict[str, str] | None = None,
                response_body: str | None = None) -> None:
        if self.log is not None:
            self.log.record(d, status_code=status_code, duration=duration, status=status, redelivery=redelivery,
                            response_headers=response_headers, response_body=response_body)


__all__ = ["HOOK_ID", "KINDS", "MAX_BODY_CHARS", "TIMEOUT_S", "ChangeFeed", "Delivery", "SendResult", "WebhookSender",
           "sign"]

"""The rate-limit governor: one GitHub budget per budget key and resource, shared through Postgres.

A budget key is what GitHub counts a budget against: ``installation:<id>`` for a GitHub App's installation
(its token changes every hour, its budget does not), a personal token's fingerprint (``token_id``)
otherwise (``auth.Grant``). The table's ``token_id`` column holds that key.

Every function (every Lambda instance) reserves what a request costs before sending it (an atomic
UPDATE that refuses to go below the reserve, 10% by default), and records what GitHub answers
(``x-ratelimit-*`` headers, GraphQL ``rateLimit``). When no token has budget above the reserve it
raises ``RateLimited(defer_until=earliest reset)``, which the runtime turns into a message delay:
no Lambda sleeps waiting for a reset. Among the grants that may serve a request (several personal tokens;
one installation for a repository), the one with the most budget left is used.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from contribsync.errors import RateLimited, SecondaryRateLimited
from contribsync.flow_control import FlowControl
from contribsync.github.auth import token_id

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    import httpx

    from contribsync.db import Database
    from contribsync.flow_control import Clock
    from contribsync.github.auth import Grant

DEFAULT_RESERVE = 0.10
MAX_IN_FLIGHT = 100  # GitHub's limit on concurrent requests per token
INFLIGHT_SCOPE = "github-in-flight"
# Budgets GitHub gives a token before it has told us anything (PAT / App installation defaults).
DEFAULT_LIMITS = {"core": 5000, "graphql": 5000, "search": 30}


class PostgresBudget:
    def __init__(self, db: Database, *, reserve: float = DEFAULT_RESERVE, clock: Clock | None = None,
                 max_in_flight: int = MAX_IN_FLIGHT, request_timeout_s: int = 60) -> None:
        from contribsync.flow_control import SystemClock

        self.db = db
        self.max_in_flight = max_in_flight
        self.request_timeout_s = request_timeout_s
        self.reserve = reserve
        self.clock = clock or SystemClock()

    def pick(self, grants: list[Grant], resource: str, cost: int = 1) -> Grant:
        """Reserve ``cost`` points on the grant whose budget has the most left; ``RateLimited`` if none has them."""
        now = self.clock.now()
        ids = {g.budget_key: g for g in grants}
        known = {r["token_id"]: r for r in self.db.query("rate_limit_budgets", {
            "resource": resource, "token_ids": list(ids)})}

        def left(tid: str) -> float:
            row = known.get(tid)
            if row is None or row["reset_at"] <= now:
                return float("inf")  # unknown or a new window: full
            return float(row["remaining"])

        for tid in sorted(ids, key=left, reverse=True):
            if tid not in known:
                self._seed(tid, resource, now)
            if self.db.query_one("rate_limit_reserve", {
                    "token_id": tid, "resource": resource, "cost": cost, "reserve": self.reserve, "now": now}):
                return ids[tid]
        resets = [r["reset_at"] for r in known.values()] or [now + timedelta(minutes=1)]
        raise RateLimited(f"GitHub {resource} budget below the {self.reserve:.0%} reserve on "
                          f"{', '.join(sorted(ids))}",
                          defer_until=min(resets))

    def _seed(self, tid: str, resource: str, now: datetime) -> None:
        limit = DEFAULT_LIMITS.get(resource, 5000)
        self.db.query("rate_limit_observe", {
            "token_id": tid, "resource": resource, "limit": limit, "remaining": limit, "used": 0,
            "reset_at": now + timedelta(hours=1), "now": now, "estimated": True})

    def observe(self, key: str, headers: httpx.Headers) -> None:
        """Record ``x-ratelimit-*`` from a REST (or GraphQL) answer."""
        try:
            limit = int(headers["x-ratelimit-limit"])
            remaining = int(headers["x-ratelimit-remaining"])
            reset = datetime.fromtimestamp(int(headers["x-ratelimit-reset"]), tz=UTC)
        except (KeyError, ValueError):
            return  # GitHub Enterprise with rate limiting off sends none
        self.db.query("rate_limit_observe", {
            "token_id": key, "resource": headers.get("x-ratelimit-resource", "core"),
            "limit": limit, "remaining": remaining, "used": _int(headers.get("x-ratelimit-used")),
            "reset_at": reset, "now": self.clock.now(), "estimated": False})

    def observe_graphql(self, key: str, rate_limit: Mapping[str, Any]) -> None:
        """Record a GraphQL ``rateLimit { limit remaining resetAt used }`` selection."""
        try:
            reset = datetime.fromisoformat(str(rate_limit["resetAt"]).replace("Z", "+00:00"))
            limit, remaining = int(rate_limit["limit"]), int(rate_limit["remaining"])
        except (KeyError, ValueError, TypeError):
            return
        self.db.query("rate_limit_observe", {
            "token_id": key, "resource": "graphql", "limit": limit, "remaining": remaining,
            "used": _int(rate_limit.get("used")), "reset_at": reset, "now": self.clock.now(), "estimated": False})

    @contextmanager
    def in_flight(self, key: str) -> Iterator[None]:
        """One of the budget key's concurrent-request slots, across every Lambda instance (a Postgres lease
        that expires with the request timeout). None free: ``SecondaryRateLimited`` — GitHub's own
        answer to too many concurrent requests — so the runtime retries the message a little later."""
        flow = FlowControl(self.db, self.clock)
        lease = flow.acquire(scope=INFLIGHT_SCOPE, key=key, limit=self.max_in_flight,
                             ttl_s=self.request_timeout_s)
        if lease is None:
            raise SecondaryRateLimited(f"{self.max_in_flight} requests already in flight on this token",
                                       retry_after=5)
        try:
            yield
        finally:
            flow.release(lease, scope=INFLIGHT_SCOPE)

    def budgets(self) -> list[dict[str, Any]]:
        return self.db.query("rate_limits_all")


def _int(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


__all__ = ["DEFAULT_RESERVE", "PostgresBudget", "token_id"]

"""``reconcile/webhook-deliveries``: find webhook deliveries that never reached the receiver, and have
GitHub redeliver them, or sync their repository instead.

GitHub does not redeliver a failed delivery by itself. Its delivery log says which attempts failed, and
it redelivers one on request (``POST .../deliveries/{id}/attempts``) for three days. Every hour:

1. The webhooks to check are set by ``CONTRIBSYNC_WEBHOOK_HOOKS``: a comma-separated list of ``app`` (the
   GitHub App's webhook; its endpoints are called with the App's JWT) and ``owner/repo:hook_id`` (a
   repository webhook). Unset: ``app`` when a GitHub App is configured (``GITHUB_APP_ID`` and its key),
   otherwise every active webhook of every tracked repository (``GET /repos/{owner}/{repo}/hooks``, which
   needs admin rights on the repository). A webhook GitHub answers 404 for is counted and passed over.
2. Each webhook's log is read newest first, back to its watermark (the newest attempt the previous run
   saw) less ``OVERLAP``: GitHub logs an attempt when it ends, so one under way during the previous run
   may be logged with an earlier time than what that run saw. A first run reads back ``FIRST_LOOKBACK``.
3. Attempts are grouped by ``guid`` (the X-GitHub-Delivery id, which a redelivery keeps). A guid is fine
   when one of its attempts got a 2xx, or when ``webhook_deliveries`` holds it: the receiver may store a
   delivery and answer after GitHub stopped waiting (one stored as ``unsent``, never queued, still needs
   its redelivery).
4. A failed guid whose newest attempt was refused for its size (413: the Function URL takes 6 MB, and
   a redelivery would be refused too) is read from the log and taken in as the receiver takes a
   delivery (``refused_delivery``), at once; one that cannot be taken is synced (6).
5. Another failed guid whose newest attempt is inside GitHub's redelivery window (less a margin) is
   redelivered, at most ``MAX_REDELIVERIES`` times across runs. A redelivery asked for that GitHub has
   not logged yet is left to the next run (for ``LOST_AFTER`` at most).
6. Otherwise (too old, redelivered enough, or refused by GitHub) its repository is synced:
   one ``capture/repository.sync-enhanced`` per repository per run, whose incremental sync reads what the
   lost deliveries announced. Deliveries without a repository, or of one not stored and tracked, are
   skipped.

What was asked for each guid is kept in ``webhook_reconcile_guids``, so a second run repeats nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit

from contribsync.errors import NonRetriable, NotFound, Unprocessable
from contribsync.observability import logger, metrics
from contribsync.services.refused_delivery import recover_refused

if TYPE_CHECKING:
    from collections.abc import Sequence

    from contribsync.payloads import Empty
    from contribsync.runtime import RunContext

REDELIVERY_WINDOW = timedelta(days=3)  # GitHub redelivers the deliveries of the past three days only
WINDOW_MARGIN = timedelta(hours=1)  # asking takes time, and GitHub's clock is not ours
FIRST_LOOKBACK = timedelta(days=3)
OVERLAP = timedelta(minutes=15)
MAX_REDELIVERIES = 3
LOST_AFTER = timedelta(hours=1)  # a redelivery asked for and still not logged after this is taken as lost
FORGET_AFTER = timedelta(days=30)
FALLBACK = "capture/repository.sync-enhanced"
FALLBACK_REASON = "webhook deliveries missed"
_REPOSITORY_HOOK = re.compile(r"^([\w.-]+)/([\w.-]+):(\d+)$")


@dataclass(frozen=True)
class Hook:
    """A webhook whose delivery log is checked; ``key`` names its watermark."""

    key: str
    deliveries: str  # the path of its delivery log

    @classmethod
    def parse(cls, spec: str) -> Hook:
        """``app`` or ``owner/repo:hook_id``; anything else is a configuration error."""
        if spec == "app":
            return cls("app", "/app/hook/deliveries")
        match = _REPOSITORY_HOOK.match(spec)
        if match is None:
            raise NonRetriable(f"CONTRIBSYNC_WEBHOOK_HOOKS: {spec!r} is neither 'app' nor 'owner/repo:hook_id'")
        owner, repo, hook_id = match.groups()
        return cls.of_repository(f"{owner}/{repo}", int(hook_id))

    @classmethod
    def of_repository(cls, full_name: str, hook_id: int) -> Hook:
        return cls(f"{full_name}:{hook_id}", f"/repos/{full_name}/hooks/{hook_id}/deliveries")


@dataclass(frozen=True)
class _Attempt:
    """One delivery attempt from GitHub's log."""

    id: int
    guid: str
    delivered_at: datetime
    status_code: int  # 0 when nothing answered
    repository_id: int | None

    @classmethod
    def of(cls, item: dict[str, Any]) -> _Attempt:
        return cls(int(item["id"]), str(item["guid"]),
                   datetime.fromisoformat(str(item["delivered_at"]).replace("Z", "+00:00")),
                   int(item.get("status_code") or 0), item.get("repository_id"))

    @property
    def delivered(self) -> bool:
        return 200 <= self.status_code < 300  # noqa: PLR2004

    @property
    def too_large(self) -> bool:
        """Refused for its size: over the Function URL's 6 MB."""
        return self.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE


@dataclass
class _Reconciliation:
    """One reconciliation: its time, what it did, and the repositories it queued a sync for."""

    ctx: RunContext
    now: datetime
    hooks_checked: int = 0
    hooks_unreadable: int = 0
    deliveries_seen: int = 0
    failed_guids: int = 0
    redelivered: int = 0
    recovered: int = 0
    pending: int = 0
    fallback_syncs: int = 0
    skipped: int = 0
    synced: set[str] = field(default_factory=set)

    def result(self) -> dict[str, int]:
        return {"hooksChecked": self.hooks_checked, "hooksUnreadable": self.hooks_unreadable,
                "deliveriesSeen": self.deliveries_seen, "failedGuids": self.failed_guids,
                "redelivered": self.redelivered, "recovered": self.recovered, "pending": self.pending,
                "fallbackSyncs": self.fallback_syncs, "skipped": self.skipped}


def reconcile_webhook_deliveries(_: Empty, ctx: RunContext) -> dict[str, Any]:
    """Check the configured webhooks (see the module docstring) and return what was found and done."""
    settings = ctx.settings
    app = bool(settings.github_app_id and settings.github_app_private_key)
    return reconcile(ctx, settings.webhook_hooks, app=app)


def reconcile(ctx: RunContext, configured: Sequence[str], *, app: bool) -> dict[str, Any]:
    run = _Reconciliation(ctx, ctx.clock.now())
    for hook in _hooks(run, configured, app=app):
        ctx.checkpoint()
        _reconcile_hook(run, hook)
    ctx.db.query("reconcile_guids_cleanup", {"before": run.now - FORGET_AFTER})
    return run.result()


def _hooks(run: _Reconciliation, configured: Sequence[str], *, app: bool) -> list[Hook]:
    if configured:
        return [Hook.parse(spec) for spec in configured]
    if app:
        return [Hook.parse("app")]
    hooks: list[Hook] = []
    for row in run.ctx.db.query("tracked_repository_names"):
        try:
            listed = list(run.ctx.github.paginate(f"/repos/{row['full_name']}/hooks"))
        except NotFound:  # GitHub answers 404 to a token without admin rights on the repository
            logger.warning("repository webhooks not readable", extra={"repo": row["full_name"]})
            run.hooks_unreadable += 1
            continue
        hooks += [Hook.of_repository(row["full_name"], int(h["id"])) for h in listed if h.get("active")]
    return hooks


def _reconcile_hook(run: _Reconciliation, hook: Hook) -> None:
    db = run.ctx.db
    mark = db.query_one("reconcile_watermark_get", {"hook": hook.key})
    since = mark["watermark"] - OVERLAP if mark else run.now - FIRST_LOOKBACK
    try:
        attempts = _read_log(run, hook, since)
    except NotFound:  # a configured webhook that was deleted, or that this token may not see
        logger.warning("webhook deliveries not readable", extra={"hook": hook.key})
        run.hooks_unreadable += 1
        return
    failed = _failed(run, attempts)
    if failed:
        _settle(run, hook, failed)
    newest = max((a.delivered_at for a in attempts), default=mark["watermark"] if mark else since)
    db.query("reconcile_watermark_put", {"hook": hook.key, "watermark": newest, "now": run.now})
    run.hooks_checked += 1
    run.deliveries_seen += len(attempts)
    logger.info("webhook deliveries checked", extra={"hook": hook.key, "attempts": len(attempts),
                                                     "failed": len(failed)})


def _read_log(run: _Reconciliation, hook: Hook, since: datetime) -> list[_Attempt]:
    """The attempts logged since ``since``, newest first. Each page is read once (its cursor moves on
    with the log), so no ETag is kept for it."""
    attempts: list[_Attempt] = []
    for item in run.ctx.github.paginate(hook.deliveries, conditional=False):
        attempt = _Attempt.of(item)
        if attempt.delivered_at < since:
            break  # the rest of the log is older still: no further page is fetched
        attempts.append(attempt)
    return attempts


def _failed(run: _Reconciliation, attempts: list[_Attempt]) -> dict[str, _Attempt]:
    """The newest attempt (GitHub's ids increase) of every guid that no attempt delivered and the receiver
    has not stored."""
    newest: dict[str, _Attempt] = {}
    delivered: set[str] = set()
    for a in attempts:
        if a.guid not in newest or a.id > newest[a.guid].id:
            newest[a.guid] = a
        if a.delivered:
            delivered.add(a.guid)
    undelivered = [guid for guid in newest if guid not in delivered]
    if not undelivered:
        return {}
    stored = {r["delivery_id"] for r in run.ctx.db.query("webhook_deliveries_stored", {"ids": undelivered})}
    return {guid: newest[guid] for guid in undelivered if guid not in stored}


def _settle(run: _Reconciliation, hook: Hook, failed: dict[str, _Attempt]) -> None:
    """Take in from the log what was refused for its size, redeliver what GitHub still can, up to the
    bound; sync the repositories of the rest."""
    earlier = {r["guid"]: r for r in run.ctx.db.query("reconcile_guids_get", {"hook": hook.key,
                                                                               "guids": list(failed)})}
    recover: list[_Attempt] = []
    redeliver: list[_Attempt] = []
    fall_back: list[_Attempt] = []
    for guid, newest in failed.items():
        before = earlier.get(guid) or {"redeliveries": 0, "last_requested_at": None, "requested_from": None,
                                       "fallback_at": None}
        if before["fallback_at"] is not None:
            continue  # its repository's sync was queued by an earlier run
        run.failed_guids += 1
        if newest.too_large:
            recover.append(newest)
        elif _awaited(run, before, newest):
            run.pending += 1
        elif before["redeliveries"] < MAX_REDELIVERIES and \
                run.now - newest.delivered_at < REDELIVERY_WINDOW - WINDOW_MARGIN:
            redeliver.append(newest)
        else:
            fall_back.append(newest)
    fall_back += _redeliver(run, hook, redeliver)
    if recover:
        unusable = recover_refused(run.ctx, hook.deliveries, {a.guid: a.id for a in recover}, hook=hook.key)
        run.recovered += len(recover) - len(unusable)
        fall_back += [a for a in recover if a.guid in unusable]
    _fall_back(run, hook, fall_back)


def _awaited(run: _Reconciliation, before: dict[str, Any], newest: _Attempt) -> bool:
    """A redelivery was asked for and GitHub has not logged it yet: no attempt is newer than the one it
    was asked from (ids, not times: GitHub logs times to the second). Taken as lost after a while."""
    asked = before["last_requested_at"]
    return asked is not None and newest.id <= before["requested_from"] and run.now - asked < LOST_AFTER


def _redeliver(run: _Reconciliation, hook: Hook, attempts: list[_Attempt]) -> list[_Attempt]:
    """Ask GitHub to redeliver each (its newest attempt names it); return the ones GitHub refused (422,
    e.g. past its window after all; 404, gone from its log), for a sync instead. What was asked is
    recorded even when a later request fails, so a retried run counts it."""
    asked: list[_Attempt] = []
    refused: list[_Attempt] = []
    try:
        for a in attempts:
            try:
                run.ctx.github.post(f"{hook.deliveries}/{a.id}/attempts")
            except (Unprocessable, NotFound) as exc:
                logger.warning("redelivery refused", extra={"hook": hook.key, "guid": a.guid, "error": str(exc)})
                refused.append(a)
            else:
                asked.append(a)
    finally:
        _record(run, hook, asked, redelivered=True)
    run.redelivered += len(asked)
    metrics.add_metric(name="WebhookRedeliveriesRequested", unit=MetricUnit.Count, value=len(asked))
    return refused


def _fall_back(run: _Reconciliation, hook: Hook, attempts: list[_Attempt]) -> None:
    """One incremental sync per stored, tracked repository (none twice in a run); the rest are skipped."""
    if not attempts:
        return
    github_ids = sorted({a.repository_id for a in attempts if a.repository_id is not None})
    known = {r["github_id"]: str(r["id"]) for r in run.ctx.db.query("tracked_repositories_by_github_id",
                                                                      {"github_ids": github_ids})}
    run.skipped += sum(a.repository_id not in known for a in attempts)
    wanted = sorted({known[a.repository_id] for a in attempts if a.repository_id in known} - run.synced)
    run.ctx.send_many(FALLBACK, [{"repositoryId": r, "reason": FALLBACK_REASON} for r in wanted])
    run.synced.update(wanted)
    run.fallback_syncs += len(wanted)
    metrics.add_metric(name="WebhookFallbackSyncs", unit=MetricUnit.Count, value=len(wanted))
    _record(run, hook, attempts, redelivered=False)


def _record(run: _Reconciliation, hook: Hook, attempts: list[_Attempt], *, redelivered: bool) -> None:
    if attempts:
        run.ctx.db.query("reconcile_guids_record", {
            "hook": hook.key, "now": run.now, "redelivered": redelivered, "guids": [a.guid for a in attempts],
            "repository_ids": [a.repository_id for a in attempts], "attempt_ids": [a.id for a in attempts]})


__all__ = ["Hook", "reconcile", "reconcile_webhook_deliveries"]

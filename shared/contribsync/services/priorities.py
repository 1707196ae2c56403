"""``sync/workspace-priorities``: score every tracked repository, then sync the busy ones more often.

Hourly, as of the run's time (the scheduled fire time, else the clock):

1. **Score** (one statement, ``priorities_score.sql``). A tracked repository earns a reason, worth
   ``POINTS``, for each rule it meets:

   - ``busy`` (40): at least ``BUSY_ITEMS`` (10) pull requests and issues created or updated in the
     last 7 days; ``active`` (15): 1 to 9 of them;
   - ``recently-updated`` (20): last push, or newest pull request update, within 7 days;
     ``updated-this-month`` (10): within 30 days instead;
   - ``popular`` (15): at least ``POPULAR_STARS`` (1,000) stars;
   - ``forked`` (10): at least ``FORKED_FORKS`` (100) forks;
   - ``multi-workspace`` (10): in at least ``MULTI_WORKSPACES`` (2) active workspaces.

   A repository in at least one active workspace is ``high`` from ``HIGH_FROM`` (50) points, ``medium``
   from ``MEDIUM_FROM`` (20), else ``low``: a busy repository pushed to this week is high; a popular
   one nobody touched for a month is medium; a quiet one is low. A tracked repository in no active
   workspace is ``medium`` (contributor.info sets those to medium; reason ``no-workspace``, no points).
   Archived, disabled or inactive (gone from GitHub) repositories are always ``low`` with no points
   (reasons ``archived``, ``disabled``, ``inactive``).

   ``priority_score`` keeps contributor.info's scale, high 100, medium 50, low 25, plus the points. The
   bands do not overlap (high 150-195, workspace medium 70-99, tracked-only medium 50, low 25-44), so
   ordering by score orders by priority first. Priority, score, ``is_workspace_repo``,
   ``workspace_count`` and the reasons are written only where they change (``priority_changed_at`` and
   ``updated_at`` then move).

2. **Sync** (``priorities_due.sql``). A live repository is due when it was never synced, or when its
   last sync is ``SYNC_EVERY`` old for its priority (high 1 h, medium 6 h, low 24 h), less
   ``SYNC_SLACK`` (10 min) for a fire's own jitter. The last sync is timed from the fire that queued it
   (``tracked_repositories.sync_queued_at``) once that sync has ended: a sync ends minutes after
   its fire, so timed from its end a medium repository came due only at the seventh fire, not the
   sixth (the 100-repository fleet kept 0.904 of its cron samples within target so). Timed from the
   fires, a repository is synced every 1, 6 or 24 fires exactly, however long its syncs take. Any other
   sync (one this job did not queue, such as a backfill's, or one that failed) is timed from
   ``OTHER_SYNC_LEAD`` (50 min) before its end (``last_synced_at``): the next fire may be nearly an hour
   away, so such a repository is due at the last fire before what it read grows older than its
   interval. Timed from its end, a high repository backfilled at 00:45 was due only at 02:00 and 1.25 h
   old there, and a medium one whose backfill ended at 00:10:41 missed the fire of 06:00 by 41 s (the
   1,000-repository fleet at factor 60).

   Fire-locked, a priority's repositories backfilled together would come due together for good: the
   1,000-repository fleet queued 925 medium syncs at one fire every 6 hours, and a 2-core machine took 4 to
   5 simulated hours to drain each burst at factor 60. So each repository also has a phase, the fire whose
   hour since the epoch equals its ``github_id`` modulo its priority's hours (``fire_hour``): at its phase
   it is due if not synced at this fire already (``SYNC_SLACK`` again). A repository reaches its phase
   with one early sync, and from then on its interval ends on it, so a fire queues about a sixth of the
   medium repositories and a 24th of the low ones.

   A repository that webhooks keep fresh is due once a day (``WEBHOOKS_SYNC_EVERY``, phase modulo 24)
   whatever its priority: a sync then only catches what a delivery could not carry. It counts as such
   while a delivery of an event a function handles was stored for it in the past ``WEBHOOKS_EVIDENCE``
   (7 days; ``webhook_deliveries.received_at``, the receiver's clock) and some webhook's log was
   reconciled in the past ``RECONCILED_WITHIN`` (2 h; ``webhook_reconcile_hooks.checked_at``), so a lost
   delivery is redelivered within the hour. In the 1,000-repository fleet, 90% of them with webhooks, nine
   in ten of the ~215 syncs a fire were of repositories whose deliveries had already stored every change.
   Archived,
   disabled and inactive repositories are never synced. Each due repository gets an incremental
   ``capture/repository.sync-enhanced`` (``{repositoryId}`` with no ``days``: from its watermark, or a
   full first sync), reason ``priority``. At most ``MAX_SYNCS`` (1,000) per run, highest score first and
   then the longest waiting; the rest are reported as ``deferred`` and are due again next hour. The cap
   bounds one run's sends (100 SQS batches); it must stay above what a fleet needs an hour, and above
   what comes due at once when a fleet backfilled together reaches its interval: at 200, a fleet of
   1,000 repositories (59 high, 930 medium) needed 215 an hour, and the 846 due 6 hours after its
   backfill left 563 deferred and growing every hour.

   A repository whose sync this job queued is ``pending`` (counted, not queued again) until that sync
   ends, fails, or ``SYNC_PENDING_FOR`` (6 h) goes by (``tracked_repositories.sync_queued_at``). Without
   it, every hour a sync waited in a backlog or behind a spent budget added one more sync of the same
   repository to the backlog: a fleet of 100 repositories on a fast clock queued 3,797 syncs in 87
   simulated hours. A sync lost without a failed run (its message expired, a run cancelled) delays the
   next one by at most the 6 hours. A queued priority sync that finds the repository's last queued sync
   already ended (another copy synced it first) and is not due again returns at once
   (``capture.repository_sync_enhanced``, ``still_due``).

A fire handled ``FIRE_EVERY`` (1 h) or more after its scheduled time is skipped: the next fire is due by
then and sees the same state, so a backlog of fires (after an outage, or behind runs slower than an hour)
drains to the newest one instead of each running as of an hour long gone. The full fleet on a fast clock
ran each fire 84 simulated minutes and ended 7 simulated days behind its schedule.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from contribsync import catalog
from contribsync.observability import logger

if TYPE_CHECKING:
    from contribsync.payloads import Scheduled
    from contribsync.runtime import RunContext

SYNC_EVENT = "capture/repository.sync-enhanced"
SYNC_REASON = "priority"

VELOCITY_WINDOW = timedelta(days=7)
RECENT_WINDOW = timedelta(days=7)
MONTH_WINDOW = timedelta(days=30)
BUSY_ITEMS = 10
POPULAR_STARS = 1_000
FORKED_FORKS = 100
MULTI_WORKSPACES = 2
POINTS = {"busy": 40, "active": 15, "recently-updated": 20, "updated-this-month": 10, "popular": 15,
          "forked": 10, "multi-workspace": 10}
HIGH_FROM = 50
MEDIUM_FROM = 20
BASE_SCORES = {"high": 100, "medium": 50, "low": 25}

SYNC_EVERY = {"high": timedelta(hours=1), "medium": timedelta(hours=6), "low": timedelta(hours=24)}
SYNC_SLACK = timedelta(minutes=10)
MAX_SYNCS = 1000
SYNC_PENDING_FOR = timedelta(hours=6)
WEBHOOKS_SYNC_EVERY = timedelta(hours=24)  # a repository webhooks keep fresh: a safety-net sync a day
WEBHOOKS_EVIDENCE = timedelta(days=7)  # a delivery stored this recently shows its webhooks deliver
RECONCILED_WITHIN = timedelta(hours=2)  # reconcile/webhook-deliveries runs hourly: one missed run allowed
CADENCES = {**SYNC_EVERY, "webhooks": WEBHOOKS_SYNC_EVERY}  # priorities_due.sql's intervals, each by name
FIRE_EVERY = timedelta(hours=1)  # the catalog's schedule, 0 * * * *
OTHER_SYNC_LEAD = FIRE_EVERY - SYNC_SLACK


def due_before(cadence: str, now: datetime) -> datetime:
    """A repository of ``cadence`` (a priority, or ``webhooks``) last synced at or before this is due at
    ``now``."""
    return now - (CADENCES[cadence] - SYNC_SLACK)


def fire_hour(at: datetime) -> int:
    """The hourly fire ``at`` falls in, counted from the epoch: a repository whose ``github_id`` equals it
    modulo its priority's hours is at its phase (``priorities_due.sql``)."""
    return int(at.timestamp() // FIRE_EVERY.total_seconds())


def queued_sync_ended(last_synced_at: datetime | None, sync_queued_at: datetime | None) -> bool:
    """Whether the sync this job last queued for a repository has ended (a sync ended at or after it was
    queued); ``priorities_due.sql`` applies the same rule in its ``pending`` and in its due cutoff."""
    return sync_queued_at is not None and last_synced_at is not None and last_synced_at >= sync_queued_at


def synced_from(last_synced_at: datetime | None, sync_queued_at: datetime | None) -> datetime | None:
    """When a repository's last sync counts from: the fire that queued it once it ended, else
    ``OTHER_SYNC_LEAD`` before its end (``priorities_due.sql``'s ``CASE``)."""
    if queued_sync_ended(last_synced_at, sync_queued_at):
        return sync_queued_at
    return None if last_synced_at is None else last_synced_at - OTHER_SYNC_LEAD


def still_due(priority: str | None, last_synced_at: datetime | None, sync_queued_at: datetime | None,
              now: datetime) -> bool:
    """Whether a priority sync picked up at ``now`` should run: yes while the sync this job last queued
    has not ended (it may be this one); once it has (another copy synced the repository first), only if
    its interval has passed again (a sync for its phase alone waits for the next fire). An unknown
    priority is always due."""
    if priority not in SYNC_EVERY or not queued_sync_ended(last_synced_at, sync_queued_at):
        return True
    since = synced_from(last_synced_at, sync_queued_at)
    return since is None or since <= due_before(priority, now)


def sync_workspace_priorities(data: Scheduled, ctx: RunContext) -> dict[str, Any]:
    """Score every tracked repository, store what changed, and queue the syncs that are due."""
    now = data.at(ctx.clock)
    if data.scheduled_at is not None and (late := ctx.clock.now() - data.scheduled_at) >= FIRE_EVERY:
        logger.info("stale priorities fire skipped", extra={"asOf": now.isoformat(), "late_s": late.total_seconds()})
        return {"asOf": now.isoformat(), "skipped": f"handled {int(late.total_seconds() // 60)} min after its "
                                                    "scheduled time: a newer fire is due and covers it"}
    counts = ctx.db.query("priorities_score", {
        "now": now, "velocity_since": now - VELOCITY_WINDOW, "recent_since": now - RECENT_WINDOW,
        "month_since": now - MONTH_WINDOW, "busy_items": BUSY_ITEMS, "popular_stars": POPULAR_STARS,
        "forked_forks": FORKED_FORKS, "multi_workspaces": MULTI_WORKSPACES, "points": json.dumps(POINTS),
        "high_from": HIGH_FROM, "medium_from": MEDIUM_FROM, "base_scores": json.dumps(BASE_SCORES),
    })[0]  # an aggregate without GROUP BY: always one row
    due = ctx.db.query("priorities_due", {
        **{f"{cadence}_before": due_before(cadence, now) for cadence in CADENCES},
        **{f"{cadence}_hours": every // FIRE_EVERY for cadence, every in CADENCES.items()},
        "delivered_since": now - WEBHOOKS_EVIDENCE, "reconciled_since": now - RECONCILED_WITHIN,
        "other_sync_lead": OTHER_SYNC_LEAD, "phase_before": now - (FIRE_EVERY - SYNC_SLACK),
        "fire_hour": fire_hour(now),
        "pending_before": now - SYNC_PENDING_FOR, "sync_function": catalog.resolve(SYNC_EVENT).function,
        "max_syncs": MAX_SYNCS,
    })
    to_sync = [r for r in due if not r["pending"]]
    queued = ctx.send_many(SYNC_EVENT, [
        {"repositoryId": str(r["id"]), "reason": SYNC_REASON, "priority": r["priority"]} for r in to_sync
    ])
    if to_sync:
        ctx.db.query("priorities_queued", {"now": now, "repository_ids": [str(r["id"]) for r in to_sync]})
    deferred = due[0]["due_total"] - len(queued) if due else 0
    pending = due[0]["pending_total"] if due else 0
    summary = {**counts, "syncsQueued": len(queued), "syncsQueuedCovered": sum(r["covered"] for r in to_sync),
               "deferred": deferred, "pending": pending, "asOf": now.isoformat()}
    logger.info("priorities synced", extra=summary)
    return summary


__all__ = ["still_due", "sync_workspace_priorities"]

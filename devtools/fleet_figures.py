"""The fleet scenario's figures (``devtools.fleet``): backfill time against the budget's lower bound, freshness
on the webhook and cron paths, budgets per installation, completeness, Postgres and the cost model, each
with the clock's scale factor and the machine; ``markdown`` renders them for ``bench/RESULTS.md``."""

from __future__ import annotations

import math
import os
from datetime import UTC, datetime
from pathlib import Path
from statistics import quantiles
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg.rows import dict_row

from contribsync.github.budget import DEFAULT_RESERVE
from contribsync.services.priorities import SYNC_EVERY
from devtools import chaos, cost_estimate
from devtools.cost_estimate import (
    LAMBDA_GB_SECOND_ARM,
    LAMBDA_PER_REQUEST,
    MEMORY_GB,
    RECEIVER_S,
    SCHEDULER_PER_INVOCATION,
    SQS_PER_REQUEST,
    SQS_REQUESTS_PER_MESSAGE,
)

if TYPE_CHECKING:
    from contribsync_local.stack import LocalStack
    from contribsync_sim.simulator import Simulator
    from devtools.fleet import Run
    from devtools.fleet_plan import Fleet
    from devtools.pg_activity import Activity

RESULTS = Path(__file__).resolve().parent.parent / "bench" / "results" / "fleet.json"
# each priority's freshness target is its sync interval (the priorities service's one definition)
TARGET_S = {priority: every.total_seconds() for priority, every in SYNC_EVERY.items()}
BACKFILL_GOAL, WEBHOOK_P99_GOAL_S, CRON_GOAL = 1.2, 10.0, 0.99
SYNC_TYPES = ["incremental_sync", "full_sync"]  # the sync_logs of capture/repository.sync-enhanced


def rows(dsn: str, query: str, *params: object) -> list[dict[str, Any]]:
    """A query on a connection of its own (not one of the stack's pools)."""
    with psycopg.connect(dsn, autocommit=True, row_factory=dict_row) as conn:
        return conn.execute(query, params).fetchall()


def machine() -> dict[str, Any]:
    return {"cores": os.cpu_count(), "load_1_5_15": [round(x, 2) for x in os.getloadavg()]}


def runs_snapshot(stack: LocalStack) -> dict[str, float]:
    """Runs and their summed real duration so far, and the crons fired: subtracted, a period's work."""
    [row] = rows(str(stack.database_url), "SELECT count(*) AS runs,"
                 " coalesce(sum(duration_ms), 0) AS ms FROM function_runs")
    return {"runs": row["runs"], "ms": float(row["ms"]), "crons": len(stack.cron.fired) if stack.cron else 0}


def completed_syncs(dsn: str, names: list[str]) -> dict[str, list[tuple[datetime, datetime]]]:
    """Each repository's completed pull request syncs, ``(started_at, completed_at)`` on the run's clock."""
    syncs: dict[str, list[tuple[datetime, datetime]]] = {name: [] for name in names}
    for r in rows(dsn, "SELECT r.full_name, s.started_at, s.completed_at FROM sync_logs s"
                       " JOIN repositories r ON r.id = s.repository_id WHERE r.full_name = ANY(%s)"
                       " AND s.status = 'completed' AND s.sync_type = ANY(%s) ORDER BY s.started_at",
                  names, SYNC_TYPES):
        syncs[r["full_name"]].append((r["started_at"], r["completed_at"]))
    return syncs


def as_of(syncs: list[tuple[datetime, datetime]], at: datetime) -> datetime | None:
    """What the database holds of a repository at ``at`` is GitHub's state as of the start of the last
    sync completed by then (a change after that start may or may not have been read)."""
    return max((started for started, completed in syncs if completed <= at), default=None)


def _limits(sim: Simulator) -> dict[str, int]:
    assert sim.installations is not None
    return {f"installation:{i.id}": i.limit or 5000 for i in sim.installations.installations}


def bounds(points: dict[str, int], limits: dict[str, int], reserve: float = DEFAULT_RESERVE) -> dict[str, Any]:
    """The backfill's lower bounds from the points each budget was charged (``installation:<id>/<resource>``)
    and each installation's points an hour: the issue's (points / limit), and the one the governor can
    reach, which never spends an installation's reserve (points / (limit - reserve)); both for the slowest
    installation."""
    spendable = {key: math.floor(limit * (1 - reserve)) for key, limit in limits.items()}
    charged = {key: n for key, n in points.items() if key.split("/")[1] in ("graphql", "core")}
    hours = {key: n / limits[key.split("/")[0]] for key, n in charged.items()}
    slowest = max(hours, key=hours.__getitem__) if hours else None
    within = {key: n / spendable[key.split("/")[0]] for key, n in charged.items()}
    return {"lower_bound_h": round(hours[slowest], 3) if slowest else 0.0, "slowest_installation": slowest,
            "reserve_bound_h": round(max(within.values()), 3) if within else 0.0}


def backfill(run: Run, sim: Simulator) -> dict[str, Any]:
    """Simulated backfill time against points needed / points an hour, the slowest installation."""
    bound = bounds(run.backfill["points"], _limits(sim))
    bound_h = bound["lower_bound_h"]
    took_h = run.backfill["simulated_s"] / 3600
    assert sim.installations is not None
    pages = {f"installation:{i.id}/graphql": chaos.graphql_points(
        sim.ds, [rid for rid, r in sim.ds.repos.items() if r.owner.login == i.account])
        for i in sim.installations.installations}
    return {"simulated_h": round(took_h, 3), "wall_s": round(run.backfill["wall_s"], 1),
            "full_sync_page_points": pages,  # the pages' points at the jobs' page costs: the least a backfill needs
            "points_by_installation": run.backfill["points"], **bound,
            "ratio": round(took_h / bound_h, 2) if bound_h else None,
            "ratio_to_reserve_bound": round(took_h / bound["reserve_bound_h"], 2) if bound_h else None,
            "goal": f"ratio <= {BACKFILL_GOAL}", "met": bool(bound_h) and took_h / bound_h <= BACKFILL_GOAL}


def webhook_freshness(stack: LocalStack, sim: Simulator, run: Run) -> dict[str, Any]:
    """Per change, the time from the change to its last delivery processed: the wall time from the change
    to ``processed_at`` (Postgres's clock, the same machine's), and that times the factor.

    The goal is judged on the wall time. The scaled clock stretches what waits on time (rate-limit windows,
    crons); a delivery's path (receiver, SQS, the apply function, the commit) is work this machine does in
    real seconds, as Lambda would, so times the factor it would claim a function ``factor`` times slower
    than it is. The load is the other way: the period's changes arrive ``factor`` times faster than they would on
    GitHub, so the real lag is measured under more load than production's.

    A change with a delivery the sender lost is not on the webhook path: the hourly
    ``reconcile/webhook-deliveries`` finds the failed attempt in the hook's log and has GitHub redeliver
    it. Those are counted apart (lost, redelivered, recovered) with their own lag."""
    processed = {r["delivery_id"]: r["processed_at"] for r in rows(
        str(stack.database_url), "SELECT delivery_id, processed_at FROM webhook_deliveries"
                                 " WHERE processed_at IS NOT NULL")}
    attempts = sim.deliveries.attempts()
    lost = {a.guid for a in attempts if not a.redelivery and a.status_code == 0}
    redelivered = {a.guid for a in attempts if a.redelivery and a.guid in lost}
    lags: list[float] = []
    recovery: list[float] = []
    for change in run.changes:
        ids = change["deliveries"]
        if not change["webhooks"] or not ids or not all(d in processed for d in ids):
            continue
        lag = max((processed[d] - change["wall"]).total_seconds() for d in ids) * run.factor
        (recovery if lost & set(ids) else lags).append(lag)
    p, real = _percentiles(lags), _percentiles([lag / run.factor for lag in lags], digits=2)
    return {"changes": len(lags), "p50_s": p.get(50), "p99_s": p.get(99),
            "real_p50_s": real.get(50), "real_p99_s": real.get(99),
            "max_s": round(max(lags), 1) if lags else None, "lost_deliveries": len(lost),
            "redelivered_by_reconcile": len(redelivered), "lost_and_recovered": len(lost & set(processed)),
            "never_processed": len(run.missed),
            "recovery_p50_s": _percentiles(recovery).get(50), "recovery_max_s": round(max(recovery), 1)
            if recovery else None, "goal": f"p99 <= {WEBHOOK_P99_GOAL_S:g} s, on the wall clock",
            "met": real.get(99) is not None and real[99] <= WEBHOOK_P99_GOAL_S}


def _percentiles(values: list[float], digits: int = 1) -> dict[int, float]:
    if not values:
        return {}
    p = quantiles(values, n=100, method="inclusive") if len(values) > 1 else [values[0]] * 99
    return {50: round(p[49], digits), 99: round(p[98], digits)}


def cron_freshness(run: Run, syncs: dict[str, list[tuple[datetime, datetime]]]) -> dict[str, Any]:
    """The repositories without webhooks at each hourly fire of the priority job: is what the database
    holds of each (``as_of``) within its priority's target? And, per change on them, the lag from the
    change to the end of the first sync that started after it, by priority: a sync's own run time comes on
    top of its interval there, so that lag is reported, not judged."""
    judged = [(s, s["age_s"] is not None and s["priority"] in TARGET_S and s["age_s"] <= TARGET_S[s["priority"]])
              for s in run.cron_samples]  # each sample judged once: a week has some 17,000
    within = sum(ok for _, ok in judged)
    share = within / len(judged) if judged else None
    late = sorted({s["repository"] for s, ok in judged if not ok})
    # per 24 hours from the first fire, by the priority each sample had: a backlog after the backfill
    # (every repository due at its priority's interval until its webhooks show) is told from the steady state
    first = min((s["at"] for s in run.cron_samples), default=None)
    by_day: dict[int, list[int]] = {}
    for s, ok in judged:
        counts = by_day.setdefault(int((s["at"] - first).total_seconds() // 86400) + 1, [0, 0])
        counts[0] += 1
        counts[1] += not ok
    lags: dict[str, list[float]] = {}
    unsynced = 0
    for change in run.changes:
        if change["webhooks"]:
            continue
        ends = [done for started, done in syncs.get(change["repository"], []) if started > change["at"]]
        if not ends:
            unsynced += 1
            continue
        # the repository's priority at the last fire before the change (it may move during the period)
        before = [s for s in run.cron_samples if s["repository"] == change["repository"] and s["at"] <= change["at"]]
        priority = max(before, key=lambda s: s["at"])["priority"] if before else None
        lags.setdefault(str(priority), []).append((min(ends) - change["at"]).total_seconds() / 3600)
    return {"samples": len(run.cron_samples), "within_target": within,
            "share": round(share, 4) if share is not None else None, "late_repositories": late[:20],
            "late_by_day": [{"day": day, "samples": n, "late": k} for day, (n, k) in sorted(by_day.items())],
            "goal": f"share >= {CRON_GOAL}", "met": share is not None and share >= CRON_GOAL,
            "change_lag_h": {k: {"changes": len(v), **{f"p{q}": x for q, x in _percentiles(v, 2).items()},
                                 "max": round(max(v), 2)} for k, v in sorted(lags.items())},
            "changes_never_synced": unsynced}


def budget(sim: Simulator) -> dict[str, Any]:
    limits = _limits(sim)
    lowest = {f"{t}/{r}": n for (t, r), n in sim.app.counters.lowest_by_budget.items() if t in limits}
    below = {k: n for k, n in lowest.items() if n < math.ceil(limits[k.split("/")[0]] * DEFAULT_RESERVE)}
    return {"limits": limits, "lowest_remaining": lowest, "below_reserve": below,
            "secondary_limit_hits": sim.app.counters.faults.get("secondary", 0),
            "refused_spent_budget": sim.app.counters.limited}


def token_use(sim: Simulator, fleet: Fleet) -> dict[str, Any]:
    """Every request naming an owner carried that owner's installation token (``installations.tally``)."""
    assert sim.installations is not None
    ids = {i.account: i.id for i in sim.installations.installations}
    wrong = {f"{inst}->{owner}": n for (inst, owner, _), n in sim.installations.tally.items()
             if inst is not None and owner is not None and ids.get(owner) != inst}
    refused = sum(n for (_, _, refused), n in sim.installations.tally.items() if refused)
    by_installation: dict[str, int] = {}
    for (inst, _, _), n in sim.installations.tally.items():
        by_installation[str(inst)] = by_installation.get(str(inst), 0) + n
    return {"requests_by_installation": by_installation, "wrong_installation": wrong, "refused": refused,
            "owners": sorted(fleet.by_owner())}


def cost(run: Run, days: float) -> dict[str, Any]:
    """The change period's work per simulated day, priced with ``cost_estimate``'s constants. Durations are
    the local stack's real run times (this machine's CPU, not Lambda's); the backfill is not included."""
    start, end = run.meters["start"], run.meters["end"]
    # duration_ms is on the run's clock (simulated): over the factor, the real seconds a Lambda would bill
    runs, seconds = end["runs"] - start["runs"], (end["ms"] - start["ms"]) / 1000 / run.factor
    deliveries = sum(len(c["deliveries"]) for c in run.changes if c["webhooks"])
    gb_s = (seconds + deliveries * RECEIVER_S) * MEMORY_GB / days
    invocations = (runs + deliveries) / days
    sqs = runs * SQS_REQUESTS_PER_MESSAGE / days
    scheduler = (end["crons"] - start["crons"]) / days
    price = gb_s * LAMBDA_GB_SECOND_ARM + invocations * LAMBDA_PER_REQUEST + sqs * SQS_PER_REQUEST + \
        scheduler * SCHEDULER_PER_INVOCATION
    return {"per_simulated_day": {"lambda_gb_s": round(gb_s, 1), "lambda_invocations": round(invocations),
                                  "sqs_requests": round(sqs), "scheduler_invocations": round(scheduler, 1),
                                  "usd": round(price, 4)},
            "prices_as_of": cost_estimate.PRICES_AS_OF, "free_tier": "not subtracted"}


def figures(stack: LocalStack, sim: Simulator, fleet: Fleet, run: Run, activity: Activity) -> dict[str, Any]:
    config = fleet.config
    return {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine(),
        "scale_factor": run.factor, "backfill_scale_factor": run.backfill_factor,
        "config": {k: v for k, v in vars(config).items()},
        "dataset": {"repositories": len(sim.ds.repos), "pull_requests": len(sim.ds.prs),
                    "issues": len(sim.ds.issues), "changes": len(run.changes),
                    "webhook_repositories": sum(r.webhooks for r in fleet.repositories)},
        "backfill": backfill(run, sim), "freshness_webhooks": webhook_freshness(stack, sim, run),
        "freshness_cron": cron_freshness(run, completed_syncs(
            str(stack.database_url), sorted({c["repository"] for c in run.changes if not c["webhooks"]}))),
        "budget": budget(sim), "token_use": token_use(sim, fleet),
        "completeness": {"problems": run.problems, "reconciliation": run.reconciliation,
                         "cron_catch_up_simulated_s": run.cron_catch_up_s},
        "postgres": activity.summary(10), "cost": cost(run, config.days),
        "wall_s": {k: round(v, 1) for k, v in run.timings.items()},
    }


def _met(figure: dict[str, Any]) -> str:
    met = figure.get("met")
    return "not judged" if met is None else "met" if met else "missed"


def markdown(f: dict[str, Any]) -> list[str]:
    """The ``bench/RESULTS.md`` section."""
    b, w, c, g = f["backfill"], f["freshness_webhooks"], f["freshness_cron"], f["budget"]
    d, cost_day, pg = f["dataset"], f["cost"]["per_simulated_day"], f["postgres"]
    busiest = "; ".join(f"`{s['statement'][:60]}` {s['seconds']} s" for s in pg["busiest"][:5])
    rows = [
        ["scale", f"factor {f['backfill_scale_factor']:g} through the backfill, {f['scale_factor']:g} after "
                  f"(simulated s per real s); {f['machine']['cores']} cores, load "
                  f"{f['machine']['load_1_5_15']}; measured {f['measured_at']}"],
        ["fleet", f"{d['repositories']} repositories over {f['config']['owners']} installations, "
                  f"{d['pull_requests']:,} PRs, {d['issues']:,} issues; {d['changes']:,} changes over "
                  f"{f['config']['days']:g} simulated days; {d['webhook_repositories']} with webhooks"],
        ["initial backfill", f"{b['simulated_h']} simulated h ({b['wall_s']} s real) vs lower bound "
                             f"{b['lower_bound_h']} h ({b['slowest_installation']}): ratio {b['ratio']} "
                             f"(goal {b['goal']}); {b.get('ratio_to_reserve_bound')} of the bound that keeps "
                             f"every reserve ({b.get('reserve_bound_h')} h)"],
        ["freshness, webhooks", f"p50 {w['real_p50_s']} s, p99 {w['real_p99_s']} s real over {w['changes']} "
                                f"changes (goal {w['goal']}: {_met(w)}); times the factor, p50 {w['p50_s']} s, "
                                f"p99 {w['p99_s']} s, max {w['max_s']} s simulated"],
        ["lost deliveries", f"{w['lost_deliveries']} lost, {w['redelivered_by_reconcile']} redelivered by the "
                            f"reconcile, {w['lost_and_recovered']} processed in the end (recovery p50 "
                            f"{w['recovery_p50_s']} s, max {w['recovery_max_s']} s simulated); "
                            f"{w['never_processed']} never processed"],
        ["freshness, cron", f"{c['within_target']} of {c['samples']} samples at the hourly fires within "
                            f"target: {c['share']} (goal {c['goal']}: {_met(c)}); a change's lag to the "
                            f"database, p50 / p99 / max h: " + ", ".join(
                                f"{k} {v.get('p50')} / {v.get('p99')} / {v['max']} ({v['changes']})"
                                for k, v in c.get("change_lag_h", {}).items())
                            + ("; late samples per 24 h from the first fire: "
                               + ", ".join(str(d["late"]) for d in c["late_by_day"]) if c.get("late_by_day") else "")],
        ["budget", f"below reserve: {g['below_reserve'] or 'none'}; secondary-limit hits "
                   f"{g['secondary_limit_hits']}; refused for a spent budget {g['refused_spent_budget']}"],
        ["token use", f"wrong installation {f['token_use']['wrong_installation'] or 'none'}; "
                      f"requests {f['token_use']['requests_by_installation']}"],
        ["completeness", f"{f['completeness']['problems'][:3] or 'equal to ground truth'};"
                         f" reconciliation: {f['completeness']['reconciliation']}; the cron path synced the last"
                         f" changes {f['completeness']['cron_catch_up_simulated_s']} simulated s after the period"],
        ["Postgres", f"peak {pg['peak_connections']} connections; busiest: {busiest}"],
        ["cost / simulated day", f"{cost_day['lambda_gb_s']} Lambda GB-s, {cost_day['lambda_invocations']} "
                                 f"invocations, {cost_day['sqs_requests']} SQS requests, "
                                 f"{cost_day['scheduler_invocations']} Scheduler invocations: ${cost_day['usd']}"],
    ]
    # what happened to a run beyond its figures (added to fleet.json by whoever ran it)
    notes = [f"- {note}" for note in f.get("notes", [])]
    return ["| figure | value |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows), "", *notes,
            *([""] if notes else [])]


__all__ = ["RESULTS", "as_of", "bounds", "completed_syncs", "cron_freshness", "figures", "machine", "markdown",
           "runs_snapshot"]

"""A monthly AWS cost estimate for 100 and 1,000 tracked repositories, from a worked calculation.

``python -m devtools.cost_estimate`` prints the table that ``devtools.gen_deploy_doc`` writes into
docs/DEPLOY.md. What comes from the code: the functions, queues, event source mappings and schedules
(``template.yaml``), how often each cron fires (the catalog), how often a repository is synced (the
priorities service's ``SYNC_EVERY``) and re-classified (``classify.STALE_AFTER``). What was measured: the
run durations read from ``bench/results/*.json`` (named below). Everything else is an assumption, a named
constant here: change it and regenerate the doc.

Prices: AWS's us-east-1 list prices for arm64 Lambda, SQS standard queues, EventBridge Scheduler,
CloudWatch and X-Ray, as of ``PRICES_AS_OF`` (written down from AWS's pricing pages, not fetched: check
them before relying on the figures). The table is computed without free tiers; its last line applies
the always-free monthly tiers of ``FREE``.
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from contribsync import catalog
from contribsync.services.classify import STALE_AFTER
from contribsync.services.priorities import SYNC_EVERY

ROOT = Path(__file__).resolve().parents[1]
DAYS_PER_MONTH = 30
REPOSITORY_COUNTS = (100, 1000)

# -- prices (USD, us-east-1) ------------------------------------------------------------------------
PRICES_AS_OF = "2026-12-07"
LAMBDA_GB_SECOND_ARM = 0.0000133334
LAMBDA_PER_REQUEST = 0.20 / 1e6
SQS_PER_REQUEST = 0.40 / 1e6  # standard queue; each 64 KB chunk of a payload is one request
SCHEDULER_PER_INVOCATION = 1.00 / 1e6
CLOUDWATCH_ALARM = 0.10  # per standard-resolution alarm metric, per month
CLOUDWATCH_DASHBOARD = 3.00  # per dashboard, per month
CLOUDWATCH_LOGS_PER_GB = 0.50  # ingestion (storage, $0.03/GB-month, is left out: set a retention)
CLOUDWATCH_CUSTOM_METRIC = 0.30  # per metric (name + dimensions) per month, first 10,000
XRAY_PER_TRACE = 5.00 / 1e6  # the template turns active tracing on
# always-free monthly tiers, applied only on the last line
FREE = {"lambda_gb_s": 400_000, "lambda_requests": 1_000_000, "sqs_requests": 1_000_000,
        "scheduler_invocations": 14_000_000, "alarms": 10, "dashboards": 3, "logs_gb": 5.0,
        "custom_metrics": 10, "xray_traces": 100_000}

# -- the deployment (template.yaml's Globals) and what CloudWatch gets ------------------------------
MEMORY_GB = 512 / 1024  # MemorySize 512, arm64
DASHBOARDS = 1
RUN_METRICS = 7  # RunCompleted, RunFailed, RunRetried, Deferred, DeadLettered, GitHubPointsUsed, GitHubBudgetRemaining
LOG_BYTES_PER_INVOCATION = 2_500  # Lambda's START/END/REPORT lines, a few JSON log lines and the EMF line
SQS_REQUESTS_PER_MESSAGE = 3  # send, receive, delete (one 64 KB chunk: events and webhook envelopes are small)
# An event source mapping long-polls its queue even when it is empty. AWS does not document how many
# pollers an idle mapping keeps; 5 pollers x 3 twenty-second polls a minute is the commonly measured figure.
IDLE_POLLS_PER_MAPPING_PER_MINUTE = 15.0

# -- the workload (assumptions) ---------------------------------------------------------------------
PRIORITY_MIX = {"high": 0.10, "medium": 0.30, "low": 0.60}  # share of tracked repositories per priority
DISCUSSIONS_SHARE = 0.30  # repositories with discussions enabled
WEBHOOKS_PER_REPOSITORY_PER_DAY = 25.0  # PR, review, comment, issue, push and star deliveries
SENDER_EVENTS_PER_REPOSITORY_PER_DAY = 2.0  # events contributor.info's app posts to the event API
PR_DETAILS_PER_REPOSITORY_PER_DAY = 2.0  # capture/pr.details follow-ups of the syncs
REPOSITORIES_PER_WORKSPACE = 20.0
COLD_START_SHARE = 0.05  # invocations that pay a cold start
RECEIVER_S = 0.05  # a webhook delivery verified, stored and queued, on AWS
APPLY_S = 0.10  # a stored delivery applied, on AWS
OTHER_METRICS = 12  # the event API's, the receiver's and a few services' own counts (EMF)

# -- durations (seconds of a run, billed) -----------------------------------------------------------


def _bench(name: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads((ROOT / "bench" / "results" / name).read_text())
    return result


@cache
def measured_durations() -> dict[str, tuple[float, str]]:
    """Each kind of run's billed seconds, and where the figure comes from."""
    webhooks, peers = _bench("webhooks.json"), _bench("peers.json")
    workspaces, imports = _bench("workspaces.json"), _bench("imports.json")
    incremental = peers["tools"]["contribsync"]["bench_sync"]["incremental"]
    receiver_ms = webhooks["moto"]["receiver_in_process"]["p50_ms"]
    apply_ms = sum(webhooks["moto"]["local_stack"]["cpu"]["ms_per_unit"][k] for k in ("this_process", "postgres"))
    init_ms = max(f["total_ms"] for f in imports["functions"].values())
    return {
        "sync": (incremental["wall_s"], "measured: an incremental sync of a day's 300 changes on a 5,000-PR "
                 "repository, 1 s per GraphQL page (bench/results/peers.json)"),
        "aggregate": (workspaces["aggregate"]["p50_s"], "measured: p50 aggregation of a 20-repository workspace "
                      "(bench/results/workspaces.json)"),
        "receiver": (RECEIVER_S, f"assumed; measured {receiver_ms:g} ms p50 per delivery in process with a "
                     "local Postgres and SQS (bench/results/webhooks.json): on AWS each is a network round trip"),
        "apply": (APPLY_S, f"assumed; measured {apply_ms:.1f} ms of CPU per applied delivery, handler and "
                  "Postgres (bench/results/webhooks.json), plus about 15 statements' round trips on AWS"),
        "init": (init_ms / 1000, "measured: the slowest handler's cold import (bench/results/imports.json)"),
        "pr_details": (1.5, "assumed: one GraphQL query of about 1 s, and the write"),
        "discussions": (2.0, "assumed: a page of discussions and their summaries"),
        "event_api": (RECEIVER_S, "as the receiver: validate and queue"),
        "other": (0.5, "assumed: crons, fan-outs, classification, senders' events' runs"),
    }


# -- the catalog's crons ----------------------------------------------------------------------------


def _field_matches(spec: str, value: int) -> bool:
    """One field of a 5-field cron (``*``, ``*/n``, ``a``, ``a-b``, lists): what the catalog uses."""
    for part in spec.split(","):
        base, _, step = part.partition("/")
        if base == "*":
            low, high = 0, 10_000
        elif "-" in base:
            low, high = (int(x) for x in base.split("-"))
        else:
            low = high = int(base)
        if low <= value <= high and (value - low) % int(step or 1) == 0:
            return True
    return False


@cache
def fires_per_day(cron: str) -> float:
    """How often a 5-field cron fires, averaged over a week (written by hand: a 20-line count over the
    week's minutes needs no cron library in the layer or the dev tools)."""
    minute, hour, dom, month, dow = cron.split()
    start = datetime(2026, 1, 4, tzinfo=UTC)  # a Sunday
    fires = 0
    for i in range(7 * 24 * 60):
        t = start + timedelta(minutes=i)
        if all(_field_matches(s, v) for s, v in ((minute, t.minute), (hour, t.hour), (dom, t.day),
                                                  (month, t.month), (dow, (t.weekday() + 1) % 7))):
            fires += 1
    return fires / 7


# -- the calculation --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Deployment:
    functions: int
    queue_fed_functions: int
    mappings: int
    schedules: int
    alarm_metrics: int  # CloudWatch bills an alarm per metric it reads (a metric-math alarm reads several)


@cache
def deployment() -> Deployment:
    resources = yaml.safe_load((ROOT / "template.yaml").read_text())["Resources"].values()
    types = [r["Type"] for r in resources]
    fed = {r["Properties"]["FunctionName"]["Ref"] for r in resources
           if r["Type"] == "AWS::Lambda::EventSourceMapping" and isinstance(r["Properties"].get("FunctionName"), dict)}
    alarm_metrics = sum(sum("MetricStat" in m for m in r["Properties"]["Metrics"]) if "Metrics" in r["Properties"]
                        else 1 for r in resources if r["Type"] == "AWS::CloudWatch::Alarm")
    return Deployment(functions=types.count("AWS::Serverless::Function"), queue_fed_functions=len(fed),
                      mappings=types.count("AWS::Lambda::EventSourceMapping"),
                      schedules=types.count("AWS::Scheduler::Schedule"), alarm_metrics=alarm_metrics)


def syncs_per_repository_per_day() -> float:
    return sum(share * timedelta(days=1) / SYNC_EVERY[priority] for priority, share in PRIORITY_MIX.items())


def daily_runs(repositories: int) -> dict[str, float]:
    """Runs a day by kind, for ``repositories`` tracked repositories."""
    crons = {e.function: fires_per_day(e.schedule) for e in catalog.EVENTS if e.schedule}
    workspaces = math.ceil(repositories / REPOSITORIES_PER_WORKSPACE)
    return {
        "sync": repositories * syncs_per_repository_per_day(),
        "pr_details": repositories * PR_DETAILS_PER_REPOSITORY_PER_DAY,
        "discussions": repositories * DISCUSSIONS_SHARE * crons["SyncDiscussionsCron"],
        "aggregate": workspaces * crons["ScheduledWorkspaceAggregation"],
        "apply": repositories * WEBHOOKS_PER_REPOSITORY_PER_DAY,
        "receiver": repositories * WEBHOOKS_PER_REPOSITORY_PER_DAY,
        "event_api": repositories * SENDER_EVENTS_PER_REPOSITORY_PER_DAY,
        "other": (sum(crons.values()) + repositories / STALE_AFTER.days
                  + repositories * SENDER_EVENTS_PER_REPOSITORY_PER_DAY),  # a sent event's run
    }


def monthly(repositories: int) -> dict[str, tuple[str, float]]:
    """Each line of the estimate: (quantity, USD a month), free tiers not applied."""
    d = deployment()
    durations = measured_durations()
    runs = daily_runs(repositories)
    invocations = sum(runs.values()) * DAYS_PER_MONTH
    cold = invocations * COLD_START_SHARE * durations["init"][0]
    gb_s = (sum(n * durations[kind][0] for kind, n in runs.items()) * DAYS_PER_MONTH + cold) * MEMORY_GB
    # every run but the URL functions' invocations is one SQS message (re-queues and retries not counted)
    messages = invocations - (runs["receiver"] + runs["event_api"]) * DAYS_PER_MONTH
    idle_polls = d.mappings * IDLE_POLLS_PER_MAPPING_PER_MINUTE * 60 * 24 * DAYS_PER_MONTH
    sqs_requests = messages * SQS_REQUESTS_PER_MESSAGE + idle_polls
    scheduler = sum(fires_per_day(e.schedule) for e in catalog.EVENTS if e.schedule) * DAYS_PER_MONTH
    alarms = d.alarm_metrics
    metrics = RUN_METRICS * d.functions + d.queue_fed_functions + OTHER_METRICS  # + RecordsReceived
    logs_gb = invocations * LOG_BYTES_PER_INVOCATION / 1e9
    return {
        "Lambda compute": (f"{gb_s:,.0f} GB-s", gb_s * LAMBDA_GB_SECOND_ARM),
        "Lambda requests": (f"{invocations:,.0f} invocations", invocations * LAMBDA_PER_REQUEST),
        "SQS requests": (f"{sqs_requests:,.0f} ({idle_polls:,.0f} idle polls)", sqs_requests * SQS_PER_REQUEST),
        "EventBridge Scheduler": (f"{scheduler:,.0f} invocations", scheduler * SCHEDULER_PER_INVOCATION),
        "CloudWatch alarms": (f"{alarms} alarm metrics", alarms * CLOUDWATCH_ALARM),
        "CloudWatch dashboard": (f"{DASHBOARDS} dashboard", DASHBOARDS * CLOUDWATCH_DASHBOARD),
        "CloudWatch Logs ingestion": (f"{logs_gb:,.2f} GB", logs_gb * CLOUDWATCH_LOGS_PER_GB),
        "CloudWatch custom metrics (EMF)": (f"{metrics} metrics", metrics * CLOUDWATCH_CUSTOM_METRIC),
        "X-Ray traces": (f"{invocations:,.0f} traces", invocations * XRAY_PER_TRACE),
    }


def free_tier_savings(repositories: int) -> float:
    """What the always-free tiers take off the total."""
    d = deployment()
    lines = monthly(repositories)
    quantity = {name: float(text.split()[0].replace(",", "")) for name, (text, _) in lines.items()}
    saved = {
        "Lambda compute": min(quantity["Lambda compute"], FREE["lambda_gb_s"]) * LAMBDA_GB_SECOND_ARM,
        "Lambda requests": min(quantity["Lambda requests"], FREE["lambda_requests"]) * LAMBDA_PER_REQUEST,
        "SQS requests": min(quantity["SQS requests"], FREE["sqs_requests"]) * SQS_PER_REQUEST,
        "EventBridge Scheduler": min(quantity["EventBridge Scheduler"], FREE["scheduler_invocations"])
        * SCHEDULER_PER_INVOCATION,
        "CloudWatch alarms": min(d.alarm_metrics, FREE["alarms"]) * CLOUDWATCH_ALARM,
        "CloudWatch dashboard": min(DASHBOARDS, FREE["dashboards"]) * CLOUDWATCH_DASHBOARD,
        "CloudWatch Logs ingestion": min(quantity["CloudWatch Logs ingestion"], FREE["logs_gb"])
        * CLOUDWATCH_LOGS_PER_GB,
        "CloudWatch custom metrics (EMF)": min(quantity["CloudWatch custom metrics (EMF)"], FREE["custom_metrics"])
        * CLOUDWATCH_CUSTOM_METRIC,
        "X-Ray traces": min(quantity["X-Ray traces"], FREE["xray_traces"]) * XRAY_PER_TRACE,
    }
    return sum(saved.values())


def table() -> str:
    """The estimate as Markdown: its lines for each repository count, then its assumptions."""
    d = deployment()
    estimates = {n: monthly(n) for n in REPOSITORY_COUNTS}
    head = " | ".join(f"{n:,} repositories | USD" for n in REPOSITORY_COUNTS)
    out = [f"| item | {head} |", "|---|" + "---|---|" * len(REPOSITORY_COUNTS)]
    for name in estimates[REPOSITORY_COUNTS[0]]:
        cells = " | ".join(f"{estimates[n][name][0]} | {estimates[n][name][1]:,.2f}" for n in REPOSITORY_COUNTS)
        out.append(f"| {name} | {cells} |")
    totals = {n: sum(cost for _, cost in estimates[n].values()) for n in REPOSITORY_COUNTS}
    out.append("| **total, no free tier** | " + " | ".join(f" | **{totals[n]:,.2f}**" for n in REPOSITORY_COUNTS)
               + " |")
    out.append("| total with the always-free tiers | " + " | ".join(
        f" | {max(0.0, totals[n] - free_tier_savings(n)):,.2f}" for n in REPOSITORY_COUNTS) + " |")
    out += ["", f"Prices: us-east-1 list prices as of {PRICES_AS_OF}, written down, not fetched: Lambda arm64 "
            f"${LAMBDA_GB_SECOND_ARM:.10f} per GB-s and ${LAMBDA_PER_REQUEST * 1e6:.2f} per million requests; SQS "
            f"${SQS_PER_REQUEST * 1e6:.2f} per million requests (each 64 KB chunk one request); EventBridge "
            f"Scheduler ${SCHEDULER_PER_INVOCATION * 1e6:.2f} per million invocations; CloudWatch "
            f"${CLOUDWATCH_ALARM:.2f} per alarm metric, ${CLOUDWATCH_DASHBOARD:.2f} per dashboard, "
            f"${CLOUDWATCH_LOGS_PER_GB:.2f} per GB of logs ingested and ${CLOUDWATCH_CUSTOM_METRIC:.2f} per custom "
            f"metric a month; X-Ray ${XRAY_PER_TRACE * 1e6:.2f} per million traces. Always-free tiers (last "
            "line only): Lambda 400,000 GB-s and 1M requests, SQS 1M requests, Scheduler 14M invocations, "
            "10 alarms, 3 dashboards, 5 GB of logs, 10 custom metrics, 100,000 traces. Not included: the "
            "database, a NAT gateway (see the VPC note), data transfer, OpenAI.", "",
            f"From the template: {d.functions} functions ({d.queue_fed_functions} fed by queues), "
            f"{d.mappings} event source mappings (a normal and a high-priority queue each), {d.schedules} "
            f"schedules; {d.alarm_metrics} alarm metrics (DLQ not empty, oldest message age on either queue, "
            f"Lambda errors and throttles); custom metrics: {RUN_METRICS} run metrics x "
            f"{d.functions} functions = {RUN_METRICS * d.functions} at ${CLOUDWATCH_CUSTOM_METRIC:.2f} each a "
            f"month (a metric is a name with its dimensions, and each function has its own `function` "
            f"dimension; a function that never calls GitHub publishes no GitHub metrics, so this is an upper "
            f"bound), plus `RecordsReceived` per queue-fed function and about {OTHER_METRICS} others. They "
            "are the largest line: a dashboard that needs no per-function figure could drop the dimension.", ""]
    runs = daily_runs(REPOSITORY_COUNTS[0])
    out.append(f"Runs a day for {REPOSITORY_COUNTS[0]} repositories (they scale with the count but for the "
               "crons): " + ", ".join(f"{kind} {n:,.0f}" for kind, n in runs.items()) + ". Where from:")
    intervals = ", ".join(f"{p} every {v / timedelta(hours=1):g} h" for p, v in SYNC_EVERY.items())
    mix = ", ".join(f"{s:.0%} {p}" for p, s in PRIORITY_MIX.items())
    crons = ", ".join(f"{e.function} {fires_per_day(e.schedule):.3g}/day" for e in catalog.EVENTS if e.schedule)
    out.append(f"- syncs: {syncs_per_repository_per_day():.1f} a repository a day, from the priorities "
               f"service's intervals ({intervals}) and an assumed mix of {mix};")
    out.append(f"- crons: {crons} (the catalog); discussions: the 12-hourly cron for the "
               f"{DISCUSSIONS_SHARE:.0%} of repositories assumed to have them; re-classification every "
               f"{STALE_AFTER.days} days;")
    out.append(f"- assumed: {WEBHOOKS_PER_REPOSITORY_PER_DAY:g} webhook deliveries a repository a day (one "
               f"receiver invocation and one applying run each), {SENDER_EVENTS_PER_REPOSITORY_PER_DAY:g} events "
               f"from contributor.info's senders, {PR_DETAILS_PER_REPOSITORY_PER_DAY:g} pull request details, one "
               f"workspace per {REPOSITORIES_PER_WORKSPACE:g} repositories, {COLD_START_SHARE:.0%} cold starts, "
               f"{LOG_BYTES_PER_INVOCATION:,} bytes of logs an invocation, "
               f"{IDLE_POLLS_PER_MAPPING_PER_MINUTE:g} empty long polls a minute per event source mapping;")
    out.append("- run durations (billed seconds at 512 MB): " + "; ".join(
        f"{kind} {seconds:.3g} s ({source})" for kind, (seconds, source) in measured_durations().items()) + ".")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    print(table())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""``make bench`` (webhooks): figures in ``bench/results/webhooks.json``.

1. **Receiver in process**: ``WebhookReceiver.handle`` called directly (as Lambda calls it) on
   change-mode deliveries, each verified, stored in the embedded Postgres and sent to its queue on the
   SQS endpoint, before the pollers start (so nothing else competes for the 2 cores). p50/p99/max.
2. **Through the local stack**: the same kind of deliveries POSTed to ``/webhook`` by 8 senders (in a
   process of their own, as GitHub is elsewhere), until every one is processed by the webhook functions'
   pollers into Postgres: deliveries/s. The stack serves HTTP from a process of its own, as
   ``contribsync dev`` does (the receiver is a Lambda of its own on AWS).
3. **Raw SQS rate** of that endpoint in the same run: one message per delivery through the same
   operations the path above makes on it (send, receive in batches of 10, delete), with the same
   concurrency, sending and receiving at once as the pipeline does. The ratio of 2 to 3 is the share of
   the endpoint's own rate the pipeline keeps. 2 and 3 alternate for ``--rounds`` rounds (5) on the
   same stack; the round with the median ratio is reported, with every round beside it.

Both SQS endpoints are measured (``--sqs`` picks one): moto, which the local stack uses by default,
and fauxqs, a faster one, behind ``AWS_ENDPOINT_URL_SQS`` (moto's SQS slows down as queues fill; with
fauxqs the figures show contribsync's own cost). The local stack runs every poller and handler in one
Python process (the HTTP endpoint in a second), so its deliveries/s is bounded by the handlers' CPU on
this machine's 2 cores.

Both measured stretches also account the CPU seconds each part spent (from ``/proc``: this process,
which runs the stack's pollers and handlers or the raw client, the stack's HTTP process, Postgres, the
SQS endpoint, GitHub's senders) and how busy the machine's cores were, so the ratio comes with where
the time went.

Timings live here, never in the tests.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import statistics
import threading
import time
import uuid
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console

from contribsync import catalog
from contribsync.clients import Clients
from contribsync.settings import Settings
from contribsync.webhook_receiver import WebhookReceiver
from contribsync_local import postgres
from contribsync_local.fauxqs import FauxqsServer
from contribsync_local.stack import LocalStack
from contribsync_sim.dataset import generate
from contribsync_sim.simulator import Simulator
from devtools.cpu_meter import CpuMeter

RESULTS = Path(__file__).resolve().parent.parent / "bench" / "results" / "webhooks.json"
SECRET = "bench-webhook-secret"
SENDERS = 8
console = Console(width=120)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _deliveries(sim: Simulator, n: int, seed: int) -> list[Any]:
    feed = sim.feed(SECRET, seed=seed)
    out: list[Any] = []
    while len(out) < n:
        out += feed.step()
    return out[:n]


def bench_receiver(stack: LocalStack, sim: Simulator, n: int, seed: int) -> dict[str, Any]:
    receiver = WebhookReceiver(Clients(Settings(database_url=stack.db.dsn, webhook_secrets=(SECRET,)), db=stack.db,
                                       queues=stack.queues))
    timings: list[float] = []
    statuses: dict[int, int] = {}
    for d in _deliveries(sim, n, seed):
        event = {"headers": d.headers, "body": d.body.decode(), "isBase64Encoded": False}
        started = time.perf_counter()
        status = receiver.handle(event, None)["statusCode"]
        timings.append((time.perf_counter() - started) * 1000)
        statuses[status] = statuses.get(status, 0) + 1
    return {"deliveries": n, "statuses": statuses, "p50_ms": round(_percentile(timings, 0.50), 1),
            "p99_ms": round(_percentile(timings, 0.99), 1), "max_ms": round(max(timings), 1),
            "mean_ms": round(statistics.fmean(timings), 1)}


def _post(url: httpx.URL, body: bytes, headers: dict[str, str]) -> int:
    connection = http.client.HTTPConnection(url.host, url.port, timeout=30)
    try:
        connection.request("POST", url.raw_path.decode(), body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def _post_all(url: str, posts: list[tuple[bytes, dict[str, str]]]) -> tuple[list[int], float]:
    """GitHub's side: POST every delivery with ``SENDERS`` threads; the statuses, and the CPU seconds it
    took. Run in a process of its own, so the sending does not take the interpreter from the stack it
    measures (GitHub is not on this machine). The standard library's client, not httpx: the senders
    share the machine's 2 cores with what is measured, and it spends half of httpx's CPU a post."""
    cpu = time.process_time()
    target = httpx.URL(url)
    with ThreadPoolExecutor(SENDERS) as pool:
        statuses = list(pool.map(lambda p: _post(target, *p), posts))
    return statuses, time.process_time() - cpu


def bench_stack(stack: LocalStack, sim: Simulator, n: int, seed: int, endpoint_pid: int | None) -> dict[str, Any]:
    deliveries = _deliveries(sim, n, seed)
    since = stack.db.connection().execute("SELECT now() AS t").fetchone()["t"]  # type: ignore[index]
    assert stack.http is not None  # started with the stack
    url = f"{stack.http.url}/webhook"
    receives = sum(p.receives for p in stack.every_poller())
    posts = [(d.body, dict(d.headers)) for d in deliveries]
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as github:
        github.submit(_post_all, url, []).result()  # started and imported before the clock starts
        meter = CpuMeter(endpoint_pid, getattr(stack.http, "pid", None)).start()
        started = time.monotonic()
        statuses, senders_cpu_s = github.submit(_post_all, url, posts).result()
        meter.add("github_senders", senders_cpu_s)
        accepted = time.monotonic() - started

    def processed() -> bool:  # by arrival time, not a list of ids: checking must not load the stack
        row = stack.db.connection().execute(
            "SELECT count(*) AS n FROM webhook_deliveries WHERE received_at >= %s AND status IN"
            " ('processed', 'failed')", (since,)).fetchone()
        return row is not None and row["n"] == n

    if not stack.wait_idle(900, until=processed):
        raise SystemExit("the webhook functions did not process every delivery in 15 minutes")
    wall = time.monotonic() - started
    meter.stop()
    failed = stack.db.connection().execute(
        "SELECT count(*) AS n FROM webhook_deliveries WHERE received_at >= %s AND status = 'failed'",
        (since,)).fetchone()
    receives = sum(p.receives for p in stack.every_poller()) - receives
    return {"deliveries": n, "senders": SENDERS, "accepted_s": round(accepted, 2), "wall_s": round(wall, 2),
            "sqs_receives": receives,
            "deliveries_per_s": round(n / wall, 1), "all_202": statuses.count(202) == n,
            "failed": failed["n"] if failed else None, "cpu": meter.report(n)}


def bench_raw_sqs(stack: LocalStack, n: int, endpoint_pid: int | None) -> dict[str, Any]:
    """``n`` messages through one queue as the pipeline moves them: ``SENDERS`` threads send one message
    each time while as many receive (10 at a time) and delete, all at once, so the queue stays as shallow
    as it does under the stack (moto slows down as a queue deepens: a send-everything-then-drain
    measurement would understate its rate)."""
    sqs = stack.sqs
    url = sqs.create_queue(QueueName=f"bench-raw-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    body = json.dumps({"name": "webhook/issues", "data": {"deliveryId": str(uuid.uuid4()), "event": "issues"}})
    sent = threading.Event()
    received = 0
    lock = threading.Lock()

    def drain(_: int) -> None:
        nonlocal received
        while True:
            messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                           VisibilityTimeout=60).get("Messages", [])
            if messages:
                sqs.delete_message_batch(QueueUrl=url, Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)])
                with lock:
                    received += len(messages)
            elif sent.is_set():
                return
            with lock:
                if received >= n:
                    return

    started = time.monotonic()
    with CpuMeter(endpoint_pid) as meter, ThreadPoolExecutor(2 * SENDERS) as pool:
        drains = [pool.submit(drain, i) for i in range(SENDERS)]
        list(pool.map(lambda _: sqs.send_message(QueueUrl=url, MessageBody=body), range(n)))
        sending = time.monotonic() - started
        sent.set()
        for d in drains:
            d.result()
    wall = time.monotonic() - started
    sqs.delete_queue(QueueUrl=url)
    return {"messages": n, "received": received, "senders": SENDERS, "receivers": SENDERS,
            "send_s": round(sending, 2), "wall_s": round(wall, 2), "messages_per_s": round(n / wall, 1),
            "cpu": meter.report(n)}


def run(n: int, seed: int, sqs: str, rounds: int = 5) -> dict[str, Any]:
    fauxqs = FauxqsServer() if sqs == "fauxqs" else None
    if fauxqs is not None:
        os.environ["AWS_ENDPOINT_URL_SQS"] = fauxqs.start()
    try:
        return _run(n, seed, sqs, rounds, fauxqs.pid if fauxqs is not None else None)
    finally:
        if fauxqs is not None:
            fauxqs.stop()
            os.environ.pop("AWS_ENDPOINT_URL_SQS", None)


def _run(n: int, seed: int, sqs: str, rounds: int, endpoint_pid: int | None) -> dict[str, Any]:
    dsn = postgres.create_database(postgres.server_url(), "contribsync_bench_webhooks", drop_first=True)
    sim = Simulator(dataset=generate(seed, repos=2, prs_per_repo=50))
    os.environ["GITHUB_WEBHOOK_SECRET"] = SECRET
    os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"  # the receiver runs outside the stack's handlers too
    with LocalStack(database_url=dsn, port=0, prefix=f"benchwh{uuid.uuid4().hex[:6]}", cron=False,
                    simulator=sim, poller_concurrency=4, retry_base_s=1, pollers=False,
                    http_process=True) as stack:
        endpoint = os.environ.get("AWS_ENDPOINT_URL_SQS") or stack.aws_endpoint
        if endpoint_pid is None and stack.moto is not None:
            endpoint_pid = stack.moto.pid
        results: dict[str, Any] = {"sqs_endpoint": f"{sqs} {endpoint}"}
        console.print(f"[{sqs}] receiver in process, {n} deliveries …")
        results["receiver_in_process"] = bench_receiver(stack, sim, n, seed + 1)
        for event in catalog.EVENTS:
            stack.start_poller(event.function)
        for repo in sim.ds.repos.values():  # every PR stored, so deliveries update rather than wait for parents
            stack.queues.send_event("capture/repository.sync-enhanced", {"owner": repo.owner.login,
                                                                         "repo": repo.name})
        if not stack.wait_idle(600):
            raise SystemExit("the initial sync and the receiver's deliveries were not processed")
        pairs = []
        for i in range(rounds):  # alternated, so a slow spell of the machine falls on both sides
            console.print(f"[{sqs}] round {i + 1}/{rounds}: raw SQS rate, then the local stack, {n} each …")
            raw = bench_raw_sqs(stack, n, endpoint_pid)
            through = bench_stack(stack, sim, n, seed + 2 + i, endpoint_pid)
            pairs.append((round(through["deliveries_per_s"] / raw["messages_per_s"], 2), raw, through))
    pairs.sort(key=lambda pair: pair[0])
    ratio, results["raw_sqs"], results["local_stack"] = pairs[len(pairs) // 2]  # the median round
    results["stack_vs_raw_sqs"] = ratio
    results["rounds"] = [{"raw_sqs_messages_per_s": raw["messages_per_s"],
                          "stack_deliveries_per_s": through["deliveries_per_s"], "stack_vs_raw_sqs": r}
                         for r, raw, through in pairs]
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m devtools.bench_webhooks", description=__doc__)
    parser.add_argument("--deliveries", type=int, default=500)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--rounds", type=int, default=5, help="raw/stack pairs per endpoint; the median counts")
    parser.add_argument("--sqs", choices=["moto", "fauxqs"], action="append",
                        help="the SQS endpoint(s) to measure (default: both)")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {"measured_at": datetime.now(UTC).isoformat(timespec="seconds")}
    for sqs in args.sqs or ["moto", "fauxqs"]:
        results[sqs] = run(args.deliveries, args.seed, sqs, args.rounds)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    console.print_json(json.dumps(results))
    console.print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()

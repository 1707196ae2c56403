"""``contribsync simulate-github``: the GitHub simulator (GraphQL + REST) on 127.0.0.1 until Ctrl-C, optionally
delivering change-mode webhooks; and the simulator's options, which ``contribsync dev`` takes too."""

from __future__ import annotations

import json
import os
import signal
import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse

    from rich.console import Console

    from contribsync_sim.simulator import Simulator


def add_simulator_options(p: argparse.ArgumentParser, *, port: bool) -> None:
    """The dataset, latency, fault and budget options of a simulator (``simulator_from`` reads them)."""
    if port:
        p.add_argument("--port", dest="sim_port", type=int, default=8765)
    p.add_argument("--seed", type=int, default=1, help="dataset seed (same seed, same data)")
    p.add_argument("--repos", type=int, default=3)
    p.add_argument("--prs", type=int, default=200, help="pull requests per repository (10 to 50,000 in all)")
    p.add_argument("--latency-ms", type=float, default=0.0, help="added to every request")
    p.add_argument("--node-latency-ms", type=float, default=0.0, help="added per returned node")
    p.add_argument("--fault-502", type=float, default=0.0, help="share of requests answered 502 (0..1)")
    p.add_argument("--fault-timeout", type=float, default=0.0, help="share held back, then 504")
    p.add_argument("--fault-secondary", type=float, default=0.0, help="share answered with a secondary limit")
    p.add_argument("--fault-abuse", type=float, default=0.0, help="share answered with an abuse limit")
    p.add_argument("--budget", type=int, default=5000, help="core requests per token per hour")
    p.add_argument("--graphql-budget", type=int, default=5000, help="GraphQL points per token per hour")
    p.add_argument("--change-every", type=float, default=0.0, help="change mode: seconds between changes (0: off)")
    p.add_argument("--app-owners", type=int, default=0,
                   help="serve a GitHub App instead of accepting any token: the repositories spread over this many "
                        "owners (owner-0…), each with an installation and budget of its own (0: off)")


def simulator_from(args: argparse.Namespace) -> Simulator:
    """A simulator (not started) as ``add_simulator_options``' options describe it."""
    from contribsync_sim.server import Knobs
    from contribsync_sim.simulator import Simulator

    knobs = Knobs(latency_s=args.latency_ms / 1000, latency_per_node_s=args.node_latency_ms / 1000,
                  fault_502=args.fault_502, fault_timeout=args.fault_timeout, fault_secondary=args.fault_secondary,
                  fault_abuse=args.fault_abuse, seed=args.seed,
                  budget={"core": args.budget, "graphql": args.graphql_budget, "search": 30})
    owners = getattr(args, "app_owners", 0)
    if not owners:
        return Simulator(seed=args.seed, repos=args.repos, prs_per_repo=args.prs, knobs=knobs,
                         port=getattr(args, "sim_port", 0))
    from contribsync_sim.dataset import generate
    from contribsync_sim.installations import app_on_owners

    ds = generate(args.seed, repos=args.repos, prs_per_repo=args.prs)
    return Simulator(dataset=ds, installations=app_on_owners(ds, owners), knobs=knobs,
                     port=getattr(args, "sim_port", 0))


def simulate_github(args: argparse.Namespace, console: Console) -> None:
    """Serve the GitHub simulator on 127.0.0.1 until Ctrl-C; optionally deliver change-mode webhooks."""
    from contribsync_sim.dataset import ground_truth

    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with simulator_from(args) as sim:
        if args.ground_truth:
            Path(args.ground_truth).write_text(json.dumps(ground_truth(sim.ds), indent=2))
        console.print(f"[bold green]GitHub simulator[/] on {sim.url}  (GraphQL {sim.url}/graphql, "
                      f"REST {sim.url}/ and {sim.url}/api/v3/)")
        console.print(f"  dataset seed {args.seed}: {len(sim.ds.repos)} repos, {len(sim.ds.prs)} PRs, "
                      f"{len(sim.ds.issues)} issues, {len(sim.ds.discussions)} discussions")
        if sim.installations is None:
            console.print(f"  any token works: export GITHUB_API_URL={sim.url} GITHUB_TOKEN=sim-token")
        else:
            key = Path(".local") / "github-sim-app.pem"
            key.parent.mkdir(exist_ok=True)
            key.write_text(str(sim.installations.private_key))
            key.chmod(0o600)
            console.print(f"  a GitHub App on {len(sim.installations.installations)} owners; export "
                          f"GITHUB_API_URL={sim.url} GITHUB_APP_ID={sim.installations.app_id} "
                          f'GITHUB_APP_PRIVATE_KEY="$(cat {key})"')
        if args.changes_to:
            secret = args.webhook_secret or os.environ.get("GITHUB_WEBHOOK_SECRET") or "demo-webhook-secret"
            loop = sim.start_changes(args.changes_to, secret, every_s=args.change_every or 5.0,
                                     duplicate=args.duplicate, reorder=args.reorder, drop=args.drop, seed=args.seed)
            console.print(f"  change mode: a change every {loop.every_s:g} s → {args.changes_to}")
        stop.wait()
        if args.changes_to:
            r = loop.sender.result
            console.print(f"change mode: {loop.changes} changes, {r.sent} deliveries sent ({r.duplicates} duplicates), "
                          f"answers {r.statuses or 'none'}, {len(r.failures)} failed, {r.dropped} dropped, "
                          f"{r.redelivered} redelivered")
    c = sim.app.counters
    console.print(f"served {c.requests} requests, {c.points} GraphQL points, {c.not_modified} not-modified, "
                  f"{c.limited} rate-limited, faults {c.faults or 'none'}")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], console: Console) -> None:
    h = sub.add_parser("simulate-github", help="serve the GitHub simulator (GraphQL + REST) on 127.0.0.1")
    add_simulator_options(h, port=True)
    h.add_argument("--changes-to", metavar="URL", help="change mode: deliver signed webhooks to this URL")
    h.add_argument("--webhook-secret", help="signs change-mode deliveries (default $GITHUB_WEBHOOK_SECRET)")
    h.add_argument("--duplicate", type=float, default=0.0, help="share of deliveries sent twice")
    h.add_argument("--reorder", type=int, default=0, help="shuffle deliveries within a window of this size")
    h.add_argument("--drop", type=float, default=0.0,
                   help="share of deliveries lost as if the receiver were down (logged as failed, redeliverable)")
    h.add_argument("--ground-truth", metavar="FILE", help="write the dataset's ground truth as JSON")
    h.set_defaults(func=lambda a: simulate_github(a, console))

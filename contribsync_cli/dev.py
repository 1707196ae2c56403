"""``contribsync dev``: the local stack in the foreground until Ctrl-C (embedded Postgres, moto's SQS, a poller
per function, the crons, the event API, webhooks and the dashboard), GitHub simulated unless configured."""

from __future__ import annotations

import os
import signal
import threading
from typing import TYPE_CHECKING

from contribsync_cli.output import add_verbose_option, shown
from contribsync_cli.simulate_github import add_simulator_options, simulator_from

if TYPE_CHECKING:
    import argparse

    from rich.console import Console


def dev(args: argparse.Namespace, console: Console) -> None:
    from contribsync_local.http import ACCESS_LOG_FILE
    from contribsync_local.stack import LocalStack

    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with LocalStack(port=args.port, write_state=True, github=args.github,
                    simulator=simulator_from(args) if args.github != "env" else None,
                    changes_every_s=args.change_every, http_process=True,
                    access_log="stderr" if args.verbose else "file") as stack:
        url = stack.http.url if stack.http else "?"
        console.print(f"[bold green]contribsync dev[/] on {url}")
        console.print(f"  dashboard   {url}/   (read-only: status, run history, failures, DLQs)")
        console.print(f"  event API   POST {url}/e/contributor-info     webhooks  POST {url}/webhook")
        console.print(f"  AWS (moto)  {stack.aws_endpoint}   Postgres {stack.database_url}")
        if stack.simulator is not None:
            changes = f", a change every {args.change_every:g} s" if args.change_every > 0 else ""
            console.print(f"  GitHub      simulator {stack.simulator.url} ({len(stack.simulator.ds.repos)} repos, "
                          f"{len(stack.simulator.ds.prs)} PRs{changes})")
        else:
            console.print(f"  GitHub      {os.environ.get('GITHUB_API_URL', 'https://api.github.com')}")
        console.print(f"  HTTP log    {shown(ACCESS_LOG_FILE) if stack.access_log == 'file' else 'stderr'}"
                      "   (a line per request; --verbose prints them here)")
        console.print(f"  {len(stack.pollers)} function pollers, crons on; Ctrl-C stops")
        stop.wait()
        console.print("stopping…")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], console: Console) -> None:
    v = sub.add_parser("dev", help="run the local stack in the foreground until Ctrl-C")
    v.add_argument("--port", type=int, default=8288)
    v.add_argument("--github", choices=["auto", "sim", "env"], default="auto",
                   help="auto: the simulator unless GITHUB_TOKEN/GITHUB_APP_ID/GITHUB_API_URL is set")
    add_verbose_option(v)
    add_simulator_options(v, port=False)
    v.set_defaults(func=lambda a: dev(a, console))

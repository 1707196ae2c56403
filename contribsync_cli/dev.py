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

    from contribsync_local.stack import LocalStack


def dev(args: argparse.Namespace, console: Console) -> None:
    from contribsync_local.stack import LocalStack

    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with LocalStack(port=args.port, write_state=True, github=args.github,
                    simulator=simulator_from(args) if args.github != "env" else None,
                    changes_every_s=args.change_every, http_process=True,
                    access_log="stderr" if args.verbose else "file") as stack:
        for line in banner(stack, args):
            console.print(line)
        stop.wait()
        console.print("stopping…")


def banner(stack: LocalStack, args: argparse.Namespace) -> list[str]:
    """What ``contribsync dev`` prints when the stack is up; the database URL with its password masked."""
    from contribsync.runtime.failure import Masker
    from contribsync_local.http import ACCESS_LOG_FILE

    url = stack.http.url if stack.http else "?"
    lines = [
        f"[bold green]contribsync dev[/] on {url}",
        f"  dashboard   {url}/   (read-only: status, run history, failures, DLQs)",
        f"  event API   POST {url}/e/contributor-info     webhooks  POST {url}/webhook",
        f"  AWS (moto)  {stack.aws_endpoint}   Postgres {Masker()(stack.database_url or '?')}",
    ]
    if stack.simulator is not None:
        changes = f", a change every {args.change_every:g} s" if args.change_every > 0 else ""
        lines.append(f"  GitHub      simulator {stack.simulator.url} ({len(stack.simulator.ds.repos)} repos, "
                     f"{len(stack.simulator.ds.prs)} PRs{changes})")
    else:
        lines.append(f"  GitHub      {os.environ.get('GITHUB_API_URL', 'https://api.github.com')}")
    lines += [f"  HTTP log    {shown(ACCESS_LOG_FILE) if stack.access_log == 'file' else 'stderr'}"
              "   (a line per request; --verbose prints them here)",
              f"  {len(stack.pollers)} function pollers, crons on; Ctrl-C stops"]
    return lines


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], console: Console) -> None:
    v = sub.add_parser("dev", help="run the local stack in the foreground until Ctrl-C")
    v.add_argument("--port", type=int, default=8288)
    v.add_argument("--github", choices=["auto", "sim", "env"], default="auto",
                   help="auto: the simulator unless GITHUB_TOKEN/GITHUB_APP_ID/GITHUB_API_URL is set")
    add_verbose_option(v)
    add_simulator_options(v, port=False)
    v.set_defaults(func=lambda a: dev(a, console))

"""``contribsync catalog [--json]``: the event catalog, each event with its function, retries and limits, and
(``--json``) the names senders may post to the event API (``sendable``)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from rich.table import Table

from contribsync import catalog

if TYPE_CHECKING:
    import argparse

    from rich.console import Console


def show(args: argparse.Namespace, console: Console) -> None:
    rows: list[dict[str, Any]] = [{
        "event": e.name, "aliases": list(e.aliases), "function": e.function, "queue": e.queue,
        "highQueue": e.high_queue, "dlq": e.dlq, "retries": e.retries,
        "concurrency": {"limit": e.concurrency.n, "key": e.concurrency.key} if e.concurrency else None,
        "throttle": ({"limit": e.throttle.limit, "period_s": e.throttle.period_s, "key": e.throttle.key}
                     if e.throttle else None),
        "schedule": e.schedule, "service": e.service, "model": e.model.__name__,
        "sendable": list(e.sendable_names),
    } for e in catalog.EVENTS]
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    table = Table("event", "function", "retries", "concurrency", "throttle", "schedule", title="event catalog")
    for r in rows:
        conc = f"{r['concurrency']['limit']}/{r['concurrency']['key'] or 'all'}" if r["concurrency"] else ""
        thr = f"{r['throttle']['limit']}/{r['throttle']['period_s']}s" if r["throttle"] else ""
        names = "\n".join([r["event"], *[f"  ↳ {a}" for a in r["aliases"]]])
        table.add_row(names, r["function"], str(r["retries"]), conc, thr, r["schedule"] or "")
    console.print(table)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], console: Console) -> None:
    c = sub.add_parser("catalog", help="print the event catalog")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=lambda a: show(a, console))

"""``contribsync gaps [OWNER/REPO]`` and ``contribsync quick-fix OWNER REPO``: progressive capture
(``contribsync_ops.gaps``), contributor.info's browser-console ProgressiveCapture helpers as commands.

``gaps`` reads the configured database only. ``quick-fix`` sends to the queues of a running
``contribsync dev`` or of ``AWS_ENDPOINT_URL`` (AWS itself when credentials are configured);
``--dry-run`` only prints what it would send.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from rich.table import Table

if TYPE_CHECKING:
    import argparse

    from rich.console import Console

    from contribsync.db import Database
    from contribsync.queues import Queues
    from contribsync_ops.gaps import Gap


def _queues() -> Queues:
    from contribsync_cli.local_env import queues

    return queues()


def _repository_id(db: Database, owner: str, name: str) -> str:
    row = db.query_one("repository_by_full_name", {"owner": owner, "name": name})
    if row is None:
        raise SystemExit(f"{owner}/{name} is not stored: send discover/new-repository "
                         f"(contribsync send discover/new-repository --data '{{\"owner\": \"{owner}\", "
                         f"\"repo\": \"{name}\"}}') or run `contribsync backfill {owner} {name}`")
    return str(row["id"])


def gaps(args: argparse.Namespace, console: Console) -> None:
    from contribsync_cli.local_env import database
    from contribsync_ops.gaps import find_gaps

    db = database()
    try:
        repository_id = None
        if args.repository:
            owner, _, name = args.repository.partition("/")
            if not owner or not name:
                raise SystemExit("give the repository as OWNER/REPO")
            repository_id = _repository_id(db, owner, name)
        found = find_gaps(db, repository_id, now=datetime.now(UTC))
    finally:
        db.close()
    if args.json:
        console.print_json(json.dumps([g.as_dict() for g in found], default=str))
        return
    _print_gaps(console, found, args.repository or "tracked repositories")


def _fix_summary(gap: Gap) -> str:
    if len(gap.fixes) > 1:
        return f"{gap.fixes[0].event} x{len(gap.fixes)}"
    fix = gap.fixes[0]
    extra = {k: v for k, v in fix.data.items() if k != "repositoryId"}
    return f"{fix.event} {json.dumps(extra)}" if extra else fix.event


def _print_gaps(console: Console, found: list[Gap], scope: str) -> None:
    if not found:
        console.print(f"[green]no gaps[/] in {scope}")
        return
    table = Table("repository", "gap", "count", "sample", "fix", title=f"data gaps in {scope}")
    for g in found:
        sample = ", ".join(f"#{n}" for n in g.sample) + (" …" if g.count > len(g.sample) and g.sample else "")
        table.add_row(g.repository, f"[yellow]{g.kind}[/]", str(g.count), sample, _fix_summary(g))
    console.print(table)
    for g in found:
        console.print(f"[bold]{g.repository}[/] {g.kind}: {g.note}")
    repos = sorted({g.repository for g in found})
    console.print(f"{len(found)} gap(s) in {len(repos)} repositor{'y' if len(repos) == 1 else 'ies'}; close them with "
                  f"`contribsync quick-fix OWNER REPO`, e.g. `contribsync quick-fix {repos[0].replace('/', ' ')}`")


def quick_fix(args: argparse.Namespace, console: Console) -> None:
    from contribsync_cli.local_env import database
    from contribsync_ops import gaps as progressive

    queues = None if args.dry_run else _queues()
    db = database()
    now = datetime.now(UTC)
    try:
        repository_id = _repository_id(db, args.owner, args.repo)
        if queues is None:
            sent = progressive.fix_events(progressive.find_gaps(db, repository_id, now=now), now=now)
        else:
            sent = progressive.quick_fix(db, queues, repository_id, now=now)
    finally:
        db.close()
    if args.json:
        console.print_json(json.dumps({"dryRun": args.dry_run, "events": sent}))
        return
    _print_sent(console, sent, f"{args.owner}/{args.repo}", dry_run=args.dry_run)


def _print_sent(console: Console, sent: list[dict[str, Any]], name: str, *, dry_run: bool) -> None:
    if not sent:
        console.print(f"[green]no gaps[/] in {name}: nothing to send")
        return
    repository_id = sent[0]["data"]["repositoryId"]
    table = Table("event", "data besides repositoryId", "event id",
                  title=f"{'would send' if dry_run else 'sent'} to close the gaps of {name} ({repository_id})")
    table.columns[2].overflow = "fold"
    for e in sent:
        extra = {k: v for k, v in e["data"].items() if k != "repositoryId"}
        table.add_row(e["event"], json.dumps(extra) if extra else "", e["id"])
    console.print(table)
    console.print(f"dry run: {len(sent)} event(s) not sent" if dry_run else
                  f"{len(sent)} event(s) sent; watch them with `contribsync runs`, then check with "
                  f"`contribsync gaps {name}`")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], console: Console) -> None:
    g = sub.add_parser("gaps", help="find data gaps: repositories never synced or stale, PRs missing details, "
                                    "reviews or comments, items without embeddings, null authors")
    g.add_argument("repository", nargs="?", metavar="OWNER/REPO", help="one repository (default: every tracked one)")
    g.add_argument("--json", action="store_true")
    g.set_defaults(func=lambda a: gaps(a, console))
    q = sub.add_parser("quick-fix", help="queue exactly the jobs that close a repository's gaps")
    q.add_argument("owner")
    q.add_argument("repo")
    q.add_argument("--dry-run", action="store_true", help="print the events without sending them")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=lambda a: quick_fix(a, console))

"""``contribsync similar OWNER/REPO#NUMBER``: the nearest issues, pull requests and discussions."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

from rich.table import Table

if TYPE_CHECKING:
    import argparse

    from rich.console import Console

    from contribsync.db import Database

_REF = re.compile(r"^(?P<owner>[\w.-]+)/(?P<name>[\w.-]+)#(?P<number>\d+)$")


def run(args: argparse.Namespace, console: Console) -> None:
    from contribsync_cli.local_env import database

    match = _REF.match(args.ref)
    if match is None:
        raise SystemExit("give the item as OWNER/REPO#NUMBER, e.g. octo-org/octo-repo#42")
    db = database()
    try:
        _show(args, console, db, match)
    finally:
        db.close()


def _show(args: argparse.Namespace, console: Console, db: Database, match: re.Match[str]) -> None:
    from contribsync import similarity
    from contribsync.errors import ContribsyncError

    repo = db.query_one("repository_by_full_name", {"owner": match["owner"], "name": match["name"]})
    if repo is None:
        raise SystemExit(f"{match['owner']}/{match['name']} is not stored")
    item = similarity.find_item(db, repo["id"], int(match["number"]))
    if item is None:
        raise SystemExit(f"{args.ref} is not stored (no issue, pull request or discussion with that number)")
    try:
        rows = similarity.similar_to_item(db, item, limit=args.limit, all_repositories=args.all_repositories)
    except ContribsyncError as exc:
        console.print(f"[red]{exc}[/red]")
        data = json.dumps({"repositoryId": str(repo["id"])})
        console.print(f"   contribsync send embeddings/process.repository --data '{data}'")
        raise SystemExit(1) from None
    if args.json:
        console.print_json(json.dumps(rows, default=str))
        return
    table = Table("score", "item", "state", "title",
                  title=f"nearest to {item['item_type']} {args.ref}: {item['title']}")
    for r in rows:
        kind = {"issue": "issue", "pull_request": "PR", "discussion": "discussion"}[r["item_type"]]
        table.add_row(f"{r['score']:.3f}", f"{kind} {r['full_name']}#{r['number']}", r["state"], r["title"])
    console.print(table)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], console: Console) -> None:
    s = sub.add_parser("similar", help="the issues, PRs and discussions nearest to OWNER/REPO#NUMBER (embeddings)")
    s.add_argument("ref", metavar="OWNER/REPO#NUMBER")
    s.add_argument("--limit", type=int, default=10)
    s.add_argument("--all-repositories", action="store_true", help="search every repository, not only its own")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=lambda args: run(args, console))

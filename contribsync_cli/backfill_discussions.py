"""``contribsync backfill-discussions OWNER REPO``: the discussions sync of one repository in this process,
with a progress bar (the one-time historical backfill contributor.info did with a script).

An interrupted backfill resumes: its checkpoint is kept under the same repository and size.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from contribsync import catalog

if TYPE_CHECKING:
    import argparse

    from rich.console import Console


def backfill_discussions(args: argparse.Namespace, console: Console) -> None:
    from rich.progress import Progress

    from contribsync.ai.summarizer import NoSummaries
    from contribsync.capture import repos
    from contribsync.errors import ContribsyncError
    from contribsync.payloads import RepositoryDiscussions
    from contribsync.runtime import RunContext
    from contribsync.services.discussions import repository_discussions
    from contribsync_cli.local_env import clients, simulator_unless_configured

    simulator = simulator_unless_configured()
    mine = clients(simulator=simulator, summarizer=NoSummaries() if args.no_summaries else None)
    data: dict[str, Any] = {"repositoryId": None, "maxItems": args.max_items, "source": "backfill"}
    ctx = RunContext.outside_a_run(mine, catalog.resolve("capture/repository.discussions"), data,
                                   event_id=f"backfill-discussions:{args.owner}/{args.repo}:{args.max_items}".lower())
    try:
        row = repos.resolve(ctx, owner=args.owner, name=args.repo)
        data["repositoryId"] = str(row["id"])
        with Progress(console=console) as bar:
            task = bar.add_task(f"{row['full_name']} discussions", total=args.max_items)

            def on_page(done: int, total: int) -> None:
                bar.update(task, completed=done, total=max(done, total) or args.max_items)

            result = repository_discussions(RepositoryDiscussions.model_validate(data), ctx, on_page=on_page)
        console.print_json(json.dumps(result))
    except ContribsyncError as exc:
        console.print(f"[red]backfill failed:[/red] {exc}")
        raise SystemExit(1) from None
    finally:
        mine.close()
        if simulator:
            simulator.stop()


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], console: Console) -> None:
    b = sub.add_parser("backfill-discussions", help="sync one repository's discussions now, with a progress bar")
    b.add_argument("owner")
    b.add_argument("repo")
    b.add_argument("--max-items", type=int, default=1000, help="newest first, at most this many")
    b.add_argument("--no-summaries", action="store_true", help="store discussions without AI summaries")
    b.set_defaults(func=lambda a: backfill_discussions(a, console))

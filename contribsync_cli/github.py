"""``contribsync github rate-limit [--json]``: the recorded budget per resource of each GitHub App installation
(its id and the account it is on, as ``GET /app/installations`` names them) or personal token (shown as a
fingerprint only)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from rich.table import Table

if TYPE_CHECKING:
    import argparse
    from collections.abc import Mapping

    from rich.console import Console

    from contribsync.github import Credentials

HEALTHY_SHARE, LOW_SHARE = 0.5, 0.1  # of a budget left: green above the first, red below the second
INSTALLATION_PREFIX = "installation:"


def installation_accounts(credentials: Credentials) -> tuple[dict[int, str], str | None]:
    """A GitHub App's installations and their accounts' logins (none for personal tokens), and why they
    could not be listed."""
    from contribsync.errors import ContribsyncError
    from contribsync.github import GitHubApp

    if not isinstance(credentials, GitHubApp):
        return {}, None
    try:
        return credentials.accounts(), None
    except ContribsyncError as exc:
        return {}, str(exc)


def budgets_by_installation(rows: list[dict[str, Any]], accounts: Mapping[int, str]) -> list[dict[str, Any]]:
    """Each budget row with its ``installation`` id and ``account`` (None for a personal token's), and a row
    with no figures for each installation that has not been used yet."""
    shown = []
    for row in rows:
        key = str(row["token_id"])
        installation = int(key.removeprefix(INSTALLATION_PREFIX)) if key.startswith(INSTALLATION_PREFIX) else None
        shown.append({**row, "installation": installation,
                      "account": accounts.get(installation) if installation is not None else None})
    used = {r["installation"] for r in shown}
    shown += [{"token_id": f"{INSTALLATION_PREFIX}{i}", "installation": i, "account": login, "resource": None,
               "remaining": None, "limit": None, "used": None, "reset_at": None, "observed_at": None}
              for i, login in sorted(accounts.items()) if i not in used]
    return shown


def rate_limit(args: argparse.Namespace, console: Console) -> None:
    from contribsync.github import credentials_from
    from contribsync.github.budget import PostgresBudget
    from contribsync_cli.local_env import clients

    mine = clients()
    try:
        accounts, problem = installation_accounts(credentials_from(mine.settings))
        rows = budgets_by_installation(PostgresBudget(mine.db).budgets(), accounts)
    finally:
        mine.close()
    if args.json:
        print(json.dumps(rows, indent=2, default=str))
        return
    if problem:
        console.print(f"[yellow]the App's installations could not be listed: {problem}[/]")
    table = Table("installation / token", "account", "resource", "remaining", "limit", "used", "resets", "observed",
                  title="GitHub budget")
    for r in rows:
        who = str(r["installation"]) if r["installation"] is not None else r["token_id"]
        if r["resource"] is None:
            table.add_row(who, r["account"] or "", "", "no request yet", "", "", "", "")
            continue
        share = r["remaining"] / r["limit"] if r["limit"] else 0
        colour = "green" if share > HEALTHY_SHARE else "yellow" if share > LOW_SHARE else "red"
        used = str(r["used"]) if r["used"] is not None else ""
        table.add_row(who, r["account"] or ("?" if r["installation"] is not None else ""), r["resource"],
                      f"[{colour}]{r['remaining']}[/]", str(r["limit"]), used,
                      r["reset_at"].strftime("%H:%M:%S"), r["observed_at"].strftime("%H:%M:%S"))
    console.print(table)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], console: Console) -> None:
    g = sub.add_parser("github", help="GitHub: rate-limit budgets, per App installation or token")
    g.add_argument("github_command", choices=["rate-limit"])
    g.add_argument("--json", action="store_true")
    g.set_defaults(func=lambda a: rate_limit(a, console))

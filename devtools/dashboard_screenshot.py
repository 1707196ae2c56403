"""The README's picture of the dashboard: ``python -m devtools.dashboard_screenshot`` writes
``docs/dashboard.png`` (1280x900, the top of the overview).

It starts a local stack on a fresh database with a small simulated organisation, syncs its repositories,
puts them in a workspace, fires two schedules, and makes two failures that end in DLQs (a repository
that is not stored, and a message that is not JSON), then looks at ``/`` through Debian's headless
Chromium (``devtools.browser``).
"""

from __future__ import annotations

import argparse
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from contribsync.history import RunHistory
from contribsync_local import postgres
from contribsync_local.scheduler import CronDriver
from contribsync_local.stack import LocalStack
from contribsync_ops import OPS_SQL
from contribsync_sim.simulator import Simulator
from devtools.browser import chromium

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "dashboard.png"
WIDTH, HEIGHT = 1280, 900


def seed(stack: LocalStack) -> None:
    """Runs of every kind an operator meets: completed syncs, a workspace, cron fires and two failures."""
    assert stack.simulator is not None
    history = RunHistory(stack.db)
    repos = sorted(stack.simulator.ds.repos.values(), key=lambda r: r.full_name)
    for repo in repos:
        owner, name = repo.full_name.split("/")
        stack.queues.send_event("discover/new-repository", {"owner": owner, "repo": name, "source": "manual"})
    stack.wait_idle(120)
    workspace = stack.db.query("workspace_create", {"name": "Platform team", "slug": "platform-team", "tier": "pro"},
                               folder=OPS_SQL)[0]
    stored = stack.db.connection().execute("SELECT id FROM repositories ORDER BY full_name").fetchall()
    stack.queues.send_events([{"name": "workspace/repository-change", "data": {
        "workspaceId": str(workspace["id"]), "repositoryId": str(r["id"]), "action": "added"}} for r in stored])
    stack.wait_idle(60)
    stack.queues.send_event("aggregate/workspace-metrics", {"workspaceId": str(workspace["id"]), "triggeredBy": "ui"})
    now = datetime.now(UTC)
    CronDriver(stack.queues, start=now - timedelta(hours=1, minutes=1),
               only=("sync/workspace-priorities", "reconcile/webhook-deliveries")).tick(now)
    stack.queues.send_event("classify/single-repository", {"repositoryId": str(uuid.uuid4())})
    stack.queues.send_raw("capture-pr-details", '{"name": "capture/pr.details", "data": {"prNumber": ')
    stack.wait_idle(60, until=lambda: len(history.recent(status="failed", limit=10)) >= 2)  # noqa: PLR2004
    stack.wait_idle(60)


def screenshot(url: str, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    with chromium() as browser:
        page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT}, device_scale_factor=1)
        page.goto(url)
        page.screenshot(path=str(out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    database = postgres.create_database(postgres.server_url(), "contribsync_screenshot", drop_first=True)
    simulator = Simulator(seed=5, repos=3, prs_per_repo=40)
    try:
        with LocalStack(database_url=database, port=0, prefix=f"shot{uuid.uuid4().hex[:6]}", cron=False,
                        retry_base_s=1, github="sim", simulator=simulator) as stack:
            assert stack.http is not None
            seed(stack)
            screenshot(f"{stack.http.url}/", args.out)
    finally:
        postgres.drop_database(postgres.server_url(), "contribsync_screenshot")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

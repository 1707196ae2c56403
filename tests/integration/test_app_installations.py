"""A GitHub App on three owners, two repositories each, on the local stack: every repository is synced with
its owner's installation token (the simulator records which installation each request used), the budgets
in Postgres are per installation, and a repository whose owner has no installation fails clearly."""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING

import httpx
import pytest

from contribsync.db import Database
from contribsync.errors import NoInstallation, NonRetriable
from contribsync.github import GitHubApp, GitHubClient, PostgresBudget
from contribsync_local.stack import LocalStack
from contribsync_sim.dataset import generate, ground_truth
from contribsync_sim.installations import Installation, Installations, spread_owners
from contribsync_sim.simulator import Simulator

if TYPE_CHECKING:
    from collections.abc import Callable

pytestmark = pytest.mark.integration

OWNERS = {"north": 101, "south": 102, "east": 103}  # owner -> its installation
STRANGER = "west"  # owns a repository, but the App is not installed there


def world(clock: Callable[[], float] = time.time) -> tuple[Installations, Simulator]:
    app = Installations.with_new_key("777", [Installation(i, owner, limit=12_500 if owner == "east" else 5000)
                                             for owner, i in OWNERS.items()], clock=clock)
    ds = spread_owners(generate(25, repos=7, prs_per_repo=30), [*OWNERS, STRANGER])
    # spread_owners gives blocks of 7 * i // 4: north 0-1, south 2-3, east 4-5, west 6
    return app, Simulator(dataset=ds, installations=app)


@pytest.fixture(scope="module")
def synced(isolated_database, aws_endpoint):
    _, simulator = world()
    with LocalStack(database_url=isolated_database(), port=0, prefix=f"inst{uuid.uuid4().hex[:6]}", cron=False,
                    retry_base_s=1, aws_endpoint=aws_endpoint, simulator=simulator, poller_concurrency=2) as stack:
        for repo in simulator.ds.repos.values():
            stack.queues.send_event("capture/repository.sync-enhanced", {"owner": repo.owner.login, "repo": repo.name})
        assert stack.wait_idle(240), "the syncs did not finish"
        yield stack, simulator


def rows(stack, query: str, *params) -> list[dict]:
    return stack.db.connection().execute(query, params).fetchall()


def test_every_installed_repository_is_synced_completely(synced):
    stack, simulator = synced
    truth = ground_truth(simulator.ds)["repos"]
    stored = {r["full_name"]: r["prs"] for r in rows(
        stack, "SELECT r.full_name, count(p.id) AS prs FROM repositories r"
               " LEFT JOIN pull_requests p ON p.repository_id = r.id GROUP BY r.full_name")}
    installed = {name for name in truth if name.split("/")[0] in OWNERS}
    assert len(installed) == 6
    for name in installed:
        assert stored.get(name) == truth[name]["pull_requests"]["total"], name


def test_every_request_used_its_owners_installation_and_none_was_refused(synced):
    _, simulator = synced
    used = simulator.installations.used
    by_repository = [u for u in used if u.installation is not None]
    assert {u.owner for u in by_repository} >= set(OWNERS)
    for use in by_repository:  # owner None: a nodes(ids:) lookup (public data: any installation may serve it)
        assert use.owner is None or OWNERS.get(use.owner) == use.installation, use
    # no token of one installation was ever sent to another owner's repository (the simulator would refuse it)
    assert [u for u in used if u.refused] == []
    assert {u.installation for u in by_repository} == set(OWNERS.values())
    assert sum(simulator.installations.tally.values()) == len(used)
    assert not any(refused for (_, _, refused) in simulator.installations.tally)


def test_budgets_in_postgres_are_per_installation_with_each_ones_limit(synced):
    stack, _ = synced
    budgets = rows(stack, 'SELECT token_id, resource, "limit" FROM github_rate_limits')
    assert {b["token_id"] for b in budgets} == {f"installation:{i}" for i in OWNERS.values()}
    graphql = {b["token_id"]: b["limit"] for b in budgets if b["resource"] == "graphql"}
    assert graphql == {"installation:101": 5000, "installation:102": 5000, "installation:103": 12_500}


def test_a_repository_whose_owner_has_no_installation_fails_for_good_with_a_clear_message(synced):
    stack, simulator = synced
    failed = rows(stack, "SELECT status, error, attempt FROM function_runs"
                         " WHERE status NOT IN ('completed', 'skipped')")
    assert len(failed) == 1
    assert failed[0]["attempt"] == 1  # not retried: no installation will appear by retrying
    assert "GitHub App 777 is not installed on 'west'" in failed[0]["error"]
    # and no installation's token was tried on it
    assert [u for u in simulator.installations.used if u.owner == STRANGER and u.installation is not None] == []


def test_the_client_refuses_an_uninstalled_owner_before_sending_anything():
    app, simulator = world()
    with simulator:
        credentials = GitHubApp(app.app_id, str(app.private_key), base_url=simulator.url)
        gh = GitHubClient(base_url=simulator.url, credentials=credentials)
        assert gh.get("/repos/north/repo-0").json["full_name"] == "north/repo-0"
        with pytest.raises(NoInstallation, match="not installed on 'west'") as caught:
            gh.graphql("repository", {"owner": "west", "name": "repo-6"})
        assert isinstance(caught.value, NonRetriable)
        assert [u.route for u in app.used if u.owner == "west"] == ["GET /repos/{owner}/{repo}/installation"]
        # a token of north's installation is refused on east's repository, as GitHub hides it
        north = credentials.installation_token(OWNERS["north"])
        r = httpx.get(f"{simulator.url}/repos/east/repo-4", headers={"Authorization": f"Bearer {north}"})
        assert r.status_code == 404


def test_the_rate_limit_command_shows_each_installation_with_its_account_and_budgets(synced, capsys):
    import argparse
    import json

    from rich.console import Console

    from contribsync_cli.github import rate_limit

    # the stack's environment is the App's (GITHUB_APP_ID, its key, the simulator's URL, the database)
    rate_limit(argparse.Namespace(json=True), Console())
    shown = json.loads(capsys.readouterr().out)
    seen = {(r["installation"], r["account"], r["resource"]) for r in shown}
    assert seen == {(i, owner, "graphql") for owner, i in OWNERS.items()}  # the enhanced sync reads by GraphQL
    east = next(r for r in shown if r["account"] == "east" and r["resource"] == "graphql")
    assert east["limit"] == 12_500 and east["remaining"] < 12_500
    rate_limit(argparse.Namespace(json=False), Console(width=200))
    table = capsys.readouterr().out
    assert all(f"{i}" in table and owner in table for owner, i in OWNERS.items())


def test_a_new_hourly_token_keeps_drawing_on_its_installations_budget(isolated_database):
    now = [time.time()]
    app, simulator = world(clock=lambda: now[0])  # the App's clock and the simulator's token clock, as one
    db = Database(isolated_database(), application_name="contribsync-tests")
    try:
        with simulator:
            credentials = GitHubApp(app.app_id, str(app.private_key), base_url=simulator.url, clock=lambda: now[0])
            gh = GitHubClient(base_url=simulator.url, credentials=credentials, budget=PostgresBudget(db))
            gh.get("/repos/north/repo-0", conditional=False)
            first = credentials.installation_token(OWNERS["north"])
            now[0] += 3400  # under five minutes left: the next request mints a new token
            gh.get("/repos/north/repo-1", conditional=False)
            assert credentials.installation_token(OWNERS["north"]) != first and credentials.exchanges == 2
        budgets = [(r["token_id"], r["resource"], r["used"]) for r in PostgresBudget(db).budgets()]
        assert budgets == [("installation:101", "core", 2)]  # one budget, not one per token
    finally:
        db.close()

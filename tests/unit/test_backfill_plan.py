"""The backfill plan's page costs are GitHub's, for the variables the jobs send: checked against the
simulator's implementation of GitHub's cost formula, so a change to a query or a page size shows here."""

from __future__ import annotations

import graphql

from contribsync.github import document
from contribsync.github.auth import Grant, StaticTokens, installation_key, token_id
from contribsync.services import capture, discussions, issues
from contribsync_cli import backfill
from contribsync_sim.cost import query_cost
from contribsync_sim.graphql_api import schema


def points(name: str, variables: dict) -> int:
    return query_cost(schema(), graphql.parse(document(name)), variables).points


def test_the_plan_uses_the_jobs_page_sizes():
    assert backfill.PR_PAGE == capture.PAGE_PRS
    assert backfill.ISSUE_PAGE == issues.PAGE_ISSUES
    assert backfill.DISCUSSION_PAGE == discussions.PAGE_DISCUSSIONS


def test_page_points_match_githubs_formula():
    pr_page = points("pull_requests_page", {
        "owner": "o", "name": "n", "first": capture.PAGE_PRS, "after": None, "states": ["OPEN"],
        "orderBy": {"field": "UPDATED_AT", "direction": "DESC"}, "reviews": capture.NESTED_REVIEWS,
        "comments": capture.NESTED_COMMENTS, "reviewComments": capture.NESTED_REVIEW_COMMENTS})
    issue_page = points("issues_page", {"owner": "o", "name": "n", "first": issues.PAGE_ISSUES, "after": None,
                                        "since": None, "comments": issues.NESTED_COMMENTS})
    discussion_page = points("discussions_page", {"owner": "o", "name": "n", "first": discussions.PAGE_DISCUSSIONS,
                                                  "after": None})
    assert (pr_page, issue_page, discussion_page) == (
        backfill.PR_PAGE_POINTS, backfill.ISSUE_PAGE_POINTS, backfill.DISCUSSION_PAGE_POINTS)
    # ... and what the jobs reserve from the budget before asking for a page (1 where they say nothing)
    assert (pr_page, issue_page, discussion_page) == (capture.PAGE_POINTS, issues.PAGE_POINTS, 1)
    assert points("backfill_counts", {"owner": "o", "name": "n"}) == 1


class _Answer:
    def __init__(self, data: dict) -> None:
        self.data = data


class _GitHub:
    """``graphql("backfill_counts")`` as GitHub answers it: counts, and the newest PRs' creation times."""

    def __init__(self, repos: dict[str, tuple[int, int]], credentials=None) -> None:
        self.repos = repos  # name -> (pull requests in all, of which created in the last 30 days)
        self.credentials = credentials or StaticTokens(["ghp_one"])

    def graphql(self, name: str, variables: dict) -> _Answer:
        from datetime import UTC, datetime, timedelta

        total, recent = self.repos[variables["name"]]
        now = datetime.now(UTC)
        created = [now - timedelta(days=1)] * recent + [now - timedelta(days=90)] * min(100 - recent, total - recent)
        count = {"totalCount": total}
        return _Answer({"repository": {
            "hasDiscussionsEnabled": False, "open": count, "closed": {"totalCount": 0}, "merged": {"totalCount": 0},
            "newest": {"nodes": [{"createdAt": c.strftime("%Y-%m-%dT%H:%M:%SZ")} for c in created]},
            "issues": {"totalCount": 0}, "discussions": {"totalCount": 0}}})


class _Db:
    def __init__(self, budgets: dict[str, int] | None = None) -> None:
        self.budgets = budgets or {}  # budget key -> GraphQL points remaining

    def query(self, name: str, *args, **kwargs) -> list:
        if name == "rate_limits_all":
            return [{"token_id": k, "resource": "graphql", "remaining": v} for k, v in self.budgets.items()]
        return []

    def query_one(self, *args, **kwargs) -> None:
        return None


def test_repositories_are_backfilled_high_velocity_first():
    """Seed 004: the most pull requests created in the last 30 days first, however large the rest is."""
    github = _GitHub({"big-quiet": (5000, 2), "busy": (300, 80), "small-busy": (40, 30), "idle": (10, 0)})
    targets = [backfill.Target("o", name) for name in ("idle", "big-quiet", "small-busy", "busy")]
    plan = backfill.plan(targets, github, _Db(), price=0.02)
    assert [t.name for t in targets] == ["busy", "small-busy", "big-quiet", "idle"]
    assert [r["prsLast30Days"] for r in plan["repositories"]] == [80, 30, 2, 0]


class _Installations:
    """A GitHub App's credentials: each owner's repositories on its own installation."""

    def __init__(self, owners: dict[str, int]) -> None:
        self.owners = owners

    def grants(self, owner, repo=None):
        return [Grant(f"ghs_{owner}", installation_key(self.owners[owner]))]


def test_each_installation_is_planned_against_its_own_budget():
    # GIVEN 5,000 PRs on alpha's installation, which has 300 points left, and 100 on beta's, with 5,000
    github = _GitHub({"big": (5000, 0), "small": (100, 0)}, credentials=_Installations({"alpha": 1, "beta": 2}))
    targets = [backfill.Target("alpha", "big"), backfill.Target("beta", "small")]
    plan = backfill.plan(targets, github, _Db({"installation:1": 300, "installation:2": 5000}), price=0.02)
    by_budget = {b["budget"]: b for b in plan["budgets"]}
    assert plan["repositories"][0]["repository"] == "alpha/big"
    assert by_budget["installation:1"]["points"] == plan["repositories"][0]["points"] > 300
    assert (by_budget["installation:1"]["left"], by_budget["installation:1"]["fits"]) == (300, False)
    assert (by_budget["installation:2"]["left"], by_budget["installation:2"]["fits"]) == (5000, True)
    assert by_budget["installation:2"]["repositories"] == ["beta/small"]
    assert plan["fitsBudget"] is False  # the total (5,300 left) would have fitted


def test_personal_tokens_each_serve_every_repository_so_their_budgets_add_up():
    tokens = StaticTokens(["ghp_one", "ghp_two"])
    github = _GitHub({"big": (5000, 0)}, credentials=tokens)
    plan = backfill.plan([backfill.Target("o", "big")], github,
                         _Db({token_id("ghp_one"): 400, token_id("ghp_two"): 400}), price=0.02)
    [budget] = plan["budgets"]
    assert budget["left"] == 800 and budget["points"] > 400 and budget["fits"] is True

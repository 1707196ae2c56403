"""The backfill plan's page costs are GitHub's, for the variables the jobs send: checked against the
simulator's implementation of GitHub's cost formula, so a change to a query or a page size shows here."""

from __future__ import annotations

import graphql

from contribsync.github import document
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

"""The simulator's point costs and node limits match GitHub's documented examples."""

from __future__ import annotations

import graphql
import pytest

from contribsync.github import documents
from contribsync_sim.cost import LimitError, query_cost

SIMPLE = """query { viewer { repositories(first: 50) { edges { repository: node { name
  issues(first: 10) { totalCount edges { node { title bodyHTML } } } } } } } }"""

COMPLEX = """query { viewer { repositories(first: 50) { edges { repository: node { name
  pullRequests(first: 20) { edges { pullRequest: node { title
    comments(first: 10) { edges { comment: node { bodyHTML } } } } } }
  issues(first: 20) { totalCount edges { issue: node { title bodyHTML
    comments(first: 10) { edges { comment: node { bodyHTML } } } } } } } } }
  followers(first: 10) { edges { follower: node { login } } } } }"""

POINTS = """query { viewer { login repositories(first: 100) { edges { node { id
  issues(first: 50) { edges { node { id labels(first: 60) { edges { node { id name } } } } } } } } } } }"""


def cost(schema, text: str, variables=None):
    return query_cost(schema, graphql.parse(text), variables)


def test_documented_simple_node_count(github_schema):
    assert cost(github_schema, SIMPLE).nodes == 550


def test_documented_complex_node_count(github_schema):
    assert cost(github_schema, COMPLEX).nodes == 22_060


def test_documented_point_cost(github_schema):
    result = cost(github_schema, POINTS)
    assert result.requests == 5_101
    assert result.points == 51


def test_first_over_100_and_missing_first_are_refused(github_schema):
    with pytest.raises(LimitError, match="first"):
        cost(github_schema, "query { viewer { repositories(first: 101) { nodes { name } } } }")
    with pytest.raises(LimitError, match="must provide"):
        cost(github_schema, "query { viewer { repositories { nodes { name } } } }")
    # a totalCount-only connection needs no page size, as on github.com
    assert cost(github_schema, "query { viewer { repositories { totalCount } } }").nodes == 0


def test_the_node_limit(github_schema):
    deep = """query { viewer { repositories(first: 100) { nodes { issues(first: 100) { nodes {
      comments(first: 100) { nodes { id } } } } } } } }"""
    with pytest.raises(LimitError, match="500,000"):
        cost(github_schema, deep)


def test_a_small_query_costs_one_point(github_schema):
    assert cost(github_schema, documents.document("rate_limit")).points == 1


def test_our_heavy_page_costs_what_the_formula_says(github_schema):
    variables = {"owner": "o", "name": "r", "first": 50, "after": None,
                 "orderBy": {"field": "UPDATED_AT", "direction": "DESC"},
                 "reviews": 20, "comments": 20, "reviewComments": 10}
    result = cost(github_schema, documents.document("pull_requests_page"), variables)
    # 1 (pullRequests) + 50 each for reviews, comments and commits{totalCount} per PR
    # + 50 x 20 (review comments per review); a totalCount-only connection still costs its request
    assert result.requests == 1 + 50 + 50 + 50 + 1_000
    assert result.points == 12
    assert result.nodes == 50 + 50 * 20 + 50 * 20 + 50 * 20 * 10

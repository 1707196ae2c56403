"""Every GraphQL document validates against GitHub's public schema (contribsync_sim/github_schema)."""

from __future__ import annotations

import graphql
import pytest

from contribsync.github import documents


@pytest.fixture(scope="module")
def schema(github_schema) -> graphql.GraphQLSchema:
    return github_schema


def errors(schema, text: str) -> list[str]:
    return [e.message for e in graphql.validate(schema, graphql.parse(text))]


def test_there_are_documents():
    assert {"repository", "recent_pull_requests", "pull_requests_page", "pull_request_details",
            "issues_page", "discussions_page", "rate_limit"} <= set(documents.names())


@pytest.mark.parametrize("name", documents.names())
def test_document_validates_against_githubs_schema(schema, name):
    assert errors(schema, documents.document(name)) == []


@pytest.mark.parametrize("name", documents.names())
def test_no_document_uses_a_deprecated_field(schema, name):
    """GitHub removes deprecated fields (e.g. PullRequest.databaseId, which cannot hold 64-bit ids)."""
    found = graphql.validate(schema, graphql.parse(documents.document(name)), rules=[graphql.NoDeprecatedCustomRule])
    assert [e.message for e in found] == []


@pytest.mark.parametrize("name", documents.names())
def test_every_document_reads_the_rate_limit(name):
    assert "rateLimit" in documents.document(name)




def test_the_invalid_filter_by_is_rejected(schema):
    bad = """
        query Bad($owner: String!, $name: String!) {
          repository(owner: $owner, name: $name) {
            pullRequests(first: 10, filterBy: { since: "2024-01-01T00:00:00Z" }) { nodes { number } }
          }
        }"""
    assert any("filterBy" in message for message in errors(schema, bad))


def test_only_spread_fragments_are_appended():
    text = documents.document("rate_limit")
    assert "fragment RateLimitFields" in text
    assert "fragment ActorFields" not in text
    nested = documents.document("recent_pull_requests")
    assert "fragment PullRequestFields" in nested and "fragment ActorFields" in nested

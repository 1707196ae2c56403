"""Rows carry the contributor.info columns its jobs fill: requested reviewers of a REST/webhook pull
request (``reviewer_data.requested_reviewers``), and a contributor's bio, blog and creation time."""

from __future__ import annotations

import copy
import json

from contribsync.capture.rows import CONTRIBUTOR_COLUMNS, PULL_REQUEST_COLUMNS, Batch
from tests.fixtures import WEBHOOKS

REQUESTED = json.loads((WEBHOOKS / "pull_request" / "review_requested.payload.json").read_text())


def test_a_webhook_pull_request_names_its_requested_reviewers_and_teams_as_contributor_info_does():
    pr = copy.deepcopy(REQUESTED["pull_request"])
    pr["requested_teams"] = [{"id": 1, "name": "justice-league", "slug": "justice-league"}]
    batch = Batch()
    batch.rest_pull_request(pr)
    row = dict(zip(PULL_REQUEST_COLUMNS, batch.pull_requests[0], strict=True))
    user = pr["requested_reviewers"][0]
    assert json.loads(row["requested_reviewers"]) == [
        {"username": user["login"], "avatar_url": user["avatar_url"]},
        {"username": "team:justice-league", "avatar_url": ""},
    ]


def test_an_object_that_does_not_say_keeps_the_stored_requests():
    pr = copy.deepcopy(REQUESTED["pull_request"])
    del pr["requested_reviewers"], pr["requested_teams"]
    batch = Batch()
    batch.rest_pull_request(pr)
    assert dict(zip(PULL_REQUEST_COLUMNS, batch.pull_requests[0], strict=True))["requested_reviewers"] is None
    # GraphQL reads no review requests: its rows never overwrite them
    node = {"fullDatabaseId": "7", "number": 1, "title": "t", "state": "OPEN", "baseRefName": "main",
            "headRefName": "x", "createdAt": "2024-01-01T00:00:00Z", "updatedAt": "2024-01-02T00:00:00Z",
            "author": None}
    batch.graphql_pull_request(node)
    assert dict(zip(PULL_REQUEST_COLUMNS, batch.pull_requests[1], strict=True))["requested_reviewers"] is None


def test_a_graphql_user_brings_bio_blog_and_creation_time():
    batch = Batch()
    batch.actor({"__typename": "User", "databaseId": 5, "login": "mona", "avatarUrl": "https://a/5",
                 "bio": "Octo fan", "websiteUrl": "https://mona.example", "createdAt": "2011-01-25T18:44:36Z"},
                "2024-01-01T00:00:00Z")
    row = dict(zip(CONTRIBUTOR_COLUMNS, batch.contributors[5], strict=True))
    assert (row["bio"], row["blog"], row["github_created_at"]) == (
        "Octo fan", "https://mona.example", "2011-01-25T18:44:36Z")
    assert row["seen_at"] == "2024-01-01T00:00:00Z"

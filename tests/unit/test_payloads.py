"""Event data models accept every shape contributor.info sends, and reject what no function can use."""

from __future__ import annotations

import uuid

import pytest
from pydantic import ValidationError

from contribsync import payloads as p


@pytest.mark.parametrize("data", [
    {"owner": "octo", "repo": "demo"},
    {"repository": {"owner": "octo", "name": "demo", "github_id": 1}},
    {"repositoryId": str(uuid.uuid4()), "days": 30, "priority": "high", "reason": "manual"},
])
def test_repository_sync_accepts_each_documented_shape(data):
    model = p.RepositorySync.model_validate(data)
    assert model.repository_key


def test_repository_sync_rejects_data_that_names_no_repository():
    with pytest.raises(ValidationError, match="repositoryId"):
        p.RepositorySync.model_validate({"days": 3})


def test_extra_keys_from_contributor_info_senders_are_kept():
    model = p.RepositoryDiscussions.model_validate({"repositoryId": str(uuid.uuid4()), "source": "cron"})
    assert model.max_items == 100
    assert model.model_extra == {"source": "cron"}


def test_pr_details_takes_both_shapes_and_normalises_the_key():
    rid = uuid.uuid4()
    a = p.PullRequestJob.model_validate({"repository": {"owner": "Octo", "name": "Demo"}, "pr_number": 5})
    b = p.PullRequestJob.model_validate({"repositoryId": str(rid), "prNumber": "7"})
    assert a.repository_key == "octo/demo"
    assert b.repository_key == str(rid)
    assert b.pr_number == 7


def test_cancel_needs_a_target():
    with pytest.raises(ValidationError):
        p.CancelFunction.model_validate({"match": {"a": 1}})

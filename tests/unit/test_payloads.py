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


REPO = str(uuid.uuid4())


def test_a_hybrid_pull_request_job_names_several_numbers_or_none():
    several = p.PullRequestJob.model_validate({"repositoryId": REPO, "prNumbers": [12, "13"], "jobId": "j"})
    assert several.pr_number is None and several.pr_numbers == (12, 13)
    assert several.for_number(13).number == 13 and several.for_number(13).pr_numbers == ()
    recent = p.PullRequestJob.model_validate({"repositoryId": REPO, "days": 7, "maxPRs": 50})
    assert (recent.pr_number, recent.pr_numbers, recent.days) == (None, (), 7)
    with pytest.raises(ValueError, match="no single pull request"):
        _ = recent.number
    with pytest.raises(ValidationError):
        p.PullRequestJob.model_validate({"repositoryId": REPO, "prNumbers": [0]})


def test_plural_item_types_name_the_same_items_as_the_singular():
    plural = p.EmbeddingsWorkspace.model_validate({"itemTypes": ["issues", "pull_requests", "discussions"]})
    singular = p.EmbeddingsWorkspace.model_validate({"itemTypes": ["issue", "pull_request", "discussion"]})
    assert plural.item_types == singular.item_types == ("issue", "pull_request", "discussion")
    with pytest.raises(ValidationError):
        p.EmbeddingsWorkspace.model_validate({"itemTypes": ["commits"]})


@pytest.mark.parametrize(("data", "days"), [
    ({"repositoryId": REPO, "timeRange": 90}, 90),
    ({"repositoryId": REPO, "days": 30}, 30),
    ({"repositoryId": REPO, "time_range_days": 14}, 14),
    ({"repositoryId": REPO}, None),
])
def test_the_sync_range_is_read_from_whichever_key_carries_it(data, days):
    assert p.RepositorySync.model_validate(data).range_days == days


def test_an_app_enabled_repository_is_discovered_by_its_full_name():
    model = p.NewRepository.model_validate({"installation_id": 1, "repository_id": 1, "repository_name": "o/r",
                                            "is_private": False})
    assert (model.owner, model.repo, model.source) == ("o", "r", "github-app")
    with pytest.raises(ValidationError):
        p.NewRepository.model_validate({"repository_name": "no-slash"})


def test_the_repository_webhook_function_takes_a_stored_delivery_or_an_app_event():
    delivery = p.RepositoryWebhook.model_validate({"deliveryId": "d-1", "event": "installation"})
    assert delivery.delivery_id == "d-1"
    app = p.RepositoryWebhook.model_validate({"installation_id": 1, "account": "o", "repository_selection": "all"})
    assert (app.delivery_id, app.installation_id, app.account) == (None, 1, "o")
    with pytest.raises(ValidationError, match="deliveryId"):
        p.RepositoryWebhook.model_validate({"account": "o"})


def test_embedding_job_progress_needs_no_repository_and_anything_else_does():
    progress = p.EmbeddingsRepository.model_validate({"jobId": "j", "processed": 1, "total": 2, "status": "processing"})
    assert (progress.repository_id, progress.processed, progress.total) == (None, 1, 2)
    item = p.EmbeddingsRepository.model_validate({"issueId": str(uuid.uuid4()), "repositoryId": REPO})
    assert str(item.repository_id) == REPO
    with pytest.raises(ValidationError, match="repositoryId"):
        p.EmbeddingsRepository.model_validate({"issueId": str(uuid.uuid4())})

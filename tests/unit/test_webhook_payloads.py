"""What a webhook payload must hold before it is applied (services/webhooks/payloads.py)."""

from __future__ import annotations

import json

import pytest

from contribsync.errors import NonRetriable
from contribsync.services.webhooks import HANDLERS
from contribsync.services.webhooks.payloads import REQUIRED, check
from tests.fixtures import GITHUB

WEBHOOKS = GITHUB / "webhooks"


def corpus(event: str) -> list[dict]:
    return [json.loads(path.read_text()) for path in sorted((WEBHOOKS / event).glob("*.json"))]


@pytest.mark.parametrize("event", sorted(REQUIRED))
def test_every_real_payload_of_a_handled_type_passes(event):
    payloads = corpus(event)
    assert payloads, f"the corpus has no {event} payload"
    for payload in payloads:
        check(event, payload)


def test_every_handled_type_says_what_it_needs_or_reads_only_the_repository():
    # installation events carry no repository object; member reads only its member, optional
    assert set(HANDLERS) - set(REQUIRED) == {"installation", "installation_repositories", "member"}


@pytest.mark.parametrize(("event", "payload", "message"), [
    ("pull_request", {"action": "opened"}, "malformed pull_request payload: no pull_request object"),
    ("pull_request", {"pull_request": {"number": 1}},
     "malformed pull_request payload: pull_request.id: Field required"),
    ("issue_comment", {"issue": {"id": 1, "number": 2}, "comment": {"id": "x", "body": None,
                                                                      "created_at": "t", "updated_at": "t"}},
     "malformed issue_comment payload: comment.id: Input should be a valid integer, unable to parse string as an "
     "integer"),
    ("star", {"repository": "octo/hello"}, "malformed star payload: no repository object"),
    ("issues", {"issue": {"id": 1, "number": 2}, "repository": {"id": 3}},
     "malformed issues payload: repository.name: Field required"),
])
def test_a_payload_without_what_its_type_needs_is_refused_naming_the_field(event, payload, message):
    with pytest.raises(NonRetriable) as refused:
        check(event, payload)
    assert str(refused.value) == message

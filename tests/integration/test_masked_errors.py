"""Error texts written to the database are masked of the configured secrets (``Clients.mask``), not only the
run history's: ``sync_logs``, ``webhook_deliveries`` (a failed delivery and one the queue refused) and
``embedding_jobs``."""

from __future__ import annotations

import uuid

import httpx
import pytest

from contribsync import catalog
from contribsync.capture.synclog import SyncLog
from contribsync.errors import NonRetriable
from contribsync.github.client import GitHubClient
from contribsync.runtime import RunContext
from contribsync.services.embeddings import Scope, _EmbeddingJob
from contribsync.services.webhooks import _failed
from contribsync.webhook_receiver import WebhookReceiver, signature
from tests.fakes import clients
from tests.fixtures import WEBHOOKS

pytestmark = pytest.mark.integration

HOOK_SECRET = "hook-c4n4ry-" + uuid.uuid4().hex
OPENAI_KEY = "plain-openai-c4n4ry-" + uuid.uuid4().hex  # no sk- shape: only the configured value can mask it
TOKEN = "plain-token-c4n4ry-" + uuid.uuid4().hex
LEAK = f"failed with {HOOK_SECRET} {OPENAI_KEY} {TOKEN}"


@pytest.fixture
def secret_clients(db):
    def make(queues=None):
        github = GitHubClient(tokens=[TOKEN], transport=httpx.MockTransport(lambda r: httpx.Response(500)))
        return clients(db, queues, github=github, webhook_secrets=(HOOK_SECRET,), openai_api_key=OPENAI_KEY,
                       github_tokens=(TOKEN,))
    return make


def context(mine, event_name: str) -> RunContext:
    return RunContext.outside_a_run(mine, catalog.resolve(event_name))


def assert_masked(text: str | None) -> None:
    assert text is not None and "***" in text
    assert HOOK_SECRET not in text and OPENAI_KEY not in text and TOKEN not in text


def test_a_sync_logs_error_is_masked(db, secret_clients):
    ctx = context(secret_clients(), "capture/repository.sync")
    log = SyncLog(ctx, "repository_discussions", None)
    with pytest.raises(RuntimeError), log:
        raise RuntimeError(LEAK)
    row = db.connection().execute("SELECT status, error_message FROM sync_logs WHERE id = %s", (log.id,)).fetchone()
    assert row["status"] == "failed"
    assert_masked(row["error_message"])


class LeakingQueues:
    def send_event(self, name, data=None, *, id=None):
        raise RuntimeError(f"SQS refused: {LEAK}")


def test_a_webhook_delivery_error_is_masked_when_the_queue_refuses_it_and_when_it_fails(db, secret_clients):
    # GIVEN a signed delivery the queue refuses with a message quoting the secrets
    delivery_id = str(uuid.uuid4())
    body = (WEBHOOKS / "pull_request" / "opened.payload.json").read_bytes()
    event = {"headers": {"X-GitHub-Event": "pull_request", "X-GitHub-Delivery": delivery_id,
                         "X-Hub-Signature-256": signature(HOOK_SECRET, body)},
             "body": body.decode(), "isBase64Encoded": False}
    assert WebhookReceiver(secret_clients(LeakingQueues())).handle(event, None)["statusCode"] == 503

    def error() -> str:
        row = db.connection().execute("SELECT error FROM webhook_deliveries WHERE delivery_id = %s",
                                      (delivery_id,)).fetchone()
        return row["error"]

    assert_masked(error())
    # WHEN its processing fails for good
    _failed(context(secret_clients(), "webhook/pull_request"), delivery_id, NonRetriable(LEAK))
    assert_masked(error())


class NoEmbedder:
    model = "text-embedding-3-small"
    dimensions = 384

    def embed(self, texts):
        raise AssertionError("not called")


def test_an_embedding_jobs_error_is_masked(db, secret_clients):
    mine = secret_clients()
    ctx = RunContext.outside_a_run(mine, catalog.resolve("embeddings/process.workspace"),
                                   event_id=f"masked:{uuid.uuid4()}")
    job = _EmbeddingJob(ctx, Scope(), NoEmbedder(), mine.settings, batch_size=1, delay_s=0, budget=None)
    job.save_job("failed", error=LEAK)
    row = db.connection().execute("SELECT error_message FROM embedding_jobs WHERE event_id = %s",
                                  (ctx.event_id,)).fetchone()
    assert_masked(row["error_message"])

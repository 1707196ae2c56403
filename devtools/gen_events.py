"""Write ``events/<function>.json``: a Lambda-shaped sample event for every function.

``python -m devtools.gen_events`` (re)writes them. The SQS samples carry contributor.info-style data
for each event (validated against the catalog's models by the tests), each from the queue its data
routes to (the function's high-priority queue for a ``priority: high``); the Function URL samples are
an event API batch and a signed GitHub ``ping`` (secret ``demo-webhook-secret``); MigrateDatabase's is
CloudFormation's Create request for the ``DatabaseMigrations`` custom resource.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

from contribsync import catalog
from devtools.template.migrations import migrations_hash

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"
# GitHub's ping payload, as octokit recorded it (tests/fixtures/github/README.md has its source and licence).
CORPUS_PING = ROOT / "tests" / "fixtures" / "github" / "webhooks" / "ping" / "payload.json"
WEBHOOK_SECRET = "demo-webhook-secret"
REPO = "3f2b8c1e-5d4a-4e7b-9c10-2a6f8e9d0b11"
WORKSPACE = "8a1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d"
TS = 1_763_856_000_000  # 2025-11-23T00:00:00Z
SCHEDULED_AT = "2025-11-23T00:00:00Z"

DATA: dict[str, dict[str, Any]] = {
    "capture/repository.sync": {"owner": "simorg", "repo": "repo-0"},
    "capture/repository.sync-enhanced": {"repositoryId": REPO, "time_range_days": 30, "priority": "high"},
    "capture/pr.details": {"repository": {"owner": "simorg", "name": "repo-0"}, "pr_number": 47},
    "capture/pr.reviews": {"repository": {"owner": "simorg", "name": "repo-0"}, "prNumber": 47, "prId": "PR_x"},
    "capture/pr.comments": {"repository": {"owner": "simorg", "name": "repo-0"}, "prNumber": 47},
    "capture/repository.issues": {"repositoryId": REPO, "timeRange": 30},
    "capture/issue.comments": {"repositoryId": REPO, "issueNumber": 977, "issueId": "I_kwDOExample",
                               "priority": "medium"},
    "capture/repository.discussions": {"repositoryId": REPO, "maxItems": 100},
    "capture/repository.comments.all": {"repositoryId": REPO, "timeRange": 30, "priority": "low"},
    "update/pr.activity": {"repositoryId": REPO, "days": 7},
    "capture/repository.events": {"repositoryId": REPO},
    "classify/single-repository": {"repositoryId": REPO, "owner": "simorg", "repo": "repo-0"},
    "discover/new-repository": {"owner": "simorg", "repo": "repo-1", "source": "manual"},
    "aggregate/workspace-metrics": {"workspace_id": WORKSPACE},
    "workspace/repository-change": {"workspace_id": WORKSPACE, "repository_id": REPO, "action": "added"},
    "cleanup/workspace-metrics": {"retentionDays": 90},
    "embeddings/process.workspace": {"workspace_id": WORKSPACE, "batch_size": 100, "delay_ms": 0},
    "embeddings/process.repository": {"repositoryId": REPO},
    "webhook/pull_request": {"deliveryId": "72d3162e-cc78-11e3-81ab-4c9367dc0958", "event": "pull_request",
                             "action": "opened", "repositoryGithubId": 186853002},
    "webhook/issues": {"deliveryId": "72d3162e-cc78-11e3-81ab-4c9367dc0959", "event": "issue_comment",
                       "action": "created", "repositoryGithubId": 186853002},
    "webhook/discussion": {"deliveryId": "72d3162e-cc78-11e3-81ab-4c9367dc0960", "event": "discussion",
                           "action": "answered", "repositoryGithubId": 186853002},
    "webhook/repository": {"deliveryId": "72d3162e-cc78-11e3-81ab-4c9367dc0961", "event": "repository",
                           "action": "renamed", "repositoryGithubId": 186853002},
    "capture/commits.analyze": {"repositoryId": REPO, "commitSha": "9fceb02d0ae598e95dc970b74767f19372d61af8",
                                "priority": "high", "batchId": "sample-batch"},
    "cancel/function": {"event": "capture/repository.sync", "match": {"repositoryId": REPO},
                        "reason": "repository removed from tracking"},
}


# The catch-all's sample carries a name contributor.info sends that no function handles.
SENT_AS = {"(no function)": "capture/commits.analyze"}


def sqs_event(event: catalog.Event, n: int) -> dict[str, Any]:
    name = SENT_AS.get(event.name, event.name)
    data, event_id = DATA.get(name, {}), f"00000000-0000-4000-8000-{n:012d}"
    if event.schedule:  # what the template's Scheduler target sends, its context attribute filled in
        data, event_id = {**data, "scheduledAt": SCHEDULED_AT}, f"cron:{event.name}:{SCHEDULED_AT}"
    body = json.dumps({"name": name, "data": data, "id": event_id, "ts": TS})
    return {"Records": [{
        "messageId": f"11111111-0000-4000-8000-{n:012d}",
        "receiptHandle": f"sample-receipt-handle-{n}",
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": str(TS), "SenderId": "AIDAEXAMPLE",
                       "ApproximateFirstReceiveTimestamp": str(TS + 5)},
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(body.encode()).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:us-east-1:123456789012:contribsync-{event.queue_for(data)}",
        "awsRegion": "us-east-1",
    }]}


def url_event(path: str, body: str, headers: dict[str, str], *, source_ip: str = "192.0.2.1") -> dict[str, Any]:
    return {
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": "",
        "headers": {"content-type": "application/json", **headers},
        "requestContext": {"accountId": "anonymous", "apiId": "sample", "domainName": "sample.lambda-url.aws",
                           "domainPrefix": "sample", "requestId": "sample", "routeKey": "$default",
                           "stage": "$default", "time": "23/Nov/2025:00:00:00 +0000", "timeEpoch": TS,
                           "http": {"method": "POST", "path": path, "protocol": "HTTP/1.1",
                                    "sourceIp": source_ip, "userAgent": "sample"}},
        "body": body, "isBase64Encoded": False,
    }


def cloudformation_create() -> dict[str, Any]:
    """CloudFormation's Create request for the migrations, as the function receives it. The ResponseURL is
    a pre-signed S3 URL on AWS: `contribsync invoke` PUTs the answer there, so point it at a listener of
    your own to run the sample."""
    stack = "arn:aws:cloudformation:us-east-1:123456789012:stack/contribsync/6f2a6c10-c8a4-11f0-8de9-0a1b2c3d4e5f"
    token = "arn:aws:lambda:us-east-1:123456789012:function:contribsync-MigrateDatabaseFunction-AbCdEf123456"
    return {
        "RequestType": "Create", "ServiceToken": token,
        "ResponseURL": "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/"
                       "arn%3Aaws%3Acloudformation%3Aus-east-1%3A123456789012%3Astack/contribsync/sample"
                       "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=7200&X-Amz-Signature=sample",
        "StackId": stack, "RequestId": "5e1c8e2a-0000-4000-8000-000000000001",
        "LogicalResourceId": "DatabaseMigrations", "ResourceType": "Custom::DatabaseMigrations",
        "ResourceProperties": {"ServiceToken": token, "ServiceTimeout": "960", "MigrationsHash": migrations_hash(),
                               "Layer": "arn:aws:lambda:us-east-1:123456789012:layer:contribsync-shared:1"},
    }


def main() -> None:
    EVENTS.mkdir(exist_ok=True)
    for n, event in enumerate(catalog.EVENTS, start=1):
        (EVENTS / f"{event.folder}.json").write_text(json.dumps(sqs_event(event, n), indent=2) + "\n")
    # the local stack's key, from 127.0.0.1: the one place it is accepted (``contribsync invoke`` runs as the
    # local stack); both events are ones senders may post (catalog.sendable)
    batch = json.dumps([{"name": "classify/repository.single", "data": {"repositoryId": REPO}},
                        {"name": "capture/commits.analyze", "data": DATA["capture/commits.analyze"]}])
    sample = url_event("/e/contributor-info", batch, {}, source_ip="127.0.0.1")
    (EVENTS / "event_api.json").write_text(json.dumps(sample, indent=2) + "\n")
    ping = CORPUS_PING.read_text()
    signature = "sha256=" + hmac.new(WEBHOOK_SECRET.encode(), ping.encode(), hashlib.sha256).hexdigest()
    headers = {"x-github-event": "ping", "x-github-delivery": "d6a1b0e0-0000-4000-8000-000000000001",
               "x-hub-signature-256": signature, "user-agent": "GitHub-Hookshot/sample"}
    (EVENTS / "webhook_receiver.json").write_text(json.dumps(url_event("/webhook", ping, headers), indent=2) + "\n")
    (EVENTS / "migrate_database.json").write_text(json.dumps(cloudformation_create(), indent=2) + "\n")


if __name__ == "__main__":
    main()

"""The functions, their queues, event source mappings, schedules and least-privilege policies.

Every catalog event becomes a function, its queue (visibility 6x the function timeout, redrive to its DLQ
after retries + 1 receives), its high-priority queue (the same settings, redriving to the same DLQ), its
DLQ, an SQS event source mapping per queue with ReportBatchItemFailures, and an EventBridge Scheduler
schedule when it has a cron. ``ScalingConfig.MaximumConcurrency`` on the normal queue's mapping is the
function's global concurrency limit (Lambda's minimum is 2, so a limit of 1 is capped at 2 here and held at 1
by the runtime), or the ``QueueMaxConcurrency`` parameter when it has none, so that no backlog scales a
function to the account's concurrency and Postgres's connections with it; per-key limits cannot be expressed
there and are enforced by the runtime's Postgres leases. The
high queue's mapping always has a MaximumConcurrency of its own (``Event.high_max_concurrency``) and takes
one message per invocation, so its pollers and batches are never those of the normal backlog.

Policies are least privilege: a function may send only to its own two queues and DLQ (re-queueing and
dead-lettering) and to the two queues of each event it feeds, receive only from its own two queues, and
read only the parameters it needs: every statement names its resources (X-Ray, the log groups and the VPC
network interfaces come from AWS managed policies SAM attaches). The webhook receiver sends only to the
webhook functions' normal queues (its events carry no priority); the event API to every function's two.
Every function and mapping waits for the ``DatabaseMigrations`` custom resource (``migrations.py``), so no
code runs against a schema older than its own.
"""

from __future__ import annotations

import json
from typing import Any

from contribsync import catalog
from contribsync.webhook_receiver import WEBHOOK_EVENT_PREFIX
from devtools.template.intrinsics import arn, dlq_id, queue_ids, queue_name, ref, when
from devtools.template.migrations import MIGRATIONS_RESOURCE
from devtools.template.parameters import reserved_concurrency

GITHUB_FUNCTIONS = ("Capture", "Discover", "Reconcile")
OPENAI_FUNCTIONS = ("CaptureRepositoryDiscussions", "Embeddings")
SCHEDULED_TIME = "<aws.scheduler.scheduled-time>"
POLL_ACTIONS = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility")
URL_TIMEOUT_S = 10


def send_policy(queue_logical_id: str) -> dict[str, Any]:
    return {"SQSSendMessagePolicy": {"QueueName": {"Fn::GetAtt": [queue_logical_id, "QueueName"]}}}


def parameters_read(parameters: list[str]) -> dict[str, Any]:
    """``ssm:GetParameter`` (Powertools' ``get_parameter``) on the named parameters, in one statement.

    Not SAM's SSMParameter*ReadPolicy templates: they add ``ssm:DescribeParameters`` on ``*``, which
    nothing here calls. The names are hierarchical with a leading slash (/contribsync/database-url), so
    the ARN takes them after ``parameter`` with no slash of its own."""
    return {"Statement": [{"Effect": "Allow", "Action": ["ssm:GetParameter"], "Resource": [
        {"Fn::Sub": f"arn:${{AWS::Partition}}:ssm:${{AWS::Region}}:${{AWS::AccountId}}:parameter${{{p}}}"}
        for p in parameters]}]}


def queue_statement(own: list[str], sends_to: list[str]) -> dict[str, Any]:
    """What the event source mappings and the runtime do beyond sending. Lambda polls the function's own
    two queues with the function's role (receive, delete, attributes); the runtime backs off retries with
    ChangeMessageVisibility there and looks queue URLs up by name (GetQueueUrl). SAM's SQS event would
    attach AWSLambdaSQSQueueExecutionRole instead, which allows receiving from every queue in the
    account. One statement per action set, listing every ARN, keeps the role's inline policy small."""
    return {"Statement": [
        {"Effect": "Allow", "Action": ["sqs:GetQueueUrl"], "Resource": [arn(q) for q in sends_to]},
        {"Effect": "Allow", "Action": list(POLL_ACTIONS), "Resource": [arn(q) for q in own]},
    ]}


def send_statement(queues: list[str]) -> dict[str, Any]:
    """Send to many queues in one statement (one per queue would near IAM's 10,240-character limit)."""
    return {"Statement": [{"Effect": "Allow", "Action": ["sqs:SendMessage", "sqs:GetQueueUrl"],
                           "Resource": [arn(q) for q in queues]}]}


def secret_read(parameter: str) -> dict[str, Any]:
    return {"AWSSecretsManagerGetSecretValuePolicy": {
        "SecretArn": {"Fn::Sub": f"arn:${{AWS::Partition}}:secretsmanager:${{AWS::Region}}:${{AWS::AccountId}}"
                                 f":secret:${{{parameter}}}-*"}}}


def queue_properties(event: catalog.Event, name: str, dlq: str) -> dict[str, Any]:
    """A function queue: visibility 6x the function timeout, redrive to the DLQ after retries + 1 receives."""
    return {"QueueName": queue_name(name), "VisibilityTimeout": event.visibility_timeout_s,
            "MessageRetentionPeriod": 345_600, "SqsManagedSseEnabled": True,
            "RedrivePolicy": {"deadLetterTargetArn": arn(dlq), "maxReceiveCount": event.max_receive_count}}


def webhook_events() -> list[catalog.Event]:
    """The functions the webhook receiver feeds: the events it sends are ``webhook/<X-GitHub-Event>``."""
    return [e for e in catalog.EVENTS if e.name.startswith(WEBHOOK_EVENT_PREFIX)]


def _environment(fn: str) -> tuple[list[str], dict[str, Any]]:
    """The parameters a catalog function reads, and its environment beyond the Globals."""
    parameters = ["DatabaseUrlParameter"]
    environment: dict[str, Any] = {}
    if fn.startswith(GITHUB_FUNCTIONS):
        parameters.append("GitHubTokenParameter")
        # the token, or a GitHub App when GitHubAppId is set (then no token parameter need exist)
        environment["GITHUB_TOKEN_PARAMETER"] = {"Fn::If": ["UseGitHubApp", ref("AWS::NoValue"),
                                                            ref("GitHubTokenParameter")]}
        environment["GITHUB_APP_ID"] = when("UseGitHubApp", ref("GitHubAppId"))
        environment["GITHUB_APP_PRIVATE_KEY_SECRET"] = when("UseGitHubApp", ref("GitHubAppPrivateKeySecret"))
        environment["GITHUB_APP_INSTALLATION_ID"] = when("HasGitHubAppInstallations", ref("GitHubAppInstallationIds"))
    if fn == "ReconcileWebhookDeliveries":
        environment["CONTRIBSYNC_WEBHOOK_HOOKS"] = ref("WebhookHooks")
    if fn == "CleanupWorkspaceMetrics":
        environment["CONTRIBSYNC_METRICS_RETENTION_DAYS"] = ref("MetricsRetentionDays")
    if fn.startswith(OPENAI_FUNCTIONS):
        parameters.append("OpenAIKeyParameter")
        environment["OPENAI_API_KEY_PARAMETER"] = ref("OpenAIKeyParameter")
    return parameters, environment


def _schedule(event: catalog.Event, expression: str, queue: str) -> dict[str, Any]:
    return {"Type": "AWS::Scheduler::Schedule", "Properties": {
        "Description": f"{event.schedule} UTC: {event.name}",
        "ScheduleExpression": expression, "ScheduleExpressionTimezone": "UTC",
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "Target": {"Arn": arn(queue), "RoleArn": arn("SchedulerRole"),
                   # Scheduler fills in its context attributes: the run computes as of the fire
                   # time, and a re-sent fire carries the same event id (skipped once completed).
                   "Input": json.dumps({"name": event.name, "id": f"cron:{event.name}:{SCHEDULED_TIME}",
                                        "data": {"scheduledAt": SCHEDULED_TIME}}),
                   "RetryPolicy": {"MaximumRetryAttempts": 3}}}}


def event_resources(event: catalog.Event) -> dict[str, Any]:
    fn = event.function
    (queue, high), dlq = queue_ids(fn), dlq_id(fn)
    policies: list[Any] = [send_policy(queue), send_policy(high), send_policy(dlq)]
    targets = [q for t in sorted({catalog.resolve(name).function for name in event.feeds} - {fn}) for q in queue_ids(t)]
    policies.extend(send_policy(target) for target in targets)
    policies.append(queue_statement([queue, high], [queue, high, dlq, *targets]))
    parameters, environment = _environment(fn)
    policies.append(parameters_read(parameters))
    if fn.startswith(GITHUB_FUNCTIONS):
        policies.append(secret_read("GitHubAppPrivateKeySecret"))
    mapping: dict[str, Any] = {
        "EventSourceArn": arn(queue), "FunctionName": ref(f"{fn}Function"), "BatchSize": event.batch_size,
        "MaximumBatchingWindowInSeconds": 1, "FunctionResponseTypes": ["ReportBatchItemFailures"],
    }
    mapping["ScalingConfig"] = {"MaximumConcurrency": ref("QueueMaxConcurrency") if event.max_concurrency is None
                                else event.max_concurrency}
    high_mapping: dict[str, Any] = {
        "EventSourceArn": arn(high), "FunctionName": ref(f"{fn}Function"),
        "BatchSize": catalog.HIGH_PRIORITY_BATCH_SIZE, "MaximumBatchingWindowInSeconds": 0,
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "ScalingConfig": {"MaximumConcurrency": event.high_max_concurrency},
    }
    function: dict[str, Any] = {
        "CodeUri": f"functions/{event.folder}/", "Handler": "app.lambda_handler", "Timeout": event.timeout_s,
        "Description": f"{event.name}: {event.summary}"[:256],
        "Policies": policies,
    }
    if environment:
        function["Environment"] = {"Variables": environment}
    resources: dict[str, Any] = {
        dlq: {"Type": "AWS::SQS::Queue", "Properties": {
            "QueueName": queue_name(event.dlq), "MessageRetentionPeriod": 1_209_600, "SqsManagedSseEnabled": True}},
        queue: {"Type": "AWS::SQS::Queue", "Properties": queue_properties(event, event.queue, dlq)},
        high: {"Type": "AWS::SQS::Queue", "Properties": queue_properties(event, event.high_queue, dlq)},
        f"{fn}Function": {"Type": "AWS::Serverless::Function", "DependsOn": MIGRATIONS_RESOURCE,
                          "Properties": function},
        # The logical id SAM gave the mapping it made from an `SQS` event, so a deployed stack updates it
        # in place (a second mapping of the same queue and function would be refused).
        f"{fn}FunctionQueue": {"Type": "AWS::Lambda::EventSourceMapping", "DependsOn": MIGRATIONS_RESOURCE,
                               "Properties": mapping},
        f"{fn}FunctionHighQueue": {"Type": "AWS::Lambda::EventSourceMapping", "DependsOn": MIGRATIONS_RESOURCE,
                                   "Properties": high_mapping},
    }
    if (expression := event.aws_schedule()) is not None:
        resources[f"{fn}Schedule"] = _schedule(event, expression, queue)
    return resources


def url_function(name: str, description: str, secret_parameter: str, env_name: str,
                 queues: list[str]) -> dict[str, Any]:
    """A Function URL function sending to ``queues`` (logical ids), with its concurrency reservation."""
    return {"Type": "AWS::Serverless::Function", "DependsOn": MIGRATIONS_RESOURCE, "Properties": {
        "CodeUri": f"functions/{catalog.folder_of(name)}/", "Handler": "app.lambda_handler",
        "Timeout": URL_TIMEOUT_S, "Description": description, "FunctionUrlConfig": {"AuthType": "NONE"},
        "ReservedConcurrentExecutions": reserved_concurrency(name),
        "Environment": {"Variables": {env_name: ref(secret_parameter)}},
        "Policies": [send_statement(queues), secret_read(secret_parameter), parameters_read(["DatabaseUrlParameter"])]}}


def url_functions() -> dict[str, Any]:
    """The event API (every function's two queues) and the webhook receiver (the webhook functions'
    normal queues only: it sends ``{deliveryId, event, action, repositoryGithubId}``, which has no
    ``priority``, so ``Event.queue_for`` never picks a high queue for it)."""
    return {
        "EventApiFunction": url_function(
            "EventApi", "Inngest-compatible event API: POST /e/{event_key}", "EventKeysSecret",
            "CONTRIBSYNC_EVENT_KEYS_SECRET", [q for e in catalog.EVENTS for q in queue_ids(e.function)]),
        "WebhookReceiverFunction": url_function(
            "WebhookReceiver", "GitHub webhook receiver (HMAC-verified)", "WebhookSecretSecret",
            "GITHUB_WEBHOOK_SECRET_SECRET", [queue_ids(e.function)[0] for e in webhook_events()]),
    }


def shared_layer() -> dict[str, Any]:
    return {"Type": "AWS::Serverless::LayerVersion", "Properties": {
        "LayerName": {"Fn::Sub": "${AWS::StackName}-shared"},
        "Description": "contribsync package: runtime, catalog, DB, GitHub and AI clients, services",
        "ContentUri": "shared/", "CompatibleRuntimes": ["python3.11"], "CompatibleArchitectures": ["arm64"],
        "RetentionPolicy": "Delete"},
        "Metadata": {"BuildMethod": "python3.11", "BuildArchitecture": "arm64"}}


def scheduler_role(scheduled_queues: list[str]) -> dict[str, Any]:
    return {"Type": "AWS::IAM::Role", "Properties": {
        "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "scheduler.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
        "Policies": [{"PolicyName": "send-to-cron-queues", "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "sqs:SendMessage", "Resource": [arn(q) for q in scheduled_queues]}]}}]}}


__all__ = ["event_resources", "parameters_read", "scheduler_role", "shared_layer", "url_functions", "webhook_events"]

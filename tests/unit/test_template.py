"""template.yaml agrees with the event catalog, resource by resource.

The template is generated from the catalog, but this reads the committed file as CloudFormation
would, so a hand edit, a stale file or a generator bug all fail here.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from contribsync import catalog
from contribsync.webhook_receiver import WEBHOOK_EVENT_PREFIX
from devtools import gen_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = yaml.safe_load((ROOT / "template.yaml").read_text())
RESOURCES = TEMPLATE["Resources"]
EVENTS = catalog.EVENTS


def props(logical_id: str) -> dict:
    return RESOURCES[logical_id]["Properties"]


def test_the_committed_template_and_handlers_are_what_the_generator_writes():
    assert gen_template.main(["--check"]) == 0


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: e.function)
def test_function_queue_and_dlq_follow_the_catalog(event):
    fn = props(f"{event.function}Function")
    assert fn["CodeUri"] == f"functions/{event.folder}/"
    app = ROOT / fn["CodeUri"] / "app.py"
    module, _, service = event.service.partition(":")
    assert f'catalog.by_function("{event.function}")' in app.read_text()
    assert f"from contribsync.services.{module} import {service}\n" in app.read_text()
    queue = props(f"{event.function}Queue")
    dlq_id = f"{event.function}DeadLetterQueue"
    assert queue["QueueName"] == {"Fn::Sub": f"${{AWS::StackName}}-{event.queue}"}
    assert props(dlq_id)["QueueName"] == {"Fn::Sub": f"${{AWS::StackName}}-{event.dlq}"}
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": [dlq_id, "Arn"]}
    assert queue["RedrivePolicy"]["maxReceiveCount"] == event.retries + 1
    assert queue["VisibilityTimeout"] >= 6 * fn["Timeout"]
    assert fn["Timeout"] == event.timeout_s
    source = RESOURCES[f"{event.function}FunctionQueue"]
    assert source["Type"] == "AWS::Lambda::EventSourceMapping"
    assert source["Properties"]["EventSourceArn"] == {"Fn::GetAtt": [f"{event.function}Queue", "Arn"]}
    assert source["Properties"]["FunctionName"] == {"Ref": f"{event.function}Function"}
    assert source["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert source["Properties"]["BatchSize"] == event.batch_size
    scaling = source["Properties"].get("ScalingConfig")
    if event.concurrency is not None and event.concurrency.key is None:
        assert scaling == {"MaximumConcurrency": max(2, event.concurrency.n)}
    else:  # bounded all the same: a backlog must not scale it to the account's concurrency
        assert scaling == {"MaximumConcurrency": {"Ref": "QueueMaxConcurrency"}}


def test_the_default_ceiling_of_a_queue_fed_function_is_a_parameter_lambda_accepts():
    parameter = TEMPLATE["Parameters"]["QueueMaxConcurrency"]
    assert parameter["Type"] == "Number"
    assert 2 <= parameter["MinValue"] <= parameter["Default"] <= parameter["MaxValue"] <= 1000  # Lambda's range


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: e.function)
def test_a_high_priority_queue_with_a_mapping_of_its_own(event):
    queue, high = props(f"{event.function}Queue"), props(f"{event.function}HighQueue")
    assert high["QueueName"] == {"Fn::Sub": f"${{AWS::StackName}}-{event.queue}-high"}
    # the normal queue's settings, and its dead letters in the function's one DLQ
    assert {k: v for k, v in high.items() if k != "QueueName"} == {k: v for k, v in queue.items() if k != "QueueName"}
    assert high["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": [f"{event.function}DeadLetterQueue", "Arn"]}
    # a second mapping on the same function, with concurrency of its own and one message per invocation
    source = RESOURCES[f"{event.function}FunctionHighQueue"]
    assert source["Type"] == "AWS::Lambda::EventSourceMapping"
    mapping = source["Properties"]
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": [f"{event.function}HighQueue", "Arn"]}
    assert mapping["FunctionName"] == {"Ref": f"{event.function}Function"}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert (mapping["BatchSize"], mapping["MaximumBatchingWindowInSeconds"]) == (1, 0)
    ceiling = mapping["ScalingConfig"]["MaximumConcurrency"]
    assert 2 <= ceiling <= catalog.HIGH_PRIORITY_CONCURRENCY  # Lambda's minimum is 2
    if event.concurrency is not None and event.concurrency.key is None:  # a global limit is never exceeded
        assert ceiling <= max(2, event.concurrency.n)
    else:
        assert ceiling == catalog.HIGH_PRIORITY_CONCURRENCY


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: e.function)
def test_schedules_follow_the_catalog(event):
    schedule = RESOURCES.get(f"{event.function}Schedule")
    if event.schedule is None:
        assert schedule is None
        return
    assert schedule["Type"] == "AWS::Scheduler::Schedule"
    assert schedule["Properties"]["ScheduleExpression"] == event.aws_schedule()
    assert schedule["Properties"]["ScheduleExpressionTimezone"] == "UTC"
    target = schedule["Properties"]["Target"]
    assert target["Arn"] == {"Fn::GetAtt": [f"{event.function}Queue", "Arn"]}
    # what Scheduler sends once it has filled in its context attribute: an event whose data says when
    fired = json.loads(target["Input"].replace("<aws.scheduler.scheduled-time>", "2026-03-01T00:00:00Z"))
    assert fired == {"name": event.name, "id": f"cron:{event.name}:2026-03-01T00:00:00Z",
                     "data": {"scheduledAt": "2026-03-01T00:00:00Z"}}
    assert event.model.model_validate(fired["data"]).scheduled_at == datetime(2026, 3, 1, tzinfo=UTC)
    role = props("SchedulerRole")["Policies"][0]["PolicyDocument"]["Statement"][0]["Resource"]
    assert {"Fn::GetAtt": [f"{event.function}Queue", "Arn"]} in role


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: e.function)
def test_policies_are_least_privilege(event):
    policies = props(f"{event.function}Function")["Policies"]
    send_to = {p["SQSSendMessagePolicy"]["QueueName"]["Fn::GetAtt"][0] for p in policies if "SQSSendMessagePolicy" in p}
    fed = {catalog.resolve(n).function for n in event.feeds} - {event.function}
    # each fed function's two queues: a follow-up goes to the high one when its data says so
    feeds = {f"{f}{kind}Queue" for f in fed for kind in ("", "High")}
    polled = {f"{event.function}Queue", f"{event.function}HighQueue"}
    own = polled | {f"{event.function}DeadLetterQueue"}
    assert send_to == own | feeds
    statements = [st for p in policies if "Statement" in p for st in p["Statement"]]
    by_action = {a: st["Resource"] for st in statements for a in st["Action"]}
    # the runtime looks queue URLs up by name and backs off retries on its own queues
    assert {r["Fn::GetAtt"][0] for r in by_action["sqs:GetQueueUrl"]} == own | feeds
    # Lambda polls only the function's own two queues, where the runtime also backs off retries
    for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"):
        assert {r["Fn::GetAtt"][0] for r in by_action[action]} == polled
    # hierarchical parameter names keep their leading slash, so the ARN adds none
    assert {"Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${DatabaseUrlParameter}"} \
        in by_action["ssm:GetParameter"]
    assert TEMPLATE["Parameters"]["DatabaseUrlParameter"]["Default"].startswith("/")


GITHUB_CALLERS = [f for f, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::Function"
                  and "GITHUB_TOKEN_PARAMETER" in r["Properties"].get("Environment", {}).get("Variables", {})]


@pytest.mark.parametrize("function", GITHUB_CALLERS)
def test_a_github_app_replaces_the_token_when_its_id_is_given(function):
    variables = props(function)["Environment"]["Variables"]
    no_value = {"Ref": "AWS::NoValue"}
    # with GitHubAppId set, the token parameter is left out (it need not exist) and the App's three settings
    # come in; without it, the reverse
    assert variables["GITHUB_TOKEN_PARAMETER"] == {"Fn::If": ["UseGitHubApp", no_value,
                                                              {"Ref": "GitHubTokenParameter"}]}
    assert variables["GITHUB_APP_ID"] == {"Fn::If": ["UseGitHubApp", {"Ref": "GitHubAppId"}, no_value]}
    assert variables["GITHUB_APP_PRIVATE_KEY_SECRET"] == {
        "Fn::If": ["UseGitHubApp", {"Ref": "GitHubAppPrivateKeySecret"}, no_value]}
    assert variables["GITHUB_APP_INSTALLATION_ID"]["Fn::If"][0] == "HasGitHubAppInstallations"
    # the key is read from Secrets Manager, that one secret only
    secrets = [p["AWSSecretsManagerGetSecretValuePolicy"]["SecretArn"]["Fn::Sub"] for p in props(function)["Policies"]
               if "AWSSecretsManagerGetSecretValuePolicy" in p]
    assert secrets == ["arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:"
                       "${GitHubAppPrivateKeySecret}-*"]
    assert TEMPLATE["Conditions"]["UseGitHubApp"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "GitHubAppId"}, ""]}]}


def test_functions_that_never_call_github_get_no_github_credentials():
    for function, resource in RESOURCES.items():
        if resource["Type"] != "AWS::Serverless::Function" or function in GITHUB_CALLERS:
            continue
        variables = resource["Properties"].get("Environment", {}).get("Variables", {})
        assert not {v for v in variables if v.startswith("GITHUB_APP") or v.startswith("GITHUB_TOKEN")}, function
    assert len(GITHUB_CALLERS) >= 10


def send_targets(function: str) -> set[str]:
    statements = [st for p in props(function)["Policies"] if "Statement" in p for st in p["Statement"]]
    send = next(st for st in statements if "sqs:SendMessage" in st["Action"])
    assert len(yaml.safe_dump(props(function)["Policies"])) < 10_240 // 2  # far from IAM's inline limit
    return {r["Fn::GetAtt"][0] for r in send["Resource"]}


def test_the_event_api_sends_to_every_queue_in_one_statement():
    assert send_targets("EventApiFunction") == {f"{e.function}{kind}Queue" for e in EVENTS for kind in ("", "High")}


def test_the_webhook_receiver_sends_only_to_the_webhook_functions_queues():
    webhook_functions = {e.function for e in EVENTS if e.name.startswith(WEBHOOK_EVENT_PREFIX)}
    assert len(webhook_functions) == 4
    # what the receiver queues carries no priority, so it never goes to a high queue
    assert send_targets("WebhookReceiverFunction") == {f"{f}Queue" for f in webhook_functions}
    data = {"deliveryId": "d", "event": "issues", "action": "opened", "repositoryGithubId": 1}
    assert {catalog.route(f"webhook/{e}").queue_for(data) for e in ("issues", "pull_request")} == {
        catalog.by_function("ApplyIssueWebhook").queue, catalog.by_function("ApplyPullRequestWebhook").queue}


@pytest.mark.parametrize("function", ["EventApi", "WebhookReceiver"])
def test_url_functions_reserve_concurrency_from_a_parameter_that_can_reserve_none(function):
    parameter = TEMPLATE["Parameters"][f"{function}ReservedConcurrency"]
    assert parameter["Type"] == "Number" and parameter["Default"] >= 1 and parameter["MinValue"] == -1
    assert "-1 reserves none" in parameter["Description"]
    condition = f"Reserve{function}Concurrency"
    assert TEMPLATE["Conditions"][condition] == {"Fn::Not": [{"Fn::Equals": [
        {"Ref": f"{function}ReservedConcurrency"}, "-1"]}]}
    assert props(f"{function}Function")["ReservedConcurrentExecutions"] == {"Fn::If": [
        condition, {"Ref": f"{function}ReservedConcurrency"}, {"Ref": "AWS::NoValue"}]}


def test_every_function_runs_in_the_vpc_only_when_subnets_are_given():
    for name in ("SubnetIds", "SecurityGroupIds"):
        assert TEMPLATE["Parameters"][name] == {**TEMPLATE["Parameters"][name], "Type": "CommaDelimitedList",
                                                "Default": ""}
    assert TEMPLATE["Conditions"]["UseVpc"] == {"Fn::Not": [{"Fn::Equals": [
        {"Fn::Join": [",", {"Ref": "SubnetIds"}]}, ""]}]}
    assert TEMPLATE["Globals"]["Function"]["VpcConfig"] == {"Fn::If": ["UseVpc", {
        "SubnetIds": {"Ref": "SubnetIds"}, "SecurityGroupIds": {"Ref": "SecurityGroupIds"}}, {"Ref": "AWS::NoValue"}]}
    assert not [k for k, v in RESOURCES.items() if v["Type"] == "AWS::Serverless::Function"
                and "VpcConfig" in v["Properties"]]  # none overrides the Globals


def test_every_parameter_says_what_it_is():
    for name, parameter in TEMPLATE["Parameters"].items():
        assert len(parameter.get("Description", "")) >= 30, name


def test_no_function_outside_the_catalog():
    mappings = [v["Properties"]["FunctionName"]["Ref"].removesuffix("Function") for v in RESOURCES.values()
                if v["Type"] == "AWS::Lambda::EventSourceMapping"]
    assert sorted(mappings) == sorted(e.function for e in EVENTS for _ in e.queues)  # two each
    url_functions = {k for k, v in RESOURCES.items()
                     if v["Type"] == "AWS::Serverless::Function" and "FunctionUrlConfig" in v["Properties"]}
    assert url_functions == {"EventApiFunction", "WebhookReceiverFunction"}


def test_the_layer_is_built_from_shared():
    layer = RESOURCES["SharedLayer"]
    assert layer["Properties"]["ContentUri"] == "shared/"
    assert layer["Metadata"]["BuildMethod"] == "python3.11"
    assert (ROOT / "shared" / "requirements.txt").exists()
    assert TEMPLATE["Globals"]["Function"]["Layers"] == [{"Ref": "SharedLayer"}]


def test_a_disagreement_would_be_caught(monkeypatch):
    """Change the catalog under the generator: the committed template must no longer match."""
    changed = EVENTS[0].__class__(**{**EVENTS[0].__dict__, "retries": EVENTS[0].retries + 1})
    monkeypatch.setattr(catalog, "EVENTS", (changed, *EVENTS[1:]))
    assert gen_template.main(["--check"]) == 1


def test_every_sqs_sample_validates_against_its_event_model():
    for event in EVENTS:
        sample = json.loads((ROOT / "events" / f"{event.folder}.json").read_text())
        body = json.loads(sample["Records"][0]["body"])
        resolved = catalog.route(body["name"])
        assert resolved is event
        resolved.model.model_validate(body["data"])


def test_the_readme_states_the_stacks_most_concurrent_invocations_at_the_defaults():
    """The README sizes Postgres by the invocations every mapping and URL function may run at once."""
    def value(v):
        return TEMPLATE["Parameters"][v["Ref"]]["Default"] if isinstance(v, dict) else v
    mappings = [r["Properties"]["ScalingConfig"]["MaximumConcurrency"] for r in RESOURCES.values()
                if r["Type"] == "AWS::Lambda::EventSourceMapping"]
    urls = [TEMPLATE["Parameters"][f"{f}ReservedConcurrency"]["Default"] for f in ("EventApi", "WebhookReceiver")]
    total = sum(value(m) for m in mappings) + sum(urls)
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert f"start at most {total} invocations" in readme

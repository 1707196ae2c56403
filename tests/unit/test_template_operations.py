"""template.yaml's operations side, read as CloudFormation reads it: alarms, their topic, the dashboard, and
the custom resource that migrates the database on each deploy."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest
import yaml

from contribsync import catalog
from devtools.template.monitoring import retry_span_s

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = yaml.safe_load((ROOT / "template.yaml").read_text())
RESOURCES = TEMPLATE["Resources"]
EVENTS = catalog.EVENTS
TOPIC = [{"Ref": "AlarmTopic"}]


def alarm(logical_id: str) -> dict:
    resource = RESOURCES[logical_id]
    assert resource["Type"] == "AWS::CloudWatch::Alarm"
    properties = resource["Properties"]
    assert properties["AlarmActions"] == TOPIC and properties["OKActions"] == TOPIC
    return properties


def queue_name_of(dimensions: list[dict]) -> str:
    [dimension] = dimensions
    assert dimension["Name"] == "QueueName"
    return dimension["Value"]["Fn::GetAtt"][0]


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: e.function)
def test_a_message_in_the_dlq_alarms(event):
    dlq = alarm(f"{event.function}DeadLetterAlarm")
    assert (dlq["Namespace"], dlq["MetricName"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    assert queue_name_of(dlq["Dimensions"]) == f"{event.function}DeadLetterQueue"
    assert (dlq["ComparisonOperator"], dlq["Threshold"]) == ("GreaterThanOrEqualToThreshold", 1)
    assert dlq["TreatMissingData"] == "ignore"  # SQS goes quiet on an idle queue: the alarm holds its state


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: e.function)
def test_an_old_message_in_either_queue_alarms_past_the_retry_span(event):
    age = alarm(f"{event.function}QueueAgeAlarm")
    assert age["Threshold"] == {"Ref": "QueueAgeAlarmMinutes"}
    metrics = {m["Id"]: m for m in age["Metrics"]}
    for id_, queue in (("normal", "Queue"), ("high", "HighQueue")):
        stat = metrics[id_]["MetricStat"]
        assert stat["Metric"]["MetricName"] == "ApproximateAgeOfOldestMessage" and stat["Stat"] == "Maximum"
        assert queue_name_of(stat["Metric"]["Dimensions"]) == f"{event.function}{queue}"
    assert metrics["age"]["Expression"] == "MAX([normal, high])"
    [returned] = [m for m in age["Metrics"] if m["ReturnData"]]
    floor = int(re.fullmatch(r"IF\(age > (\d+), age / 60, 0\)", returned["Expression"])[1])
    # the span of its own retries: every attempt's timeout, and the backoffs between them
    assert floor == retry_span_s(event) >= event.max_receive_count * event.timeout_s
    assert TEMPLATE["Parameters"]["QueueAgeAlarmMinutes"]["Default"] * 60 > floor  # the default is above it


def test_the_retry_span_of_an_event():
    event = catalog.by_function("CapturePrDetails")  # 3 retries, 300 s: 4 attempts, backoffs 10, 20, 40 s
    assert retry_span_s(event) == 4 * 300 + 10 + 20 + 40


@pytest.mark.parametrize("function", [e.function for e in EVENTS] + ["EventApi", "WebhookReceiver"])
def test_lambda_errors_and_throttles_alarm_for_every_function(function):
    for metric in ("Errors", "Throttles"):
        properties = alarm(f"{function}{metric}Alarm")
        assert (properties["Namespace"], properties["MetricName"], properties["Statistic"]) == (
            "AWS/Lambda", metric, "Sum")
        assert properties["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": f"{function}Function"}}]
        assert properties["Threshold"] == 1


def test_every_alarm_notifies_the_topic_and_e_mail_is_optional():
    alarms = [k for k, v in RESOURCES.items() if v["Type"] == "AWS::CloudWatch::Alarm"]
    assert len(alarms) == 4 * len(EVENTS) + 2 * 2
    for logical_id in alarms:
        alarm(logical_id)
    assert RESOURCES["AlarmTopic"]["Type"] == "AWS::SNS::Topic"
    subscription = RESOURCES["AlarmEmailSubscription"]
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"] == {"TopicArn": {"Ref": "AlarmTopic"}, "Protocol": "email",
                                          "Endpoint": {"Ref": "AlarmEmail"}}
    assert TEMPLATE["Conditions"]["HasAlarmEmail"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]}
    assert TEMPLATE["Parameters"]["AlarmEmail"]["Default"] == ""


@pytest.fixture(scope="module")
def dashboard() -> list[list]:
    """Every metric line of the one dashboard, with the stack name and region as a deploy fills them in."""
    [board] = [v for v in RESOURCES.values() if v["Type"] == "AWS::CloudWatch::Dashboard"]
    body = board["Properties"]["DashboardBody"]["Fn::Sub"]
    body = body.replace("${AWS::StackName}", "contribsync").replace("${AWS::Region}", "us-east-1")
    body = re.sub(r"\$\{(\w+)Function\}", r"contribsync-\1", body)
    assert "${" not in body
    widgets = json.loads(body)["widgets"]
    return [(w["properties"]["title"], line) for w in widgets if w["type"] == "metric"
            for line in w["properties"]["metrics"]]


def test_the_dashboard_shows_every_queue_dlq_and_function(dashboard):
    sqs = {(line[1], line[3]) for _, line in dashboard if line[0] == "AWS/SQS"}
    for event in EVENTS:
        for queue in event.queues:
            assert ("ApproximateNumberOfMessagesVisible", f"contribsync-{queue}") in sqs
            assert ("ApproximateAgeOfOldestMessage", f"contribsync-{queue}") in sqs
        assert ("ApproximateNumberOfMessagesVisible", f"contribsync-{event.dlq}") in sqs
    errors = {line[3] for _, line in dashboard if line[:2] == ["AWS/Lambda", "Errors"]}
    assert errors == {f"contribsync-{e.function}" for e in EVENTS} | {"contribsync-EventApi",
                                                                      "contribsync-WebhookReceiver"}


@pytest.mark.parametrize(("metric", "stat"), [
    ("RunCompleted", "Sum"), ("RunFailed", "Sum"), ("RunRetried", "Sum"), ("Deferred", "Sum"),
    ("DeadLettered", "Sum"), ("GitHubPointsUsed", "Sum"), ("GitHubBudgetRemaining", "Minimum")])
def test_the_dashboard_reads_the_runs_emf_metrics_by_their_exact_names(dashboard, metric, stat):
    """Powertools publishes them in namespace contribsync with dimensions service and function: a metric
    line must name exactly those, or CloudWatch shows nothing."""
    lines = [(title, line) for title, line in dashboard if line[:2] == ["contribsync", metric]]
    functions = set()
    for _title, line in lines:
        dimensions = dict(zip(line[2:6:2], line[3:6:2], strict=True))
        assert dimensions.keys() == {"service", "function"} and dimensions["service"] == "contribsync"
        functions.add(dimensions["function"])
        options = line[6] if len(line) > 6 else {}
        assert options.get("stat", stat) == stat
    assert functions == {e.function for e in EVENTS}
    widget_stat = {title for title, _ in lines}
    assert len(widget_stat) == 1  # one widget per metric


def test_budget_lines_use_the_minimum():
    [board] = [v for v in RESOURCES.values() if v["Type"] == "AWS::CloudWatch::Dashboard"]
    widgets = json.loads(re.sub(r"\$\{[^}]+\}", "x", board["Properties"]["DashboardBody"]["Fn::Sub"]))["widgets"]
    [budget] = [w for w in widgets if any(line[1] == "GitHubBudgetRemaining" for line in
                                          w["properties"].get("metrics", []))]
    assert budget["properties"]["stat"] == "Minimum"


def migrations_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted((ROOT / "shared" / "contribsync" / "db" / "migrations").glob("*.sql")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def test_each_deploy_that_changes_the_migrations_or_the_layer_runs_them():
    resource = RESOURCES["DatabaseMigrations"]
    assert resource["Type"] == "Custom::DatabaseMigrations"
    properties = resource["Properties"]
    assert properties["ServiceToken"] == {"Fn::GetAtt": ["MigrateDatabaseFunction", "Arn"]}
    assert properties["MigrationsHash"] == migrations_digest()  # a new migration changes it: an Update
    assert properties["Layer"] == {"Ref": "SharedLayer"}  # so does a new layer version
    function = RESOURCES["MigrateDatabaseFunction"]["Properties"]
    assert function["CodeUri"] == "functions/migrate_database/"
    assert properties["ServiceTimeout"] > function["Timeout"]  # the function answers before CloudFormation gives up


def test_nothing_consumes_or_runs_before_the_schema_is_there():
    waiting = {k for k, v in RESOURCES.items() if v.get("DependsOn") == "DatabaseMigrations"}
    mappings = {k for k, v in RESOURCES.items() if v["Type"] == "AWS::Lambda::EventSourceMapping"}
    functions = {k for k, v in RESOURCES.items() if v["Type"] == "AWS::Serverless::Function"}
    assert len(mappings) == 2 * len(EVENTS)
    assert waiting == mappings | functions - {"MigrateDatabaseFunction"}

"""Alarms, their SNS topic and the dashboard, from the catalog.

Per queue-fed function: its DLQ holds a message; its oldest queued message (normal or high queue) is older
than ``QueueAgeAlarmMinutes``; Lambda Errors; Lambda Throttles. The URL functions get Errors and
Throttles. All of them notify ``AlarmTopic`` on ALARM and OK (an e-mail subscription when ``AlarmEmail``
is set).

The age threshold is a parameter with a floor from the catalog. A message being retried stays in its queue
(the runtime backs it off with its visibility timeout), so its age legitimately reaches the function's
retry span: every attempt's timeout (retries + 1) plus the backoffs between them (Settings' defaults). An
alarm below that would fire on ordinary retries, so each age alarm counts only ages above its function's
span (metric math ``IF``). Re-queued messages (deferrals, throttles) are new messages, so their age
restarts. SQS stops publishing a queue's metrics after 6 quiet hours, so the DLQ and age alarms keep
their state when data is missing, where a Lambda alarm counts no data as no errors.

The dashboard shows queue depth and age, DLQs, Lambda errors, runs and the GitHub budget. Runs are the
Powertools EMF metrics the runtime publishes: namespace ``contribsync``, dimensions ``service`` =
``contribsync`` and ``function`` = the catalog's function name.
"""

from __future__ import annotations

import json
from typing import Any

from contribsync import catalog
from contribsync.settings import Settings
from devtools.template.intrinsics import dlq_id, queue_ids, ref, sub

PERIOD_S = 300
NAMESPACE = "contribsync"
SERVICE = "contribsync"
RUN_METRICS = ("RunCompleted", "RunFailed", "RunRetried", "Deferred", "DeadLettered")
URL_FUNCTIONS = ("EventApi", "WebhookReceiver")
TOPIC = "AlarmTopic"


def retry_span_s(event: catalog.Event) -> int:
    """How old a message may grow while its retries run: each attempt's timeout and each backoff's ceiling."""
    settings = Settings(database_url="")
    backoffs = sum(min(settings.retry_max_s, settings.retry_base_s * 2 ** (attempt - 1))
                   for attempt in range(1, event.retries + 1))
    return int(event.max_receive_count * event.timeout_s + backoffs)


def _alarm(name: str, description: str, *, threshold: int | dict[str, str], missing: str,
           **metric: object) -> dict[str, Any]:
    return {"Type": "AWS::CloudWatch::Alarm", "Properties": {
        "AlarmName": sub(f"${{AWS::StackName}}-{name}"), "AlarmDescription": description,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold", "Threshold": threshold,
        "EvaluationPeriods": 1, "TreatMissingData": missing,
        "AlarmActions": [ref(TOPIC)], "OKActions": [ref(TOPIC)], **metric}}


def _queue_metric(metric: str, queue_id: str) -> dict[str, Any]:
    return {"Namespace": "AWS/SQS", "MetricName": metric,
            "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_id, "QueueName"]}}]}


def lambda_alarms(function: str) -> dict[str, Any]:
    """Errors (an unhandled exception or a timeout: failed records are reported, not raised) and Throttles."""
    return {f"{function}{metric}Alarm": _alarm(
        f"{function}-{metric.lower()}", f"{function}: Lambda {metric} in {PERIOD_S // 60} minutes",
        threshold=1, missing="notBreaching", Namespace="AWS/Lambda", MetricName=metric,
        Dimensions=[{"Name": "FunctionName", "Value": ref(f"{function}Function")}],
        Statistic="Sum", Period=PERIOD_S) for metric in ("Errors", "Throttles")}


def queue_alarms(event: catalog.Event) -> dict[str, Any]:
    fn = event.function
    normal, high = queue_ids(fn)
    span = retry_span_s(event)
    return {
        f"{fn}DeadLetterAlarm": _alarm(
            f"{fn}-dlq", f"{fn}: its DLQ holds a message (contribsync runs --function {fn} --failed)",
            threshold=1, missing="ignore", Statistic="Maximum", Period=PERIOD_S,
            **_queue_metric("ApproximateNumberOfMessagesVisible", dlq_id(fn))),
        f"{fn}QueueAgeAlarm": _alarm(
            f"{fn}-queue-age", f"{fn}: a queued message waits longer than QueueAgeAlarmMinutes "
            f"(ages under the {span} s its retries may take are not counted)",
            threshold=ref("QueueAgeAlarmMinutes"), missing="ignore", Metrics=[
                *({"Id": id_, "ReturnData": False, "MetricStat": {
                    "Metric": _queue_metric("ApproximateAgeOfOldestMessage", queue), "Period": PERIOD_S,
                    "Stat": "Maximum"}} for id_, queue in (("normal", normal), ("high", high))),
                {"Id": "age", "Expression": "MAX([normal, high])", "ReturnData": False},
                {"Id": "minutes", "Expression": f"IF(age > {span}, age / 60, 0)", "ReturnData": True,
                 "Label": "oldest message, minutes (past the retry span)"}]),
        **lambda_alarms(fn),
    }


def alarm_topic() -> dict[str, Any]:
    return {
        TOPIC: {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": sub("${AWS::StackName} alarms")}},
        "AlarmEmailSubscription": {"Type": "AWS::SNS::Subscription", "Condition": "HasAlarmEmail", "Properties": {
            "TopicArn": ref(TOPIC), "Protocol": "email", "Endpoint": ref("AlarmEmail")}},
    }


def _graph(title: str, metrics: list[list[Any]], stat: str, x: int, y: int) -> dict[str, Any]:
    return {"type": "metric", "x": x, "y": y, "width": 12, "height": 6, "properties": {
        "title": title, "region": "${AWS::Region}", "stat": stat, "period": PERIOD_S, "view": "timeSeries",
        "metrics": metrics}}


def _sqs(metric: str, suffixes: list[str]) -> list[list[Any]]:
    return [["AWS/SQS", metric, "QueueName", f"${{AWS::StackName}}-{s}"] for s in suffixes]


def _runs(metric: str, stat: str | None = None) -> list[list[Any]]:
    options = [{"stat": stat}] if stat else []
    return [[NAMESPACE, metric, "service", SERVICE, "function", e.function, *options] for e in catalog.EVENTS]


def dashboard_widgets() -> list[dict[str, Any]]:
    queues = [q for e in catalog.EVENTS for q in e.queues]
    lambdas = [e.function for e in catalog.EVENTS] + list(URL_FUNCTIONS)
    graphs = [
        ("Queue depth (messages visible)", _sqs("ApproximateNumberOfMessagesVisible", queues), "Maximum"),
        ("Oldest queued message (seconds)", _sqs("ApproximateAgeOfOldestMessage", queues), "Maximum"),
        ("Dead-letter queues (messages)", _sqs("ApproximateNumberOfMessagesVisible",
                                               [e.dlq for e in catalog.EVENTS]), "Maximum"),
        # Fn::Sub puts a function's name (known once it exists) where ``${<Function>Function}`` stands
        ("Lambda errors", [["AWS/Lambda", "Errors", "FunctionName", f"${{{f}Function}}"] for f in lambdas], "Sum"),
        *((f"Runs: {metric}", _runs(metric), "Sum") for metric in RUN_METRICS),
        ("GitHub points used", _runs("GitHubPointsUsed"), "Sum"),
        ("GitHub budget remaining (lowest)", _runs("GitHubBudgetRemaining", "Minimum"), "Minimum"),
    ]
    header = {"type": "text", "x": 0, "y": 0, "width": 24, "height": 2, "properties": {"markdown": (
        "## ${AWS::StackName}\nQueues, dead letters and runs per catalog function; GitHub budget from the "
        "runs' metrics. Alarms notify the stack's AlarmTopic.")}}
    return [header, *(_graph(title, metrics, stat, 12 * (i % 2), 2 + 6 * (i // 2))
                      for i, (title, metrics, stat) in enumerate(graphs))]


def dashboard() -> dict[str, Any]:
    """One dashboard; its body is JSON in an ``Fn::Sub`` (stack name, region and function names filled in)."""
    body = json.dumps({"widgets": dashboard_widgets()}, separators=(",", ":"))
    return {"Type": "AWS::CloudWatch::Dashboard", "Properties": {
        "DashboardName": sub("${AWS::StackName}"), "DashboardBody": sub(body)}}


def monitoring_resources() -> dict[str, Any]:
    resources: dict[str, Any] = alarm_topic()
    for event in catalog.EVENTS:
        resources.update(queue_alarms(event))
    for function in URL_FUNCTIONS:
        resources.update(lambda_alarms(function))
    resources["Dashboard"] = dashboard()
    return resources


__all__ = ["RUN_METRICS", "dashboard", "monitoring_resources", "retry_span_s"]

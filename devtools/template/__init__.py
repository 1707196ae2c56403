"""template.yaml as data, from the event catalog: ``template()``, written by ``devtools.gen_template``.

One module per part: ``parameters`` (Parameters and Conditions), ``functions`` (functions, queues,
mappings, schedules, policies), ``migrations`` (the deploy that migrates itself), ``monitoring`` (alarms,
their topic, the dashboard); ``intrinsics`` writes CloudFormation's functions in long form.
"""

from __future__ import annotations

from typing import Any

from contribsync import catalog
from devtools.template.functions import (
    event_resources,
    parameters_read,
    scheduler_role,
    shared_layer,
    url_functions,
)
from devtools.template.intrinsics import ref, when
from devtools.template.migrations import migration_resources
from devtools.template.monitoring import TOPIC, monitoring_resources
from devtools.template.parameters import CONDITIONS, PARAMETERS


def template() -> dict[str, Any]:
    resources: dict[str, Any] = {"SharedLayer": shared_layer(), **url_functions()}
    resources.update(migration_resources(parameters_read(["DatabaseUrlParameter"])))
    for event in catalog.EVENTS:
        resources.update(event_resources(event))
    resources["SchedulerRole"] = scheduler_role([f"{e.function}Queue" for e in catalog.EVENTS if e.schedule])
    resources.update(monitoring_resources())
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Transform": "AWS::Serverless-2016-10-31",
        "Description": "contribsync: keeps a Postgres copy of GitHub activity fresh (SQS-fed Lambdas, crons, webhooks)",
        "Parameters": PARAMETERS,
        "Conditions": CONDITIONS,
        "Globals": {"Function": {
            "Runtime": "python3.11", "Architectures": ["arm64"], "MemorySize": 512, "Tracing": "Active",
            "Layers": [ref("SharedLayer")],
            # Every function, the migration's too, in the VPC when SubnetIds is set (SAM then attaches
            # AWSLambdaVPCAccessExecutionRole for the network interfaces).
            "VpcConfig": when("UseVpc", {"SubnetIds": ref("SubnetIds"), "SecurityGroupIds": ref("SecurityGroupIds")}),
            "Environment": {"Variables": {
                "CONTRIBSYNC_QUEUE_PREFIX": {"Fn::Sub": "${AWS::StackName}"},
                "DATABASE_URL_PARAMETER": ref("DatabaseUrlParameter"),
                "POWERTOOLS_SERVICE_NAME": "contribsync", "POWERTOOLS_METRICS_NAMESPACE": "contribsync",
                "POWERTOOLS_LOG_LEVEL": ref("LogLevel")}}}},
        "Resources": resources,
        "Outputs": {
            "EventApiUrl": {"Description": "POST {url}e/{event_key}",
                            "Value": {"Fn::GetAtt": ["EventApiFunctionUrl", "FunctionUrl"]}},
            "WebhookUrl": {"Description": "GitHub webhook payload URL",
                           "Value": {"Fn::GetAtt": ["WebhookReceiverFunctionUrl", "FunctionUrl"]}},
            "SharedLayerArn": {"Value": ref("SharedLayer")},
            "AlarmTopic": {"Description": "SNS topic every alarm notifies (subscribe to it for alerts)",
                           "Value": ref(TOPIC)},
            "DashboardUrl": {"Description": "The CloudWatch dashboard", "Value": {"Fn::Sub": (
                "https://${AWS::Region}.console.aws.amazon.com/cloudwatch/home?region=${AWS::Region}"
                "#dashboards:name=${AWS::StackName}")}},
        },
    }


__all__ = ["template"]

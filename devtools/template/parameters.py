"""The template's Parameters and the Conditions they drive: secrets' locations, limits, network, alarms.

Every parameter has a Description that says what it is and what its default means, because
``sam deploy --guided`` shows them and the deploy runbook is generated from them.
"""

from __future__ import annotations

from typing import Any

from contribsync.payloads import MIN_METRICS_RETENTION_DAYS
from devtools.template.intrinsics import ref

NO_RESERVATION = -1  # the reserved-concurrency value that reserves nothing (0 would stop the function)
URL_CONCURRENCY = {"EventApi": 10, "WebhookReceiver": 20}  # each URL function's default reservation
QUEUE_AGE_ALARM_MINUTES = 60
QUEUE_MAX_CONCURRENCY = 5  # a queue-fed function's ceiling when its catalog entry sets no global limit

_RESERVATION = (
    "Concurrent executions reserved for the {function} function: its floor (other functions cannot take "
    "them) and its ceiling (a flood of requests gets 429s, not a flood of database connections). "
    f"{NO_RESERVATION} reserves none, for accounts whose concurrency quota is too low to reserve any (new "
    "accounts may have 10, and Lambda keeps 10 unreserved); 0 turns the endpoint off.")


def _reservation(function: str) -> dict[str, Any]:
    return {"Type": "Number", "Default": URL_CONCURRENCY[function], "MinValue": NO_RESERVATION,
            "Description": _RESERVATION.format(function=function)}


PARAMETERS: dict[str, Any] = {
    "DatabaseUrlParameter": {"Type": "String", "Default": "/contribsync/database-url",
                             "Description": "SSM SecureString parameter holding the Postgres DSN"},
    "EventKeysSecret": {"Type": "String", "Default": "contribsync/event-keys",
                        "Description": "Secrets Manager secret: accepted event API keys, comma-separated"},
    "WebhookSecretSecret": {"Type": "String", "Default": "contribsync/github-webhook-secret",
                            "Description": "Secrets Manager secret: GitHub webhook secrets, comma-separated"},
    "GitHubTokenParameter": {"Type": "String", "Default": "/contribsync/github-token",
                             "Description": "SSM SecureString parameter holding the GitHub token"},
    "WebhookHooks": {"Type": "String", "Default": "",
                     "Description": "Webhooks whose delivery logs the hourly reconciler reads: comma-separated "
                                    "`app` and/or `owner/repo:hook_id`; empty: every hook of the tracked "
                                    "repositories"},
    "OpenAIKeyParameter": {"Type": "String", "Default": "/contribsync/openai-api-key",
                           "Description": "SSM SecureString parameter holding the OpenAI API key "
                                          "(summaries, embeddings)"},
    "MetricsRetentionDays": {"Type": "Number", "Default": 90, "MinValue": MIN_METRICS_RETENTION_DAYS,
                             "Description": "Days of daily workspace metrics the weekly cleanup keeps"},
    "LogLevel": {"Type": "String", "Default": "INFO", "AllowedValues": ["DEBUG", "INFO", "WARNING", "ERROR"],
                 "Description": "Powertools log level of every function (DEBUG logs more, and costs more)"},
    "EventApiReservedConcurrency": _reservation("EventApi"),
    "WebhookReceiverReservedConcurrency": _reservation("WebhookReceiver"),
    "QueueMaxConcurrency": {"Type": "Number", "Default": QUEUE_MAX_CONCURRENCY, "MinValue": 2, "MaxValue": 1000,
                            "Description": "Most concurrent invocations a queue-fed function's SQS mapping starts "
                                           "(MaximumConcurrency) when its catalog entry sets no limit of its own. "
                                           "Without one, a backlog scales a function to the account's concurrency, "
                                           "and every instance opens Postgres connections; 2 is Lambda's minimum"},
    "SubnetIds": {"Type": "CommaDelimitedList", "Default": "",
                  "Description": "Private subnet ids to run every function in (comma-separated), so Postgres "
                                 "need not be open to the internet; empty: no VPC. With subnets, set "
                                 "SecurityGroupIds too, and give the subnets a NAT gateway (GitHub, OpenAI and "
                                 "CloudFormation's S3 answer URL are on the internet; SQS, SSM and Secrets "
                                 "Manager through it or VPC endpoints; README: Network)"},
    "SecurityGroupIds": {"Type": "CommaDelimitedList", "Default": "",
                         "Description": "Security group ids of the functions' network interfaces (comma-"
                                        "separated), allowed out to Postgres and to 443; used only with "
                                        "SubnetIds"},
    "GitHubAppId": {"Type": "String", "Default": "",
                    "Description": "GitHub App id: the functions then use the App's installation tokens (and read "
                                   "the App's own webhook delivery log, WebhookHooks `app`); empty: the token of "
                                   "GitHubTokenParameter"},
    "GitHubAppPrivateKeySecret": {"Type": "String", "Default": "contribsync/github-app-private-key",
                                  "Description": "Secrets Manager secret holding the GitHub App's private key "
                                                 "(PEM); read only when GitHubAppId is set"},
    "GitHubAppInstallationIds": {"Type": "String", "Default": "",
                                 "Description": "The App's installations to sync, comma-separated ids; empty: "
                                                "every installation of the App; used only with GitHubAppId"},
    "AlarmEmail": {"Type": "String", "Default": "",
                   "Description": "E-mail address subscribed to the alarm topic (AWS sends a confirmation "
                                  "mail first); empty: no subscription, subscribe to the AlarmTopic output "
                                  "yourself"},
    "QueueAgeAlarmMinutes": {"Type": "Number", "Default": QUEUE_AGE_ALARM_MINUTES, "MinValue": 5,
                             "Description": "Alarm when a function's oldest queued message is older than "
                                            "this many minutes (never below the time its own retries may "
                                            "take, which each alarm adds from the catalog)"},
}


def _set(parameter: str, empty: object) -> dict[str, Any]:
    return {"Fn::Not": [{"Fn::Equals": [ref(parameter), empty]}]}


CONDITIONS: dict[str, Any] = {
    "ReserveEventApiConcurrency": _set("EventApiReservedConcurrency", str(NO_RESERVATION)),
    "ReserveWebhookReceiverConcurrency": _set("WebhookReceiverReservedConcurrency", str(NO_RESERVATION)),
    "UseVpc": {"Fn::Not": [{"Fn::Equals": [{"Fn::Join": [",", ref("SubnetIds")]}, ""]}]},
    "HasAlarmEmail": _set("AlarmEmail", ""),
    "UseGitHubApp": _set("GitHubAppId", ""),
    "HasGitHubAppInstallations": {"Fn::And": [{"Condition": "UseGitHubApp"},
                                              _set("GitHubAppInstallationIds", "")]},
}


def reserved_concurrency(function: str) -> dict[str, Any]:
    """A URL function's ``ReservedConcurrentExecutions``: its parameter, or none when it is -1."""
    return {"Fn::If": [f"Reserve{function}Concurrency", ref(f"{function}ReservedConcurrency"),
                       ref("AWS::NoValue")]}


__all__ = ["CONDITIONS", "NO_RESERVATION", "PARAMETERS", "QUEUE_MAX_CONCURRENCY", "URL_CONCURRENCY",
           "reserved_concurrency"]

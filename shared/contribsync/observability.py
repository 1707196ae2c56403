"""Powertools Logger, Metrics and Tracer shared by every handler (service name from the environment), the
Lambda entry point that wraps a handler's work in them, and the run metrics the runtime publishes.

Metrics are CloudWatch EMF lines in namespace ``contribsync``, with the dimensions ``service``
(``contribsync``) and ``function`` (the catalog's function name, or ``EventApi``/``WebhookReceiver``); the
template's alarms and dashboard read them by these names:

- ``RunCompleted``, ``RunRetried``, ``Deferred`` (re-queued for later: a deferral, the throttle, a busy
  concurrency key), ``RunFailed`` (failed for good: not retriable, retries spent, or a message no run can
  take; each is dead-lettered) and ``DeadLettered`` (copies sent to the DLQ);
- ``GitHubPointsUsed``: what a run spent against GitHub's budgets, GraphQL points (``rateLimit.cost``)
  plus the REST requests GitHub charged (neither a 304 nor a server error), for a run that called GitHub;
- ``GitHubBudgetRemaining``: the lowest budget GitHub reported left during that run (read its Minimum).

Every log line is masked of the configured secrets and credential shapes (``contribsync.log_masking``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

from contribsync.log_masking import MaskingFormatter, mask_in_logs

if TYPE_CHECKING:
    from collections.abc import Callable

    from aws_lambda_powertools.utilities.typing import LambdaContext

    from contribsync.meters import Stats

    Handle = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]

logger = Logger(service="contribsync", logger_formatter=MaskingFormatter())
metrics = Metrics(namespace="contribsync", service="contribsync")
tracer = Tracer(service="contribsync")

FUNCTION_DIMENSION = "function"


def lambda_entry(handle: Handle, *, function: str) -> Handle:
    """A Lambda's ``lambda_handler``: ``handle`` (a runtime's, the webhook receiver's or the event API's)
    with the invocation's context in every log line, its metrics flushed under ``function``'s dimension,
    and its trace segment."""

    @logger.inject_lambda_context(clear_state=True)
    @metrics.log_metrics
    @tracer.capture_lambda_handler
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        _start_metrics(function)
        return handle(event, context)

    return lambda_handler


def _start_metrics(function: str) -> None:
    """Begin the invocation's metrics clean, with its function as a dimension. Powertools' flush clears its
    dimensions only when it printed metrics, so an invocation that published none would leave them to the
    next one; clearing first makes each invocation's set its own."""
    if is_metrics_disabled():
        # Nothing is published (the local stack, whose handlers share Powertools' one metric set from many
        # threads: one thread's dimension would overwrite another's). Its poller discards what piles up.
        return
    metrics.clear_metrics()
    metrics.add_dimension(name=FUNCTION_DIMENSION, value=function)


def count(name: str, n: int = 1) -> None:
    """Add ``n`` to the count metric ``name`` of this invocation."""
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=n)


def github_usage(usage: Stats) -> None:
    """A run's ``GitHubPointsUsed`` and ``GitHubBudgetRemaining``, when it sent GitHub anything."""
    if usage.requests == 0:
        return
    metrics.add_metric(name="GitHubPointsUsed", unit=MetricUnit.Count, value=usage.points)
    if usage.lowest_remaining is not None:
        metrics.add_metric(name="GitHubBudgetRemaining", unit=MetricUnit.Count, value=usage.lowest_remaining)


__all__ = ["FUNCTION_DIMENSION", "count", "github_usage", "lambda_entry", "logger", "mask_in_logs", "metrics", "tracer"]

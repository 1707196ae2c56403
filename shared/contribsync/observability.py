"""Powertools Logger, Metrics and Tracer shared by every handler (service name from the environment), and
the Lambda entry point that wraps a handler's work in them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics, Tracer

if TYPE_CHECKING:
    from collections.abc import Callable

    from aws_lambda_powertools.utilities.typing import LambdaContext

    Handle = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]

logger = Logger(service="contribsync")
metrics = Metrics(namespace="contribsync", service="contribsync")
tracer = Tracer(service="contribsync")


def lambda_entry(handle: Handle) -> Handle:
    """A Lambda's ``lambda_handler``: ``handle`` (a runtime's, the webhook receiver's or the event API's)
    with the invocation's context in every log line, its metrics flushed and its trace segment."""

    @logger.inject_lambda_context(clear_state=True)
    @metrics.log_metrics
    @tracer.capture_lambda_handler
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return handle(event, context)

    return lambda_handler


__all__ = ["lambda_entry", "logger", "metrics", "tracer"]

"""Powertools Logger, Metrics and Tracer shared by every handler (service name from the environment)."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger(service="contribsync")
metrics = Metrics(namespace="contribsync", service="contribsync")
tracer = Tracer(service="contribsync")

__all__ = ["logger", "metrics", "tracer"]

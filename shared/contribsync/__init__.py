"""contribsync: the Lambda layer (runtime, catalog, DB, GitHub and AI clients, services).

Handlers import from here, never from private modules.
"""

from contribsync.catalog import EVENTS, Event, Limit, Throttle
from contribsync.clients import Clients
from contribsync.deploy_migrations import DatabaseMigrations
from contribsync.envelope import EventEnvelope
from contribsync.errors import (
    Cancelled,
    ContribsyncError,
    Deferred,
    GitHubError,
    GraphQLError,
    InvalidEvent,
    NonRetriable,
    NotFound,
    RateLimited,
    SecondaryRateLimited,
    StoreError,
    UnknownEvent,
)
from contribsync.event_api import EventApi
from contribsync.observability import lambda_entry, logger, metrics, tracer
from contribsync.runtime import RunContext, Runtime
from contribsync.settings import Settings
from contribsync.webhook_receiver import WebhookReceiver

__all__ = [
    "EVENTS",
    "Cancelled",
    "Clients",
    "ContribsyncError",
    "DatabaseMigrations",
    "Deferred",
    "Event",
    "EventApi",
    "EventEnvelope",
    "GitHubError",
    "GraphQLError",
    "InvalidEvent",
    "Limit",
    "NonRetriable",
    "NotFound",
    "RateLimited",
    "RunContext",
    "Runtime",
    "SecondaryRateLimited",
    "Settings",
    "StoreError",
    "Throttle",
    "UnknownEvent",
    "WebhookReceiver",
    "lambda_entry",
    "logger",
    "metrics",
    "tracer",
]

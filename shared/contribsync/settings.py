"""Settings: the only reader of the environment.

Locally every value comes from environment variables. On AWS, a secret's variable may instead name
where to read it (``<NAME>_PARAMETER`` for SSM Parameter Store, ``<NAME>_SECRET`` for Secrets
Manager); it is then fetched through Powertools Parameters, which caches it across invocations.

Event keys have no default: the event API refuses to serve without one of at least
``MIN_EVENT_KEY_LENGTH`` characters (``EventApi``). The local stack's public key, ``LOCAL_EVENT_KEY``,
is accepted only where ``CONTRIBSYNC_LOCAL_STACK=1`` says the process is the local stack, which Lambda
never is (it always sets ``AWS_LAMBDA_FUNCTION_NAME``), and only from a loopback address.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from contribsync.errors import ConfigurationError

if TYPE_CHECKING:
    from collections.abc import Mapping

_MIN_KEY_LINE = 16
LOCAL_EVENT_KEY = "contributor-info"  # the local stack's event key, as the design documents' examples use it
LOCAL_STACK_ENV = "CONTRIBSYNC_LOCAL_STACK"  # "1" in the local stack's environment (LocalStack, invoke)
LAMBDA_ENV = "AWS_LAMBDA_FUNCTION_NAME"  # set by Lambda in every function (a reserved variable)
MIN_EVENT_KEY_LENGTH = 20  # a configured event key shorter than this is never accepted


def _secret(env: Mapping[str, str], name: str) -> str | None:
    """``name`` from the environment, or from SSM / Secrets Manager when the env names a location."""
    if value := env.get(name):
        return value
    if parameter := env.get(f"{name}_PARAMETER"):
        from aws_lambda_powertools.utilities import parameters

        return str(parameters.get_parameter(parameter, decrypt=True, max_age=300))
    if secret := env.get(f"{name}_SECRET"):
        from aws_lambda_powertools.utilities import parameters

        return str(parameters.get_secret(secret, max_age=300))
    return None


def _optional_secret(env: Mapping[str, str], name: str) -> str | None:
    """An optional secret: unreadable (e.g. its SSM parameter was never created) is the same as unset,
    so the functions that need it degrade (no AI summaries) instead of every setting failing."""
    try:
        return _secret(env, name)
    except Exception as exc:  # Powertools raises GetParameterError; boto3 its own client errors
        from contribsync.observability import logger

        logger.warning("optional secret unreadable; treated as unset",
                       extra={"secret": name, "error": type(exc).__name__})
        return None


def _csv(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    """Everything configurable, resolved once per container. Its repr leaves out every secret: the database
    URL (its password), the event keys, the GitHub tokens and App key, the webhook secrets, the OpenAI key."""

    database_url: str = field(repr=False)
    queue_prefix: str = "contribsync"
    region: str = "us-east-1"
    event_keys: tuple[str, ...] = field(default=(), repr=False)
    local_stack: bool = False  # the local stack: LOCAL_EVENT_KEY is accepted from a loopback address
    retry_base_s: float = 10.0
    retry_max_s: float = 3600.0
    github_api_url: str = "https://api.github.com"
    github_tokens: tuple[str, ...] = field(default=(), repr=False)
    github_app_id: str | None = None
    github_app_private_key: str | None = field(default=None, repr=False)
    github_app_installation_ids: tuple[int, ...] = ()
    github_rate_limit_reserve: float = 0.10
    github_timeout_s: float = 30.0  # per GitHub request (connect, read, write, pool)
    webhook_secrets: tuple[str, ...] = field(default=(), repr=False)
    webhook_hooks: tuple[str, ...] = ()  # what reconcile/webhook-deliveries checks (services.reconcile)
    openai_api_key: str | None = field(default=None, repr=False)
    openai_base_url: str | None = None
    openai_requests_per_minute: float | None = None  # the account's RPM for summaries (contribsync.ai.summarizer)
    metrics_retention_days: int = 90  # daily workspace metrics kept by cleanup/workspace-metrics
    embedding_price_per_mtok: float = 0.02  # USD per 1M tokens of text-embedding-3-small, for run costs
    embedding_requests_per_minute: float = 3000.0  # the account's limits for the embedding model
    embedding_tokens_per_minute: float = 1_000_000.0

    def secrets(self) -> tuple[str, ...]:
        """The values no stored text may show (``Clients.mask`` masks them): the GitHub tokens and App key,
        the webhook secrets, the OpenAI key, the event keys but the local stack's public one, the database password (as
        the URL spells it, percent-encoded, and decoded)."""
        try:
            password = urlsplit(self.database_url).password
        except ValueError:  # not a URL (a libpq key=value string: its password= is masked by its shape)
            password = None
        values = (*self.github_tokens, self.github_app_private_key, *self.webhook_secrets, self.openai_api_key,
                  *(k for k in self.event_keys if k != LOCAL_EVENT_KEY), password, password and unquote(password))
        # a key's base64 lines too: a log or error quoting part of the PEM shows no line of it
        key_lines = (line.strip() for line in (self.github_app_private_key or "").splitlines())
        values = (*values, *(line for line in key_lines if len(line) >= _MIN_KEY_LINE and "-----" not in line))
        return tuple(dict.fromkeys(v for v in values if v))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        database_url = _secret(env, "DATABASE_URL")
        if not database_url:
            raise RuntimeError(
                "DATABASE_URL is not set: set it, or run through `contribsync` which starts the embedded Postgres"
            )
        local_stack = env.get(LOCAL_STACK_ENV) == "1"
        if local_stack and env.get(LAMBDA_ENV):
            raise ConfigurationError(
                f"{LOCAL_STACK_ENV} is set in a Lambda function: it is the local stack's alone (it lets the "
                f"public key {LOCAL_EVENT_KEY!r} in); remove it and set CONTRIBSYNC_EVENT_KEYS")
        return cls(
            database_url=database_url,
            queue_prefix=env.get("CONTRIBSYNC_QUEUE_PREFIX", "contribsync"),
            region=env.get("AWS_REGION", env.get("AWS_DEFAULT_REGION", "us-east-1")),
            event_keys=_csv(_secret(env, "CONTRIBSYNC_EVENT_KEYS")),
            local_stack=local_stack,
            retry_base_s=float(env.get("CONTRIBSYNC_RETRY_BASE_SECONDS", "10")),
            retry_max_s=float(env.get("CONTRIBSYNC_RETRY_MAX_SECONDS", "3600")),
            github_api_url=env.get("GITHUB_API_URL", "https://api.github.com").rstrip("/"),
            github_tokens=_csv(_secret(env, "GITHUB_TOKEN")),
            github_app_id=env.get("GITHUB_APP_ID"),
            github_app_private_key=_secret(env, "GITHUB_APP_PRIVATE_KEY"),
            github_app_installation_ids=tuple(int(i) for i in _csv(env.get("GITHUB_APP_INSTALLATION_ID"))),
            github_rate_limit_reserve=float(env.get("GITHUB_RATE_LIMIT_RESERVE", "0.10")),
            github_timeout_s=float(env.get("GITHUB_TIMEOUT_SECONDS", "30")),
            webhook_secrets=_csv(_secret(env, "GITHUB_WEBHOOK_SECRET")),
            webhook_hooks=_csv(env.get("CONTRIBSYNC_WEBHOOK_HOOKS")),
            openai_api_key=_optional_secret(env, "OPENAI_API_KEY"),
            openai_base_url=env.get("OPENAI_BASE_URL"),
            openai_requests_per_minute=float(rpm) if (rpm := env.get("OPENAI_REQUESTS_PER_MINUTE")) else None,
            metrics_retention_days=int(env.get("CONTRIBSYNC_METRICS_RETENTION_DAYS", "90")),
            embedding_price_per_mtok=float(env.get("OPENAI_EMBEDDING_PRICE_PER_MTOK", "0.02")),
            embedding_requests_per_minute=float(env.get("OPENAI_EMBEDDING_RPM", "3000")),
            embedding_tokens_per_minute=float(env.get("OPENAI_EMBEDDING_TPM", "1000000")),
        )


__all__ = ["LOCAL_EVENT_KEY", "LOCAL_STACK_ENV", "MIN_EVENT_KEY_LENGTH", "Settings"]

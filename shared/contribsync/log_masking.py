"""Masking of every log line: Powertools' JSON line, each value masked before it is written.

A line's message, extra keys, exception and stack trace lose the configured secrets (``Settings.secrets``,
registered by ``Clients`` when it reads its settings, through ``mask_in_logs``) and anything shaped like a
credential (``contribsync.runtime.failure.Masker``). Powertools' documented way to change its output is a
formatter that overrides ``serialize``.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable


class _LogMask:
    """The masker of every log line of the process, over the secrets of every ``Clients`` in it."""

    def __init__(self) -> None:
        self.secrets: set[str] = set()
        self.lock = threading.Lock()
        self.masker: Callable[[str], str] | None = None

    def add(self, secrets: Iterable[str]) -> None:
        with self.lock:
            if set(secrets) <= self.secrets and self.masker is not None:
                return
            from contribsync.runtime.failure import Masker  # here: the runtime package imports this module

            self.secrets.update(secrets)
            self.masker = Masker(self.secrets)

    def __call__(self, text: str) -> str:
        if self.masker is None:
            self.add(())
        assert self.masker is not None
        return self.masker(text)


_LOG_MASK = _LogMask()


def mask_in_logs(secrets: Iterable[str]) -> None:
    """Mask ``secrets`` in every log line from now on (with those registered before)."""
    _LOG_MASK.add(secrets)


def _masked(value: Any, mask: Callable[[str], str]) -> Any:  # noqa: ANN401 - any value of a log line
    """A log line's value masked; what is neither a container nor a number (an exception in ``stack_trace``)
    becomes its masked text, as the JSON serializer would have written it (``default=str``)."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, dict):
        return {key: _masked(item, mask) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_masked(item, mask) for item in value]
    return mask(str(value))


class MaskingFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON line, each value masked before it is serialized (so a secret's JSON escaping, the
    newlines of a PEM key, cannot hide it from the masker)."""

    def serialize(self, log: dict[str, Any]) -> str:  # type: ignore[override]
        return super().serialize(_masked(log, _LOG_MASK))


__all__ = ["MaskingFormatter", "mask_in_logs"]

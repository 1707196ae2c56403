"""Every log line a process writes, captured: the Powertools logger's JSON lines (formatted by its own
formatter), every other logger's records, and everything written to stdout and stderr.

The chaos benchmark (``devtools/chaos.py``) and the tests (``test_runtime``, ``test_chaos``) scan them for
secrets. Not a benchmark itself: a helper they share.
"""

from __future__ import annotations

import contextlib
import io
import logging
import sys
from typing import TYPE_CHECKING

from contribsync.observability import logger

if TYPE_CHECKING:
    from collections.abc import Iterator


class _Lines(logging.Handler):
    def __init__(self, lines: list[str], formatter: logging.Formatter, skip: str | None = None) -> None:
        super().__init__(logging.NOTSET)
        self.lines = lines
        self.skip = skip
        self.setFormatter(formatter)

    def emit(self, record: logging.LogRecord) -> None:
        if self.skip and (record.name == self.skip or record.name.startswith(f"{self.skip}.")):
            return  # formatted by the logger's own handler
        try:
            self.lines.append(self.format(record))
        except Exception:  # a record that cannot be formatted is still scanned by its message
            self.lines.append(str(record.msg))


class _Tee(io.TextIOBase):
    def __init__(self, lines: list[str]) -> None:
        self.lines = lines

    def write(self, text: str) -> int:
        self.lines.append(text)
        return len(text)


@contextlib.contextmanager
def captured_logs() -> Iterator[list[str]]:
    """Every log line the process writes inside the block: the Powertools logger's JSON lines (formatted
    by its own formatter, instead of written to stdout), every other logger's records, and anything
    written to stdout or stderr."""
    lines: list[str] = []
    ours = logging.getLogger(logger.name)
    saved = list(ours.handlers)
    mine = _Lines(lines, logger.registered_formatter)
    root = _Lines(lines, logging.Formatter("%(levelname)s %(name)s %(message)s"), skip=logger.name)
    for handler in saved:
        ours.removeHandler(handler)
    ours.addHandler(mine)
    logging.getLogger().addHandler(root)
    out, err = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = _Tee(lines)
    try:
        yield lines
    finally:
        sys.stdout, sys.stderr = out, err
        logging.getLogger().removeHandler(root)
        ours.removeHandler(mine)
        for handler in saved:
            ours.addHandler(handler)


__all__ = ["captured_logs"]

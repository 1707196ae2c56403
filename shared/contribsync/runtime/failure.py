"""What the run history keeps of a failed or retried run: the exception's type and message, a trimmed
traceback of our own frames, and the step the run was at when it failed.

- **Traceback**: frames only (file, line, function, source line), never local variables: they hold
  tokens, keys and payloads. Our frames are the layer's (``contribsync/``) and those of the file that
  defines the function's service (its handler, when the handler defines it); each run of other frames
  (httpx, psycopg, concurrent.futures) becomes one line saying how many were left out. The cause and
  context chain is kept, as Python prints it. Most recent call last, at most ``MAX_FRAMES`` of ours per
  exception (the earliest go) and ``MAX_CHARS`` in all (the start goes: the end says what failed).
- **Step**: what the service said it was doing (``RunContext.step`` / ``RunContext.at``: stream and page,
  pull request, delivery, request), plus the GitHub request that failed and GitHub's request id when
  the error, or one it was raised from, carries them.
- **Masking**: message, traceback and step pass through ``Masker``: the configured secrets
  (``Settings.secrets``) and anything shaped like a GitHub token, an OpenAI key, a bearer token, a URL's
  password, a ``password=`` or a PEM private key become ``***``. A container has one, ``Clients.mask``,
  which every error text stored elsewhere passes through too (``sync_logs``, ``webhook_deliveries``,
  ``embedding_jobs``, ``workspace_aggregation_queue``); log lines are masked the same way
  (``observability``).

Written on the standard ``traceback`` module (``TracebackException`` walks the chain, ``StackSummary``
formats frames and lets a subclass format a frame its own way): no library trims a traceback by whose
code a frame is, for storing. ``traceback``'s ``limit`` counts frames whoever wrote them; rich's
``suppress`` and Sentry's in-app frames belong to a console renderer and an error-reporting SDK the layer
does not carry; ``stackprinter`` and ``better_exceptions`` print local variables, which must never be kept.
"""

from __future__ import annotations

import contextlib
import re
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from contribsync.errors import GitHubError
from contribsync.runtime.messages import pg_text

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Iterable, Iterator, Mapping

MAX_FRAMES = 20  # of ours, per exception of the chain
MAX_CHARS = 4096  # of the whole traceback
MAX_CHUNK = 500  # one frame or one exception line of it (a long message is in ``error`` in full)
MAX_MESSAGE = 4000
MIN_SECRET_CHARS = 8  # shorter configured values (a test's "t") would mask ordinary words

LAYER = Path(__file__).resolve().parent.parent  # .../contribsync
_STEP_ATTR = "_contribsync_step"
_LEFT_OUT = "<left out>"

# Credentials by their shape, for those no setting names (a GitHub App's installation tokens).
_SHAPES = (
    (re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_\w{20,})"), "***"),
    (re.compile(r"\bsk-[A-Za-z0-9_-]{20,}"), "***"),
    (re.compile(r"(?i)\b(bearer\s+)[\w.~+/=-]{8,}"), r"\1***"),
    (re.compile(r"(\b[a-zA-Z][\w+.-]*://[^\s:/@]*:)[^\s@/]+@"), r"\1***@"),
    (re.compile(r"(?i)\b(password\s*=\s*)[^\s'\"]+"), r"\1***"),
    # a PEM private key (a GitHub App's), whole or cut short by a message's limit
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)", re.DOTALL), "***"),
)


class Masker:
    """Replaces secrets in text: ``masker("token ghp_...")`` → ``"token ***"``."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # longest first, so a secret that contains another is masked whole
        self.secrets = sorted({s for s in secrets if s and len(s) >= MIN_SECRET_CHARS}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        for shape, replacement in _SHAPES:
            text = shape.sub(replacement, text)
        return pg_text(text)

    def value(self, value: object) -> object:
        """A step's value: text masked, numbers and booleans as they are, anything else as masked text."""
        if value is None or isinstance(value, bool | int | float):
            return value
        return self(str(value))


@dataclass(frozen=True)
class Failure:
    """One failure as ``function_runs`` keeps it (``error_type``, ``error``, ``error_traceback``, ``error_step``)."""

    type: str
    message: str
    traceback: str | None = None
    step: dict[str, Any] | None = None

    @property
    def summary(self) -> str:
        return f"{self.type}: {self.message}"

    @classmethod
    def of(cls, exc: BaseException, *, code: Iterable[str] = (), mask: Masker | None = None) -> Failure:
        """Everything kept of a failure: ``code`` names files of ours besides the layer (the service's);
        ``mask``: the container's ``Clients.mask`` (without it, credential shapes only are masked)."""
        mask = mask or Masker()
        step = {key: mask.value(value) for key, value in (step_of(exc) or {}).items()}
        return cls(type(exc).__name__, mask(_text(exc))[:MAX_MESSAGE], mask(trimmed_traceback(exc, code=code)),
                   step or None)

    @classmethod
    def brief(cls, exc: BaseException, *, mask: Masker | None = None) -> Failure:
        """The type and message alone: the reason of a deferral, a cancellation or a refused message."""
        return cls(type(exc).__name__, (mask or Masker())(_text(exc))[:MAX_MESSAGE])


def _text(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception:  # an exception whose __str__ fails still has a type worth keeping
        return "<message unprintable>"


# -- the step -------------------------------------------------------------------------------------------


def mark(exc: BaseException, where: Mapping[str, Any]) -> None:
    """Attach ``where`` to ``exc`` as the step it failed at, unless an inner step already did."""
    if getattr(exc, _STEP_ATTR, None) is None:
        with contextlib.suppress(AttributeError, TypeError):  # an exception class with __slots__
            setattr(exc, _STEP_ATTR, dict(where))


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc``, then what it was raised from (or while handling), and so on."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)


def step_of(exc: BaseException) -> dict[str, Any] | None:
    """The step ``exc`` failed at, with the GitHub request and its id where the chain carries them."""
    chain = list(_chain(exc))
    step: dict[str, Any] = next((dict(getattr(e, _STEP_ATTR)) for e in chain
                                 if getattr(e, _STEP_ATTR, None) is not None), {})
    github = next((e for e in chain if isinstance(e, GitHubError) and (e.request_id or e.request)), None)
    if github is not None:
        step.update({k: v for k, v in (("github_request", github.request),
                                       ("github_request_id", github.request_id)) if v})
    return step or None


# -- the traceback --------------------------------------------------------------------------------------


class _OurFrames(traceback.StackSummary):
    """A stack of our frames, where a marker frame prints as one line saying what was left out."""

    def format_frame_summary(self, frame_summary: traceback.FrameSummary) -> str:
        if frame_summary.filename == _LEFT_OUT:
            return f"  [{frame_summary.name}]\n"
        return super().format_frame_summary(frame_summary)


def _left_out(what: str) -> traceback.FrameSummary:
    return traceback.FrameSummary(_LEFT_OUT, 0, what, lookup_line=False, line="")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def shown_path(filename: str, code: Collection[str] = ()) -> str | None:
    """How a frame's file is shown when it is ours (``contribsync/services/capture.py``), else None."""
    path = Path(filename)
    with contextlib.suppress(OSError, ValueError):
        path = path.resolve()
    if path.is_relative_to(LAYER):
        return str(path.relative_to(LAYER.parent))
    if str(path) in code:
        return f"{path.parent.name}/{path.name}"
    return None


def _trim(stack: traceback.StackSummary, shown: Callable[[str], str | None]) -> _OurFrames:
    kept: list[traceback.FrameSummary] = []
    others = 0
    for frame in stack:
        name = shown(frame.filename)
        if name is None:
            others += 1
            continue
        if others:
            kept.append(_left_out(f"{_plural(others, 'frame')} of other code"))
            others = 0
        kept.append(traceback.FrameSummary(name, frame.lineno, frame.name, lookup_line=False, line=frame.line))
    if others:
        kept.append(_left_out(f"{_plural(others, 'frame')} of other code"))
    ours = [i for i, frame in enumerate(kept) if frame.filename != _LEFT_OUT]
    if len(ours) > MAX_FRAMES:
        kept = [_left_out(f"{_plural(len(ours) - MAX_FRAMES, 'earlier frame')} of ours left out"),
                *kept[ours[-MAX_FRAMES]:]]
    return _OurFrames(kept)


def trimmed_traceback(exc: BaseException, *, code: Iterable[str] = ()) -> str:
    """``exc``'s traceback as Python prints it, chain included, with our frames only (see the module)."""
    files = {str(Path(c).resolve()) for c in code}
    summary = traceback.TracebackException(type(exc), exc, exc.__traceback__, capture_locals=False)
    pending, seen = [summary], set[int]()
    while pending:
        te = pending.pop()
        if id(te) in seen:
            continue
        seen.add(id(te))
        te.stack = _trim(te.stack, lambda filename: shown_path(filename, files))
        pending += [t for t in (te.__cause__, te.__context__) if t is not None]
        pending += getattr(te, "exceptions", None) or []
    chunks = [c if len(c) <= MAX_CHUNK else c[:MAX_CHUNK - 2] + "…\n" for c in summary.format(chain=True)]
    text = "".join(chunks)
    if len(text) <= MAX_CHARS:
        return text
    head = f"[cut to its last {MAX_CHARS} characters]\n"
    tail = text[-(MAX_CHARS - len(head)):]
    return head + (tail.split("\n", 1)[1] if "\n" in tail[:-1] else tail)


# -- how a stored failure reads ----------------------------------------------------------------------

_FRAME_LINE = re.compile(r'^  File "(?P<file>[^"]+)", line (?P<line>\d+), in (?P<name>.+)$', re.MULTILINE)


def shown_step(step: Mapping[str, Any] | None) -> list[tuple[str, Any]]:
    """A stored step's keys and values as they are shown: what the service said, then GitHub's request (a
    jsonb column hands its keys back in its own order, shortest first)."""
    return sorted((step or {}).items(), key=lambda item: item[0].startswith("github_"))


def step_line(step: Mapping[str, Any] | None) -> str:
    """A stored step as one line: ``page=2 stream=MERGED github_request_id=SIM:1F``."""
    return " ".join(f"{key}={value}" for key, value in shown_step(step))


def innermost_frame(text: str | None) -> str | None:
    """Where a stored traceback ends in our code: ``contribsync/services/capture.py:186 in _page_stream``."""
    frames = list(_FRAME_LINE.finditer(text or ""))
    if not frames:
        return None
    last = frames[-1]
    return f"{last['file']}:{last['line']} in {last['name']}"


def defining_file(function: object) -> str | None:
    """The file that defines ``function`` (a service), or None for a callable without code of its own."""
    code = getattr(function, "__code__", None)
    return getattr(code, "co_filename", None)


__all__ = ["MAX_CHARS", "MAX_FRAMES", "Failure", "Masker", "defining_file", "innermost_frame", "mark", "shown_step",
           "step_line", "step_of", "trimmed_traceback"]

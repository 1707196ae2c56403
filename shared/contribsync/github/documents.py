"""GraphQL documents: the reviewed ``contribsync/graphql/*.graphql`` files, with their fragments.

Fragments live in ``_fragments.graphql``; a document gets exactly the fragments it spreads (and the
ones those spread), because GraphQL rejects a document with unused fragments. Plain text handling,
so loading a document costs no graphql-core import on Lambda.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

_FRAGMENT = re.compile(r"^fragment\s+(\w+)\s+on\s+\w+\s*\{", re.MULTILINE)
_SPREAD = re.compile(r"\.\.\.\s*(\w+)")
FRAGMENTS_FILE = "_fragments.graphql"


def _folder() -> Traversable:
    return resources.files("contribsync").joinpath("graphql")


@cache
def fragments() -> dict[str, str]:
    """Fragment name → its definition text."""
    text = _folder().joinpath(FRAGMENTS_FILE).read_text(encoding="utf-8")
    starts = [(m.group(1), m.start()) for m in _FRAGMENT.finditer(text)]
    out: dict[str, str] = {}
    for i, (name, start) in enumerate(starts):
        end = starts[i + 1][1] if i + 1 < len(starts) else len(text)
        body = text[start:end]
        out[name] = body[: body.rindex("}") + 1]
    return out


def names() -> list[str]:
    """Every document name (file stem), fragments file excluded."""
    return sorted(f.name.removesuffix(".graphql") for f in _folder().iterdir()
                  if f.name.endswith(".graphql") and f.name != FRAGMENTS_FILE)


@cache
def document(name: str) -> str:
    """The document ``name`` with the fragments it needs appended."""
    return with_fragments(_folder().joinpath(f"{name}.graphql").read_text(encoding="utf-8"))


def with_fragments(text: str) -> str:
    known = fragments()
    needed: list[str] = []
    pending = [s for s in _SPREAD.findall(text) if s in known]
    while pending:
        name = pending.pop()
        if name in needed:
            continue
        needed.append(name)
        pending.extend(s for s in _SPREAD.findall(known[name]) if s in known and s not in needed)
    return "\n\n".join([text.strip(), *(known[n] for n in sorted(needed))]) + "\n"


__all__ = ["document", "fragments", "names", "with_fragments"]

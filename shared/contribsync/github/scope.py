"""Which repository (owner) a GitHub request is about, so that a GitHub App's request carries the token, and
draws on the budget, of that owner's installation.

- REST: the path ``/repos/{owner}/{repo}/...`` or ``/orgs/{org}/...`` (below the API's base path).
- GraphQL: the variables ``owner`` and ``name``, as every repository document names them.
- Anything else (``nodes(ids:)`` profile lookups, ``/users/{login}``): the owner the caller names (the
  repository its run is about), else none, and then any installation may serve it: it reads public data.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

_REPO_PATH = re.compile(r"^/(?:repos/(?P<owner>[^/]+)/(?P<repo>[^/?]+)|orgs/(?P<org>[^/?]+))")


def request_scope(path: str, variables: Mapping[str, Any] | None = None,
                  owner: str | None = None) -> tuple[str | None, str | None]:
    """The owner and repository of a request: ``path`` below the API's base for REST, ``variables`` for
    GraphQL (then ``path`` is not read), else ``owner`` (the caller's) with no repository."""
    if variables is not None:
        named, name = variables.get("owner"), variables.get("name")
        if isinstance(named, str) and named:
            return named, name if isinstance(name, str) and name else None
    elif match := _REPO_PATH.match(path):
        return match["owner"] or match["org"], match["repo"]
    return owner, None


__all__ = ["request_scope"]

"""The simulator's REST API over the dataset: what contribsync calls, plus what Perceval (under ``/api/v3``)
and MeltanoLabs tap-github call for pulls, issues, comments, reviews, commits and users.

Behaviour copied from GitHub, as the peers call it (Perceval's and tap-github's own sources):
- ``page``/``per_page`` pagination (default 30, capped at 100) with a ``Link`` header (next/last/first/prev)
  that repeats the request's other parameters; repeated query parameters are accepted (the first counts);
- ``GET /repos/{o}/{r}/issues`` is also cursor-paginated: its ``next`` link carries ``after=<cursor>`` beside
  ``page``, and a request with ``after`` is served from that cursor (tap-github follows ``after``);
- ``state`` (default ``open``), ``sort``/``direction`` with GitHub's per-endpoint defaults, ``since`` on
  issues and the repository-wide comment lists; issue lists include pull requests;
- a weak ``ETag`` on every 200; a matching ``If-None-Match`` gets an empty 304, which costs no budget;
- unknown paths and missing objects: 404 ``{"message": "Not Found", ...}``;
- webhooks and their delivery logs (``/repos/{o}/{r}/hooks...``, ``/app/hook/deliveries...``) are answered
  by ``hooks.HookApi`` when one is given.

Routing is werkzeug's; the response objects come from ``rest_shapes``.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule

from contribsync_sim.rest_shapes import Shapes

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from werkzeug.wrappers import Request

    from contribsync_sim.dataset import Dataset, PullRequest, Repository
    from contribsync_sim.hooks import HookApi

Answer = tuple[int, Any, dict[str, str], int, int]
DEFAULT_PER_PAGE = 30
MAX_PER_PAGE = 100
DOCS = "https://docs.github.com/rest"

_REPO = "/repos/<owner>/<repo>"
_RULES = {
    "repo": _REPO,
    "pulls": f"{_REPO}/pulls",
    "pull_comments_all": f"{_REPO}/pulls/comments",
    "pull": f"{_REPO}/pulls/<int:number>",
    "pull_reviews": f"{_REPO}/pulls/<int:number>/reviews",
    "pull_comments": f"{_REPO}/pulls/<int:number>/comments",
    "pull_commits": f"{_REPO}/pulls/<int:number>/commits",
    "pull_files": f"{_REPO}/pulls/<int:number>/files",
    "pull_requested_reviewers": f"{_REPO}/pulls/<int:number>/requested_reviewers",
    "issues": f"{_REPO}/issues",
    "issue_comments_all": f"{_REPO}/issues/comments",
    "issue": f"{_REPO}/issues/<int:number>",
    "issue_comments": f"{_REPO}/issues/<int:number>/comments",
    "contributors": f"{_REPO}/contributors",
    "events": f"{_REPO}/events",
    "user": "/users/<login>",
    "user_orgs": "/users/<login>/orgs",
}
_URLS = Map([Rule(path, endpoint=name, methods=["GET"]) for name, path in _RULES.items()], strict_slashes=False)


class _Missing(Exception):
    pass


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"cursor:v2:{offset}".encode()).decode().rstrip("=")


def _offset(cursor: str) -> int:
    try:
        return int(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().rsplit(":", 1)[1])
    except (ValueError, IndexError) as exc:
        raise _Missing from exc


def _etag(body: Any) -> str:  # noqa: ANN401 - any JSON value
    return 'W/"' + hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:40] + '"'


class RestApi:
    """The simulator's REST handler (see ``server.Handler``); paths may be prefixed with ``/api/v3``."""

    def __init__(self, ds: Dataset, *, hooks: HookApi | None = None) -> None:
        self.ds = ds
        self.hooks = hooks

    def __call__(self, request: Request) -> Answer:
        path = request.path.removeprefix("/api/v3") or "/"
        api = request.host_url.rstrip("/") + ("/api/v3" if request.path.startswith("/api/v3") else "")
        try:
            endpoint, params = _URLS.bind("sim").match(path, method=request.method)
        except (NotFound, MethodNotAllowed):
            hooked = self.hooks(request, path, api) if self.hooks is not None else None
            if hooked is not None:
                return hooked
            return 404, {"message": "Not Found", "documentation_url": DOCS, "status": "404"}, {}, 0, 1
        handler: Callable[..., Any] = getattr(self, f"_{endpoint}")
        try:
            result = handler(request, Shapes(self.ds, api), **params)
        except _Missing:
            return 404, {"message": "Not Found", "documentation_url": DOCS, "status": "404"}, {}, 0, 1
        body, headers = (result, {}) if not isinstance(result, _Page) else (result.items, result.link(request))
        etag = _etag(body)
        if etag in {t.strip() for t in request.headers.get("if-none-match", "").split(",")}:
            return 304, None, {"etag": etag}, 0, 0
        return 200, body, {"etag": etag, **headers}, len(body) if isinstance(body, list) else 1, 1

    # -- lookups ------------------------------------------------------------------------------------

    def _find_repo(self, owner: str, repo: str) -> Repository:
        found = self.ds.repo_by_name.get(f"{owner}/{repo}")
        if found is None:
            raise _Missing
        return found

    def _find_pr(self, owner: str, repo: str, number: int) -> PullRequest:
        found = self.ds.pr_by_number.get((self._find_repo(owner, repo).id, number))
        if found is None:
            raise _Missing
        return found

    # -- endpoints ----------------------------------------------------------------------------------

    def _repo(self, request: Request, s: Shapes, owner: str, repo: str) -> Any:  # noqa: ANN401
        return s.repository(self._find_repo(owner, repo), detail=True)

    def _pulls(self, request: Request, s: Shapes, owner: str, repo: str) -> _Page:
        r = self._find_repo(owner, repo)
        items = _by_state(self.ds.prs_by_repo.get(r.id, []), request)
        sort = request.args.get("sort", "created")
        items = _sorted(items, request, sort, default_desc=sort == "created")
        return _Page.of(request, items, s.pull_request_item)

    def _pull(self, request: Request, s: Shapes, owner: str, repo: str, number: int) -> Any:  # noqa: ANN401
        return s.pull_request(self._find_pr(owner, repo, number))

    def _pull_reviews(self, request: Request, s: Shapes, owner: str, repo: str, number: int) -> _Page:
        pr = self._find_pr(owner, repo, number)
        return _Page.of(request, sorted(self.ds.reviews_by_pr.get(pr.id, []), key=lambda x: x.id), s.review)

    def _pull_comments(self, request: Request, s: Shapes, owner: str, repo: str, number: int) -> _Page:
        pr = self._find_pr(owner, repo, number)
        items = _since(self.ds.review_comments_by_pr.get(pr.id, []), request)
        return _Page.of(request, _sorted(items, request, request.args.get("sort", "created"), default_desc=False),
                        s.review_comment)

    def _pull_comments_all(self, request: Request, s: Shapes, owner: str, repo: str) -> _Page:
        r = self._find_repo(owner, repo)
        items = [c for pr in self.ds.prs_by_repo.get(r.id, []) for c in self.ds.review_comments_by_pr.get(pr.id, [])]
        items = _sorted(_since(items, request), request, request.args.get("sort", "created"), default_desc=False)
        return _Page.of(request, items, s.review_comment)

    def _pull_commits(self, request: Request, s: Shapes, owner: str, repo: str, number: int) -> _Page:
        pr = self._find_pr(owner, repo, number)
        return _Page.of(request, list(range(pr.commits)), lambda i: s.commit(pr, i))

    def _pull_files(self, request: Request, s: Shapes, owner: str, repo: str, number: int) -> _Page:
        pr = self._find_pr(owner, repo, number)
        return _Page.of(request, pr.files, lambda f: s.file(pr, f))

    def _pull_requested_reviewers(self, request: Request, s: Shapes, owner: str, repo: str,
                                  number: int) -> Any:  # noqa: ANN401
        pr = self._find_pr(owner, repo, number)
        return {"users": [s.user_of(u) for u in self.ds.requested_reviewers(pr)], "teams": []}

    def _issues(self, request: Request, s: Shapes, owner: str, repo: str) -> _Page:
        r = self._find_repo(owner, repo)
        items: list[Any] = [*self.ds.issues_by_repo.get(r.id, []), *self.ds.prs_by_repo.get(r.id, [])]
        items = _since(_by_state(items, request), request)
        items = _sorted(items, request, request.args.get("sort", "created"), default_desc=True)
        return _Page.of(request, items, s.issue, cursors=True)

    def _issue(self, request: Request, s: Shapes, owner: str, repo: str, number: int) -> Any:  # noqa: ANN401
        r = self._find_repo(owner, repo)
        item = self.ds.issue_by_number.get((r.id, number)) or self.ds.pr_by_number.get((r.id, number))
        if item is None:
            raise _Missing
        return s.issue(item)

    def _issue_comments(self, request: Request, s: Shapes, owner: str, repo: str, number: int) -> _Page:
        r = self._find_repo(owner, repo)
        if (r.id, number) not in self.ds.issue_by_number and (r.id, number) not in self.ds.pr_by_number:
            raise _Missing
        items = _since(self.ds.issue_comments_by_number.get((r.id, number), []), request)
        return _Page.of(request, sorted(items, key=lambda c: c.id), s.issue_comment)

    def _issue_comments_all(self, request: Request, s: Shapes, owner: str, repo: str) -> _Page:
        r = self._find_repo(owner, repo)
        items = [c for (rid, _), cs in self.ds.issue_comments_by_number.items() if rid == r.id for c in cs]
        items = _sorted(_since(items, request), request, request.args.get("sort", "created"), default_desc=False)
        return _Page.of(request, items, s.issue_comment)

    def _contributors(self, request: Request, s: Shapes, owner: str, repo: str) -> _Page:
        r = self._find_repo(owner, repo)
        counts: dict[int, int] = {}
        for pr in self.ds.prs_by_repo.get(r.id, []):
            if pr.state == "MERGED":
                counts[pr.author_id] = counts.get(pr.author_id, 0) + pr.commits
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        return _Page.of(request, ranked, lambda kv: {**(s.user(kv[0]) or {}), "contributions": kv[1]})

    def _events(self, request: Request, s: Shapes, owner: str, repo: str) -> _Page:
        r = self._find_repo(owner, repo)
        return _Page.of(request, s.events(r), lambda e: e)

    def _user(self, request: Request, s: Shapes, login: str) -> Any:  # noqa: ANN401
        user = self.ds.user_by_login.get(login)
        if user is None:
            raise _Missing
        return s.user_detail(user)

    def _user_orgs(self, request: Request, s: Shapes, login: str) -> list[Any]:
        if login not in self.ds.user_by_login:
            raise _Missing
        return []



def _by_state(items: Sequence[Any], request: Request) -> list[Any]:
    state = request.args.get("state", "open")
    if state == "all":
        return list(items)
    return [x for x in items if (x.state == "OPEN") == (state == "open")]


def _since(items: Sequence[Any], request: Request) -> list[Any]:
    since = request.args.get("since")
    if not since:
        return list(items)
    try:
        # A "+" left unescaped in a query string arrives as a space.
        cutoff = datetime.fromisoformat(since.replace(" ", "+").replace("Z", "+00:00"))
    except ValueError:
        return list(items)
    return [x for x in items if x.updated_at >= cutoff]


def _sorted(items: list[Any], request: Request, sort: str, *, default_desc: bool) -> list[Any]:
    direction = request.args.get("direction")
    desc = direction == "desc" if direction in ("asc", "desc") else default_desc
    keys: dict[str, Callable[[Any], Any]] = {
        "updated": lambda x: (x.updated_at, x.id),
        "comments": lambda x: (x.id,),
        "long-running": lambda x: (x.created_at, x.id),
        "popularity": lambda x: (x.id,),
    }
    return sorted(items, key=keys.get(sort, lambda x: (x.created_at, x.id)), reverse=desc)


class _Page:
    """One page of a list, and the ``Link`` header that leads to the others."""

    def __init__(self, items: list[Any], page: int, per_page: int, total: int, cursor_next: int | None) -> None:
        self.items = items
        self.page = page
        self.per_page = per_page
        self.total = total
        self.cursor_next = cursor_next

    @classmethod
    def of(cls, request: Request, items: Sequence[Any], shape: Callable[[Any], Any], *,
           cursors: bool = False) -> _Page:
        try:
            per_page = max(1, min(MAX_PER_PAGE, int(request.args.get("per_page", DEFAULT_PER_PAGE))))
            page = max(1, int(request.args.get("page", 1)))
        except ValueError:
            per_page, page = DEFAULT_PER_PAGE, 1
        after = request.args.get("after") if cursors else None
        start = _offset(after) if after else (page - 1) * per_page
        chosen = items[start:start + per_page]
        end = start + len(chosen)
        return cls([shape(x) for x in chosen], page, per_page, len(items),
                   end if cursors and end < len(items) else None)

    def link(self, request: Request) -> dict[str, str]:
        base = request.base_url
        params = {k: request.args.get(k, "") for k in request.args if k not in ("page", "after")}
        last = max(1, -(-self.total // self.per_page))
        rels: list[tuple[str, dict[str, str]]] = []
        if self.cursor_next is not None:
            rels.append(("next", {"page": str(self.page + 1), "after": _cursor(self.cursor_next)}))
        elif self.page < last and self.items:
            rels.append(("next", {"page": str(self.page + 1)}))
        if self.cursor_next is None and self.page < last:
            rels.append(("last", {"page": str(last)}))
        if self.page > 1:
            rels.extend((("prev", {"page": str(self.page - 1)}), ("first", {"page": "1"})))
        if not rels:
            return {}
        return {"link": ", ".join(f'<{base}?{urlencode({**params, **extra})}>; rel="{rel}"' for rel, extra in rels)}


__all__ = ["RestApi"]


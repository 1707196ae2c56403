"""GraphQL over GitHub's real public schema, resolved from the simulator's dataset.

graphql-core parses, validates and executes every query against GitHub's public schema, octokit's copy
in ``github_schema/`` beside this module (MIT; its README gives the commit), so a query GitHub would
refuse is refused here too; the resolvers below serve what contribsync and the peer tools ask for
(repository, pull requests, issues, discussions with ordering and cursors, nested reviews, comments,
files, authors, labels, totalCount, rateLimit). Costs and node limits come from ``cost.py``.

GitHub's own quirks kept on purpose: a Bot's GraphQL ``login`` has no ``[bot]`` suffix (REST has it);
``databaseId`` is a 32-bit Int, so asking it of a comment whose id passed 2^31 is an error, as on
github.com (use ``fullDatabaseId``, a BigInt sent as a string);
a missing repository is ``data.repository: null`` plus an error of type NOT_FOUND, with HTTP 200.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import graphql

from contribsync_sim.cost import LimitError, query_cost

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from werkzeug.wrappers import Request

    from contribsync_sim.dataset import Dataset, Discussion, Issue, IssueComment, PullRequest, Review, ReviewComment

SCHEMA_FILE = Path(__file__).resolve().parent / "github_schema" / "github-schema.graphql"
WEB = "https://github.com"


@cache
def schema(path: Path = SCHEMA_FILE) -> graphql.GraphQLSchema:
    built = graphql.build_schema(path.read_text(), assume_valid_sdl=True)
    built._validation_errors = []  # upstream's own SDL has harmless duplicates; queries still validate
    return built


@lru_cache(maxsize=256)
def _prepared(text: str) -> tuple[graphql.DocumentNode | None, tuple[str, ...]]:
    try:
        document = graphql.parse(text)
    except graphql.GraphQLError as exc:
        return None, (exc.message,)
    return document, tuple(e.message for e in graphql.validate(schema(), document))


def iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def _cursor(index: int) -> str:
    return base64.b64encode(f"cursor:v2:{index}".encode()).decode()


def _offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        return int(base64.b64decode(cursor).decode().rsplit(":", 1)[1]) + 1
    except (ValueError, IndexError) as exc:
        raise graphql.GraphQLError(f"`{cursor}` does not appear to be a valid cursor.") from exc


_ORDER_KEYS: dict[str, Callable[[Any], Any]] = {
    "CREATED_AT": lambda x: (x.created_at, x.id),
    "UPDATED_AT": lambda x: (x.updated_at, x.id),
    "COMMENTS": lambda x: (getattr(x, "comment_count", 0), x.id),
}


class Views:
    """Dataset records as the dicts graphql-core resolves fields from (callables take the args)."""

    def __init__(self, ds: Dataset) -> None:
        self.ds = ds
        self.nodes = 0
        self.missing: list[tuple[int, str]] = []  # nodes(ids:) entries not found: (index, id)

    def connection(self, items: Sequence[Any], view: Callable[[Any], dict[str, Any]], args: dict[str, Any],
                   *, order: dict[str, str] | None = None, sortable: bool = True) -> dict[str, Any]:
        ordered = list(items)
        order = (args.get("orderBy") or order) if sortable else None  # e.g. labels are plain names here
        if order:
            ordered.sort(key=_ORDER_KEYS.get(order["field"], _ORDER_KEYS["CREATED_AT"]),
                         reverse=order.get("direction") == "DESC")
        start = _offset(args.get("after"))
        size = args.get("first") or args.get("last") or 0
        if args.get("last") and not args.get("first"):
            start = max(0, len(ordered) - size)
        page = ordered[start:start + size]
        self.nodes += len(page)
        nodes = [view(x) for x in page]
        return {
            "totalCount": len(ordered),
            "pageInfo": {"hasNextPage": start + len(page) < len(ordered), "hasPreviousPage": start > 0,
                         "startCursor": _cursor(start) if page else None,
                         "endCursor": _cursor(start + len(page) - 1) if page else None},
            "nodes": nodes,
            "edges": [{"cursor": _cursor(start + i), "node": n} for i, n in enumerate(nodes)],
        }

    def actor(self, user_id: int | None) -> dict[str, Any] | None:
        user = self.ds.users.get(user_id) if user_id is not None else None
        if user is None:
            return None
        typename = {"Bot": "Bot", "Organization": "Organization"}.get(user.type, "User")
        login = user.login.removesuffix("[bot]") if typename == "Bot" else user.login
        return {"__typename": typename, "id": user.node_id, "login": login, "avatarUrl": user.avatar_url,
                "databaseId": user.id, "name": user.name, "email": user.email or "", "company": None,
                "location": None,
                "url": f"{WEB}/{login}", "createdAt": iso(user.created_at),
                "followers": {"totalCount": user.followers}, "following": {"totalCount": user.following},
                "repositories": lambda info, **_: {"totalCount": user.public_repos}}

    def node(self, node_id: str, index: int) -> dict[str, Any] | None:
        """``nodes(ids:)``: the actors the dataset knows by node id (the only nodes asked for by id)."""
        user = self.ds.user_by_node_id.get(node_id)
        if user is None:
            self.missing.append((index, node_id))
            return None
        return self.actor(user.id)

    def repository(self, repo_id: int) -> dict[str, Any]:
        ds, repo = self.ds, self.ds.repos[repo_id]
        prs = ds.prs_by_repo.get(repo_id, [])
        issues = ds.issues_by_repo.get(repo_id, [])
        discussions = ds.discussions_by_repo.get(repo_id, []) if repo.has_discussions else []

        def pull_requests(info: Any, **args: Any) -> dict[str, Any]:  # noqa: ANN401
            chosen = [p for p in prs if not args.get("states") or p.state in args["states"]]
            return self.connection(chosen, self.pull_request, args, order={"field": "CREATED_AT", "direction": "ASC"})

        def repo_issues(info: Any, **args: Any) -> dict[str, Any]:  # noqa: ANN401
            since = (args.get("filterBy") or {}).get("since")
            chosen = [i for i in issues if (not args.get("states") or i.state in args["states"])
                      and (not since or str(iso(i.updated_at)) >= since)]
            return self.connection(chosen, self.issue, args, order={"field": "CREATED_AT", "direction": "ASC"})

        def pull_request(info: Any, number: int, **_: Any) -> dict[str, Any] | None:  # noqa: ANN401
            pr = ds.pr_by_number.get((repo_id, number))
            return self.pull_request(pr) if pr else None

        return {
            "id": repo.node_id, "databaseId": repo.id, "name": repo.name, "nameWithOwner": repo.full_name,
            "owner": self.actor(repo.owner.id), "description": repo.description, "url": f"{WEB}/{repo.full_name}",
            "homepageUrl": None, "isPrivate": False, "isFork": False, "isArchived": False, "isDisabled": False,
            "hasIssuesEnabled": True, "hasWikiEnabled": False, "hasProjectsEnabled": False,
            "hasDiscussionsEnabled": repo.has_discussions, "stargazerCount": repo.stars, "forkCount": repo.forks,
            "watchers": lambda info, **a: {"totalCount": repo.watchers},
            "createdAt": iso(repo.created_at), "updatedAt": iso(repo.updated_at), "pushedAt": iso(repo.pushed_at),
            "defaultBranchRef": {"name": repo.default_branch},
            "primaryLanguage": {"name": repo.language} if repo.language else None,
            "licenseInfo": {"spdxId": "MIT", "name": "MIT License", "key": "mit"},
            "repositoryTopics": lambda info, **a: self.connection(
                repo.topics, lambda t: {"topic": {"name": t}}, a, sortable=False),
            "pullRequests": pull_requests, "issues": repo_issues, "pullRequest": pull_request,
            "discussions": lambda info, **a: self.connection(
                discussions, self.discussion, a, order={"field": "CREATED_AT", "direction": "ASC"}),
        }

    def pull_request(self, pr: PullRequest) -> dict[str, Any]:
        ds = self.ds
        repo = ds.repos[pr.repo_id]
        reviews = ds.reviews_by_pr.get(pr.id, [])
        comments = ds.issue_comments_by_number.get((pr.repo_id, pr.number), [])
        return {
            "id": pr.node_id, "databaseId": pr.id, "fullDatabaseId": str(pr.id), "number": pr.number,
            "title": pr.title, "body": pr.body,
            "state": pr.state, "isDraft": pr.draft, "url": f"{WEB}/{repo.full_name}/pull/{pr.number}",
            "createdAt": iso(pr.created_at), "updatedAt": iso(pr.updated_at), "closedAt": iso(pr.closed_at),
            "mergedAt": iso(pr.merged_at), "merged": pr.state == "MERGED",
            "mergeable": "MERGEABLE" if pr.state == "OPEN" else "UNKNOWN", "mergeStateStatus": "CLEAN",
            "additions": pr.additions, "deletions": pr.deletions, "changedFiles": pr.changed_files,
            "baseRefName": pr.base_ref, "headRefName": pr.head_ref,
            "headRef": {"target": {"__typename": "Commit", "oid": pr.head_sha}},
            "commits": lambda info, **a: {"totalCount": pr.commits},
            "author": self.actor(pr.author_id), "mergedBy": self.actor(pr.merged_by_id),
            "reviewRequests": lambda info, **a: self.connection(
                ds.requested_reviewers(pr), lambda u: {"requestedReviewer": self.actor(u.id)}, a, sortable=False),
            "files": lambda info, **a: self.connection(pr.files, lambda f: {
                "path": f.path, "additions": f.additions, "deletions": f.deletions, "changeType": f.change_type},
                a, sortable=False),
            "reviews": lambda info, **a: self.connection(reviews, self.review, a),
            "comments": lambda info, **a: self.connection(comments, self.issue_comment, a),
        }

    def review(self, review: Review) -> dict[str, Any]:
        comments = [c for c in self.ds.review_comments_by_pr.get(review.pr_id, []) if c.review_id == review.id]
        return {
            "id": review.node_id, "databaseId": review.id, "fullDatabaseId": str(review.id),
            "state": review.state, "body": review.body,
            "submittedAt": iso(review.submitted_at), "createdAt": iso(review.submitted_at),
            "updatedAt": iso(review.submitted_at), "commit": {"oid": review.commit_id},
            "author": self.actor(review.author_id),
            "comments": lambda info, **a: self.connection(comments, self.review_comment, a),
        }

    def review_comment(self, c: ReviewComment) -> dict[str, Any]:
        return {
            "id": c.node_id, "databaseId": c.id, "fullDatabaseId": str(c.id), "body": c.body,
            "createdAt": iso(c.created_at), "updatedAt": iso(c.updated_at), "path": c.path, "position": c.position,
            "originalPosition": c.original_position, "line": c.position, "originalLine": c.original_position,
            "startLine": None, "originalStartLine": None, "diffHunk": c.diff_hunk, "outdated": c.position is None,
            "commit": {"oid": c.commit_id}, "originalCommit": {"oid": c.original_commit_id},
            "replyTo": ({"databaseId": c.in_reply_to_id, "fullDatabaseId": str(c.in_reply_to_id)}
                        if c.in_reply_to_id else None),
            "pullRequestReview": {"databaseId": c.review_id, "fullDatabaseId": str(c.review_id)},
            "author": self.actor(c.author_id),
        }

    def issue_comment(self, c: IssueComment) -> dict[str, Any]:
        return {"id": c.node_id, "databaseId": c.id, "fullDatabaseId": str(c.id), "body": c.body,
                "createdAt": iso(c.created_at), "updatedAt": iso(c.updated_at), "author": self.actor(c.author_id)}

    def issue(self, issue: Issue) -> dict[str, Any]:
        ds = self.ds
        repo = ds.repos[issue.repo_id]
        comments = ds.issue_comments_by_number.get((issue.repo_id, issue.number), [])
        assignees = [ds.users[i] for i in issue.assignee_ids if i in ds.users]
        return {
            "id": issue.node_id, "databaseId": issue.id, "fullDatabaseId": str(issue.id), "number": issue.number,
            "title": issue.title,
            "body": issue.body, "state": issue.state,
            "stateReason": issue.state_reason.upper() if issue.state_reason else None,
            "url": f"{WEB}/{repo.full_name}/issues/{issue.number}", "locked": issue.locked,
            "createdAt": iso(issue.created_at), "updatedAt": iso(issue.updated_at), "closedAt": iso(issue.closed_at),
            "author": self.actor(issue.author_id), "milestone": None,
            "labels": lambda info, **a: self.connection(issue.labels, lambda n: {"name": n, "color": "ededed"}, a,
                                                        sortable=False),
            "assignees": lambda info, **a: self.connection(
                assignees, lambda u: {"login": u.login, "databaseId": u.id}, a, sortable=False),
            "comments": lambda info, **a: self.connection(comments, self.issue_comment, a),
        }

    def discussion(self, d: Discussion) -> dict[str, Any]:
        repo = self.ds.repos[d.repo_id]
        chooser = self.ds.users.get(d.answer_chosen_by_id) if d.answer_chosen_by_id else None
        return {
            "id": d.node_id, "databaseId": d.id, "number": d.number, "title": d.title, "body": d.body,
            "url": f"{WEB}/{repo.full_name}/discussions/{d.number}", "createdAt": iso(d.created_at),
            "updatedAt": iso(d.updated_at), "locked": d.locked, "isAnswered": d.answer_comment_id is not None,
            "upvoteCount": d.upvotes, "answerChosenAt": iso(d.answer_chosen_at),
            "answerChosenBy": self.actor(chooser.id) if chooser else None, "author": self.actor(d.author_id),
            "category": {"id": d.category.node_id, "name": d.category.name,
                         "description": d.category.description, "emoji": d.category.emoji},
            "answer": ({"id": f"DC_{d.answer_comment_id}", "createdAt": iso(d.answer_chosen_at),
                        "author": self.actor(d.answer_chosen_by_id)} if d.answer_comment_id else None),
            "comments": lambda info, **a: {"totalCount": d.comment_count},
        }


def _resolve(source: Any, info: Any, **args: Any) -> Any:  # noqa: ANN401 - graphql-core's resolver protocol
    value = source.get(info.field_name) if isinstance(source, dict) else getattr(source, info.field_name, None)
    return value(info, **args) if callable(value) else value


def _type_of(value: Any, info: Any, abstract: Any) -> str | None:  # noqa: ANN401 - graphql-core's protocol
    return value.get("__typename") if isinstance(value, dict) else None


def _errors(messages: Sequence[str], kind: str | None = None) -> dict[str, Any]:
    return {"errors": [{"message": m, **({"type": kind} if kind else {})} for m in messages]}


class GraphQLApi:
    """The simulator's ``/graphql`` handler (see ``server.Handler``)."""

    def __init__(self, ds: Dataset) -> None:
        self.ds = ds

    def __call__(self, request: Request) -> tuple[int, Any, dict[str, str], int, int]:
        try:
            payload = json.loads(request.get_data() or b"{}")
        except ValueError:
            return 400, {"message": "Problems parsing JSON"}, {}, 0, 0
        text, variables = str(payload.get("query") or ""), payload.get("variables") or {}
        document, problems = _prepared(text)
        if document is None or problems:
            return 200, _errors(problems), {}, 0, 1
        try:
            cost = query_cost(schema(), document, variables)
        except LimitError as exc:
            kind = "MAX_NODE_LIMIT_EXCEEDED" if "500,000" in str(exc) else "EXCESSIVE_PAGINATION"
            return 200, _errors([str(exc)], kind), {}, 0, 1
        rate = request.environ.get("sim.rate", {"limit": 5000, "used": 0, "reset": 0})
        views = Views(self.ds)
        root = {
            "repository": lambda info, owner, name, **_: self._repository(views, owner, name),
            "nodes": lambda info, ids, **_: [views.node(node_id, i) for i, node_id in enumerate(ids)],
            "rateLimit": {"limit": rate["limit"], "cost": cost.points, "nodeCount": cost.nodes,
                          "used": rate["used"] + cost.points,
                          "remaining": max(0, rate["limit"] - rate["used"] - cost.points),
                          "resetAt": iso(datetime.fromtimestamp(rate["reset"], tz=UTC))},
        }
        result = graphql.execute(schema(), document, root_value=root, variable_values=variables,
                                 operation_name=payload.get("operationName"), field_resolver=_resolve,
                                 type_resolver=_type_of)
        if hasattr(result, "__await__"):  # never: every resolver here is synchronous
            raise TypeError("asynchronous execution is not supported")
        body: dict[str, Any] = {"data": result.data}
        errors = [{"message": e.message, "path": e.path, "type": (e.extensions or {}).get("type")}
                  for e in result.errors or ()]
        # as GitHub answers an id it cannot resolve: null in its place, and a NOT_FOUND error beside the data
        errors += [{"message": f"Could not resolve to a node with the global id of '{node_id}'",
                    "type": "NOT_FOUND", "path": ["nodes", i]} for i, node_id in views.missing]
        if errors:
            body["errors"] = errors
        return 200, body, {}, views.nodes, cost.points

    def _repository(self, views: Views, owner: str, name: str) -> dict[str, Any]:
        repo = self.ds.repo_by_name.get(f"{owner}/{name}".lower()) or self.ds.repo_by_name.get(f"{owner}/{name}")
        if repo is None:
            raise graphql.GraphQLError(f"Could not resolve to a Repository with the name '{owner}/{name}'.",
                                       extensions={"type": "NOT_FOUND"})
        return views.repository(repo.id)


__all__ = ["GraphQLApi", "Views", "iso", "schema"]

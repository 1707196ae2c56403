"""GitHub objects (GraphQL nodes, REST objects, webhook payload objects) as rows of the
contributor.info tables, gathered in a ``Batch`` that ``store.write`` stores in one transaction.

Mappings, as contributor.info has them (its ``supabase/migrations/`` and Inngest functions):
- pull request state ``open|closed|merged``; review state one of the five upper-case values (webhooks
  send them lower case); comments typed ``issue_comment`` or ``review_comment``;
- every actor becomes a contributor keyed by GitHub id. A bot's login is stored as REST and webhooks
  spell it, with ``[bot]`` (GraphQL leaves the suffix off), so one bot keeps one username whichever
  API saw it. An author GitHub no longer knows (``null``, or an actor type without a database id) is
  the ``ghost`` user, as GitHub itself shows deleted accounts;
- a review comment's ``position``/``original_position`` hold its file line (``line``/``originalLine``):
  GitHub deprecated diff positions in GraphQL, and the file line is what both APIs still serve.

Timestamps stay GitHub's ISO strings: COPY's text format hands them to Postgres unparsed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

GHOST_ID = 10137
GHOST_LOGIN = "ghost"
KNOWN_BOTS = re.compile(
    r"(\[bot\]$|^dependabot(\[bot\])?$|^renovate(\[bot\])?$|^github-actions(\[bot\])?$|^continue(\[bot\])?$"
    r"|^snyk(\[bot\])?$|-bot$)", re.IGNORECASE)
PR_STATES = {"OPEN": "open", "CLOSED": "closed", "MERGED": "merged"}
REVIEW_STATES = frozenset({"PENDING", "APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED"})
MERGEABLE = {"MERGEABLE": True, "CONFLICTING": False}

CONTRIBUTOR_COLUMNS = ("github_id", "username", "display_name", "avatar_url", "email", "company", "location",
                       "is_bot", "bio", "blog", "github_created_at", "node_id", "seen_at")
PULL_REQUEST_COLUMNS = ("github_id", "number", "title", "body", "state", "draft", "mergeable", "mergeable_state",
                        "merged", "merged_by_github_id", "author_github_id", "base_branch", "head_branch",
                        "created_at", "updated_at", "merged_at", "closed_at", "additions", "deletions",
                        "changed_files", "commits", "html_url", "requested_reviewers")
REVIEW_COLUMNS = ("github_id", "pr_github_id", "author_github_id", "state", "body", "submitted_at", "commit_id",
                  "updated_at")
COMMENT_COLUMNS = ("github_id", "pr_github_id", "issue_github_id", "author_github_id", "body", "comment_type",
                   "in_reply_to_github_id", "position", "original_position", "diff_hunk", "path", "commit_id",
                   "original_commit_id", "review_github_id", "created_at", "updated_at")
ISSUE_COLUMNS = ("github_id", "number", "title", "body", "state", "state_reason", "author_github_id", "created_at",
                 "updated_at", "closed_at", "labels", "assignees", "milestone", "comments_count", "locked",
                 "html_url")

Row = tuple[Any, ...]


def is_bot(login: str, account_type: str | None) -> bool:
    """contributor.info's rule: GitHub's Bot type, a ``[bot]`` login, or a known bot's name."""
    return account_type == "Bot" or bool(KNOWN_BOTS.search(login))


def web_url(blog: str | None) -> str | None:
    """A profile's blog as contributor.info stores it: an http(s) URL, else nothing (REST's ``blog`` is free
    text; contributor.info's ``contributors.blog`` CHECK takes only URLs)."""
    return blog if blog and re.match(r"https?://", blog) else None


def _int(value: Any) -> int | None:  # noqa: ANN401 - GitHub ids arrive as int or (BigInt) str
    return int(value) if value not in (None, "") else None


def _lower(value: str | None) -> str | None:
    return value.lower() if value else None


def _requested_reviewers(pr: dict[str, Any]) -> str | None:
    """``reviewer_data.requested_reviewers`` as contributor.info's sync-pr-reviewers builds it: users, then
    teams as ``team:<name>``; None when the object does not say (GitHub's list endpoints always do)."""
    if "requested_reviewers" not in pr and "requested_teams" not in pr:
        return None
    users = [{"username": u["login"], "avatar_url": u.get("avatar_url") or ""}
             for u in pr.get("requested_reviewers") or []]
    teams = [{"username": f"team:{t['name']}", "avatar_url": ""} for t in pr.get("requested_teams") or []]
    return json.dumps(users + teams)


def _review_requests(node: dict[str, Any]) -> str | None:
    """``requested_reviewers`` from GraphQL's ``reviewRequests``, in the same shape as from REST; None
    when the query did not ask for them (the list pages), so the stored ones are kept."""
    if "reviewRequests" not in node:
        return None
    asked = [r["requestedReviewer"] for r in node["reviewRequests"]["nodes"] if r.get("requestedReviewer")]
    users = [{"username": f"{a['login']}[bot]" if a["__typename"] == "Bot" else a["login"],
              "avatar_url": a.get("avatarUrl") or ""} for a in asked if a.get("login")]
    teams = [{"username": f"team:{a['name']}", "avatar_url": ""} for a in asked if a["__typename"] == "Team"]
    return json.dumps(users + teams)


@dataclass
class Batch:
    """Rows gathered from one page (or one run) of GitHub data; contributors are de-duplicated by id."""

    contributors: dict[int, Row] = field(default_factory=dict)
    pull_requests: list[Row] = field(default_factory=list)
    reviews: list[Row] = field(default_factory=list)
    comments: list[Row] = field(default_factory=list)
    issues: list[Row] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.pull_requests) + len(self.reviews) + len(self.comments) + len(self.issues)

    # -- actors ---------------------------------------------------------------------------------------

    def _contributor(self, github_id: int, login: str, account_type: str | None, *, name: str | None = None,
                     avatar: str | None = None, email: str | None = None, company: str | None = None,
                     location: str | None = None, bio: str | None = None, blog: str | None = None,
                     created_at: str | None = None, node_id: str | None = None, seen_at: str | None = None) -> int:
        if account_type == "Bot" and not login.endswith("[bot]"):
            login = f"{login}[bot]"
        previous = self.contributors.get(github_id)
        if previous is None or (seen_at or "") >= (previous[-1] or ""):
            self.contributors[github_id] = (github_id, login, name or None, avatar, email or None, company, location,
                                            is_bot(login, account_type), bio or None, web_url(blog), created_at,
                                            node_id or None, seen_at)
        return github_id

    def ghost(self) -> int:
        return self._contributor(GHOST_ID, GHOST_LOGIN, "User", avatar=f"https://avatars.githubusercontent.com/u/"
                                                                      f"{GHOST_ID}?v=4")

    def actor(self, node: dict[str, Any] | None, seen_at: str | None = None) -> int:
        """A GraphQL ``ActorFields`` selection; the ghost when GitHub gives none or no database id."""
        if not node or node.get("databaseId") is None:
            return self.ghost()
        return self._contributor(int(node["databaseId"]), node["login"], node.get("__typename"),
                                 name=node.get("name"), avatar=node.get("avatarUrl"), email=node.get("email"),
                                 company=node.get("company"), location=node.get("location"), bio=node.get("bio"),
                                 blog=node.get("websiteUrl"), created_at=node.get("createdAt"), node_id=node.get("id"),
                                 seen_at=seen_at)

    def user(self, user: dict[str, Any] | None, seen_at: str | None = None) -> int:
        """A REST or webhook user object."""
        if not user or user.get("id") is None:
            return self.ghost()
        return self._contributor(int(user["id"]), user["login"], user.get("type"), name=user.get("name"),
                                 avatar=user.get("avatar_url"), email=user.get("email"),
                                 company=user.get("company"), location=user.get("location"), bio=user.get("bio"),
                                 blog=user.get("blog"), created_at=user.get("created_at"), node_id=user.get("node_id"),
                                 seen_at=seen_at)

    # -- GraphQL --------------------------------------------------------------------------------------

    def graphql_pull_request(self, node: dict[str, Any], *, merge_state: str | None = None) -> int:
        github_id = int(node["fullDatabaseId"])
        seen = node["updatedAt"]
        self.pull_requests.append((
            github_id, node["number"], node["title"], node.get("body"), PR_STATES[node["state"]],
            bool(node.get("isDraft")), MERGEABLE.get(node.get("mergeable") or ""), _lower(merge_state),
            bool(node.get("merged")), self.actor(node["mergedBy"], seen) if node.get("mergedBy") else None,
            self.actor(node.get("author"), seen), node["baseRefName"], node["headRefName"], node["createdAt"], seen,
            node.get("mergedAt"), node.get("closedAt"), node.get("additions") or 0, node.get("deletions") or 0,
            node.get("changedFiles") or 0, (node.get("commits") or {}).get("totalCount") or 0, node.get("url"),
            _review_requests(node),
        ))
        return github_id

    def graphql_review(self, node: dict[str, Any], pr_github_id: int) -> int:
        github_id = int(node["fullDatabaseId"])
        updated = node.get("updatedAt") or node.get("submittedAt")
        self.reviews.append((github_id, pr_github_id, self.actor(node.get("author"), updated), node["state"],
                             node.get("body"), node.get("submittedAt"), (node.get("commit") or {}).get("oid"),
                             updated))
        return github_id

    def graphql_review_comment(self, node: dict[str, Any], pr_github_id: int,
                               review_github_id: int | None = None) -> int:
        github_id = int(node["fullDatabaseId"])
        review = review_github_id or _int((node.get("pullRequestReview") or {}).get("fullDatabaseId"))
        self.comments.append((
            github_id, pr_github_id, None, self.actor(node.get("author"), node["updatedAt"]), node["body"],
            "review_comment", _int((node.get("replyTo") or {}).get("fullDatabaseId")), node.get("line"),
            node.get("originalLine"), node.get("diffHunk"), node.get("path"), (node.get("commit") or {}).get("oid"),
            (node.get("originalCommit") or {}).get("oid"), review, node["createdAt"], node["updatedAt"],
        ))
        return github_id

    def graphql_issue_comment(self, node: dict[str, Any], *, pr_github_id: int | None = None,
                              issue_github_id: int | None = None) -> int:
        github_id = int(node["fullDatabaseId"])
        self.comments.append((
            github_id, pr_github_id, issue_github_id, self.actor(node.get("author"), node["updatedAt"]),
            node["body"], "issue_comment", None, None, None, None, None, None, None, None, node["createdAt"],
            node["updatedAt"],
        ))
        return github_id

    def graphql_issue(self, node: dict[str, Any]) -> int:
        github_id = int(node["fullDatabaseId"])
        labels = [{"name": n["name"], "color": n.get("color")} for n in (node.get("labels") or {}).get("nodes", [])]
        assignees = [{"login": n["login"], "id": n.get("databaseId")}
                     for n in (node.get("assignees") or {}).get("nodes", [])]
        self.issues.append((
            github_id, node["number"], node["title"], node.get("body"), node["state"].lower(),
            _lower(node.get("stateReason")), self.actor(node.get("author"), node["updatedAt"]), node["createdAt"],
            node["updatedAt"], node.get("closedAt"), json.dumps(labels), json.dumps(assignees),
            json.dumps(node["milestone"]) if node.get("milestone") else None,
            (node.get("comments") or {}).get("totalCount") or 0, bool(node.get("locked")), node.get("url"),
        ))
        return github_id

    # -- REST and webhooks ----------------------------------------------------------------------------

    def rest_pull_request(self, pr: dict[str, Any]) -> int:
        state = "merged" if pr.get("merged_at") else pr["state"]
        seen = pr["updated_at"]
        self.pull_requests.append((
            int(pr["id"]), pr["number"], pr["title"], pr.get("body"), state, bool(pr.get("draft")),
            pr.get("mergeable"), pr.get("mergeable_state"), bool(pr.get("merged") or pr.get("merged_at")),
            self.user(pr["merged_by"], seen) if pr.get("merged_by") else None, self.user(pr.get("user"), seen),
            pr["base"]["ref"], pr["head"]["ref"], pr["created_at"], seen, pr.get("merged_at"), pr.get("closed_at"),
            pr.get("additions") or 0, pr.get("deletions") or 0, pr.get("changed_files") or 0, pr.get("commits") or 0,
            pr.get("html_url"), _requested_reviewers(pr),
        ))
        return int(pr["id"])

    def rest_review(self, review: dict[str, Any], pr_github_id: int) -> int:
        at = review.get("submitted_at")
        self.reviews.append((int(review["id"]), pr_github_id, self.user(review.get("user"), at),
                             str(review["state"]).upper(), review.get("body"), at, review.get("commit_id"), at))
        return int(review["id"])

    def rest_review_comment(self, c: dict[str, Any], pr_github_id: int) -> int:
        self.comments.append((
            int(c["id"]), pr_github_id, None, self.user(c.get("user"), c["updated_at"]), c["body"], "review_comment",
            _int(c.get("in_reply_to_id")), c.get("line"), c.get("original_line"), c.get("diff_hunk"), c.get("path"),
            c.get("commit_id"), c.get("original_commit_id"), _int(c.get("pull_request_review_id")), c["created_at"],
            c["updated_at"],
        ))
        return int(c["id"])

    def rest_issue_comment(self, c: dict[str, Any], *, pr_github_id: int | None = None,
                           issue_github_id: int | None = None) -> int:
        self.comments.append((
            int(c["id"]), pr_github_id, issue_github_id, self.user(c.get("user"), c["updated_at"]), c["body"],
            "issue_comment", None, None, None, None, None, None, None, None, c["created_at"], c["updated_at"],
        ))
        return int(c["id"])

    def rest_issue(self, issue: dict[str, Any]) -> int:
        labels = [{"name": label["name"], "color": label.get("color")} for label in issue.get("labels") or []]
        assignees = [{"login": a["login"], "id": a.get("id")} for a in issue.get("assignees") or []]
        self.issues.append((
            int(issue["id"]), issue["number"], issue["title"], issue.get("body"), issue["state"],
            issue.get("state_reason"), self.user(issue.get("user"), issue["updated_at"]), issue["created_at"],
            issue["updated_at"], issue.get("closed_at"), json.dumps(labels), json.dumps(assignees),
            json.dumps(issue["milestone"]) if issue.get("milestone") else None, issue.get("comments") or 0,
            bool(issue.get("locked")), issue.get("html_url"),
        ))
        return int(issue["id"])


__all__ = ["GHOST_ID", "Batch", "is_bot"]

"""Deterministic dataset for the local GitHub simulator (dev-only, never deployed).

``generate(seed, ...)`` builds an in-memory GitHub organisation: users (with the bots ``dependabot[bot]`` and
``renovate[bot]`` and the deleted user ``ghost``), repositories, pull requests with changed files, reviews,
review comments (some of them replies), issue comments on pull requests and issues, issues (sharing the number
sequence with pull requests, as on GitHub) and discussions. Everything is drawn from ``random.Random(seed)`` and
a fixed ``now``, so the same arguments always give the same dataset; the records carry what both the GraphQL
(public schema) and the REST front need.

``ground_truth(ds)`` exports JSON-serialisable counts and number lists per repository for tests to compare a
database against; the ``Dataset`` mutations (``open_pr``, ``edit_pr``, ``add_review``, ``close_pr``,
``open_issue``, ``add_issue_comment``, ``delete_issue_comment``) drive change mode (``changes.py``) while
keeping the invariants (timestamps ordered, merged pull requests carry ``merged_at`` and ``closed_at``, ids
unique per type).
"""

# The literals compared against rng.random() are the probabilities that tune the generated mix.
# ruff: noqa: PLR2004

from __future__ import annotations

import base64
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from collections.abc import Sequence

UserType = Literal["User", "Bot", "Organization"]
PRState = Literal["OPEN", "CLOSED", "MERGED"]
ReviewState = Literal["APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED"]
IssueState = Literal["OPEN", "CLOSED"]
ChangeType = Literal["ADDED", "MODIFIED", "DELETED", "RENAMED"]

DEFAULT_NOW = datetime(2026, 1, 1, tzinfo=UTC)
GHOST_ID = 10137
DEPENDABOT_ID = 49699333
RENOVATE_ID = 29139614
LONG_BODY_MIN = 70_000
# One pull request in this many (by global ordinal) gets a body longer than LONG_BODY_MIN.
LONG_BODY_EVERY = 1000

_REPO_ID_BASE = 700_000_000
_PR_ID_BASE = 1_500_000_000
_REVIEW_ID_BASE = 1_900_000_000
_REVIEW_COMMENT_ID_BASE = 1_200_000_000
_ISSUE_COMMENT_ID_BASE = 2_300_000_000
_ISSUE_ID_BASE = 2_700_000_000
_DISCUSSION_ID_BASE = 5_000_000
_DISCUSSION_COMMENT_ID_BASE = 9_000_000
_CATEGORY_ID_BASE = 30_000_000
_USER_ID_BASE = 100_000_000


# --------------------------------------------------------------------------------------------------- records


@dataclass
class User:
    id: int
    login: str
    node_id: str
    type: UserType
    name: str | None
    email: str | None
    avatar_url: str
    created_at: datetime
    followers: int = 0
    following: int = 0
    public_repos: int = 0


@dataclass
class Repository:
    id: int
    node_id: str
    owner: User
    name: str
    description: str | None
    has_discussions: bool
    stars: int
    forks: int
    watchers: int
    created_at: datetime
    updated_at: datetime
    pushed_at: datetime
    default_branch: str = "main"
    language: str | None = None
    topics: list[str] = field(default_factory=list)

    @property
    def full_name(self) -> str:
        return f"{self.owner.login}/{self.name}"


@dataclass
class ChangedFile:
    path: str
    additions: int
    deletions: int
    change_type: ChangeType


@dataclass
class PullRequest:
    id: int
    node_id: str
    number: int
    repo_id: int
    author_id: int
    title: str
    body: str
    state: PRState
    draft: bool
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    merged_at: datetime | None
    merged_by_id: int | None
    additions: int
    deletions: int
    changed_files: int
    commits: int
    base_ref: str
    head_ref: str
    head_sha: str
    labels: list[str]
    files: list[ChangedFile]


@dataclass
class Review:
    id: int
    node_id: str
    pr_id: int
    author_id: int
    state: ReviewState
    body: str
    submitted_at: datetime
    commit_id: str


@dataclass
class ReviewComment:
    id: int
    node_id: str
    pr_id: int
    review_id: int
    author_id: int
    body: str
    path: str
    position: int | None
    original_position: int
    diff_hunk: str
    commit_id: str
    original_commit_id: str
    in_reply_to_id: int | None
    created_at: datetime
    updated_at: datetime


@dataclass
class IssueComment:
    id: int
    node_id: str
    issue_or_pr_number: int
    repo_id: int
    is_pr: bool
    author_id: int
    body: str
    created_at: datetime
    updated_at: datetime


@dataclass
class Issue:
    id: int
    node_id: str
    number: int
    repo_id: int
    author_id: int
    title: str
    body: str
    state: IssueState
    state_reason: str | None
    labels: list[str]
    assignee_ids: list[int]
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    locked: bool


@dataclass
class DiscussionCategory:
    id: int
    node_id: str
    name: str
    description: str
    emoji: str
    is_answerable: bool


@dataclass
class Discussion:
    id: int
    node_id: str
    number: int
    repo_id: int
    author_id: int
    title: str
    body: str
    category: DiscussionCategory
    created_at: datetime
    updated_at: datetime
    locked: bool
    upvotes: int
    answer_comment_id: int | None
    answer_chosen_at: datetime | None
    answer_chosen_by_id: int | None
    comment_count: int


# --------------------------------------------------------------------------------------------------- ids


def _pack_uint(value: int) -> bytes:
    if value < 2**32:
        return b"\xce" + value.to_bytes(4, "big")
    return b"\xcf" + value.to_bytes(8, "big")


def node_id(prefix: str, object_id: int, repo_id: int | None = None) -> str:
    """A GitHub-shaped global id: ``PREFIX_`` + base64url(msgpack([0, repo_id?, id])), e.g. ``PR_kwDO...``."""
    if repo_id is None:
        raw = b"\x92\x00" + _pack_uint(object_id)
    else:
        raw = b"\x93\x00" + _pack_uint(repo_id) + _pack_uint(object_id)
    return f"{prefix}_{base64.urlsafe_b64encode(raw).decode().rstrip('=')}"


def legacy_node_id(type_code: str, type_name: str, object_id: int) -> str:
    """GitHub's older node id, base64(``04:User10137``), as still used for old accounts."""
    return base64.b64encode(f"{type_code}:{type_name}{object_id}".encode()).decode()


# --------------------------------------------------------------------------------------------------- content

_SENTENCES = (
    "Fix the off-by-one error in the pagination cursor.",
    "Refactor the sync loop so it can resume after a crash.",
    "Add tests for the webhook signature check.",
    "Bump the minimum Python version to 3.11.",
    "This change is backwards compatible 🎉",
    "Works on my machine 🤷‍♀️ but CI disagrees 🔥",
    "修正しました。ページ送りのバグを直します。",
    "修复了分页游标中的一个错误。",
    "버그를 수정했습니다 👍",
    "إصلاح خطأ في تحليل التواريخ",
    "תיקון באג בעימוד התוצאות",
    "Ünïcödé nörmälïzätïön: café vs cafe\u0301.",
    "See #12 and https://example.com/docs for details.",
    "```python\nprint('hello 🐍')\n```",
    "LGTM, one nit below.",
    "Could you rebase on main?",
    "Zero-width joiner test: 👨‍👩‍👧‍👦 and flags 🇯🇵🇮🇱.",
)
_TITLES = (
    "Fix pagination cursor",
    "Add retry to the GitHub client",
    "Refactor sync loop",
    "Docs: clarify setup",
    "ドキュメントを更新",
    "修复分页问题",
    "تحسين الأداء",
    "Speed up ingest 🚀",
    "Handle deleted users",
    "Support discussions",
    "Chore: tidy imports",
    "WIP: new storage layer",
)
_NAMES = (
    "Ada Lovelace",
    "Grace Hopper",
    "山田 太郎",
    "李小龙",
    "محمد علي",
    "דוד לוי",
    "José Álvarez",
    "Zoë Ødegård",
    "Ngozi Okafor",
    None,
)
_LABELS = (
    "bug",
    "enhancement",
    "documentation",
    "🐛 bug",
    "good first issue",
    "ドキュメント",
    "dependencies",
    "wontfix",
)
_PATHS = (
    "src/app/main.py",
    "src/app/sync.py",
    "src/app/client.py",
    "tests/test_sync.py",
    "docs/index.md",
    "README.md",
    "docs/日本語.md",
    "package.json",
    ".github/workflows/ci.yml",
)
_LANGUAGES = ("Python", "TypeScript", "Go", "Rust", None)
_TOPICS = ("github", "sync", "analytics", "python", "aws")
_PACKAGES = ("lodash", "requests", "boto3", "pydantic", "react", "urllib3")
_CATEGORIES = (
    ("Announcements", "Updates from maintainers", ":mega:", False),
    ("General", "Chat about anything and everything here", ":speech_balloon:", False),
    ("Ideas", "Share ideas for new features", ":bulb:", False),
    ("Q&A", "Ask the community for help", ":pray:", True),
    ("Show and tell", "Show off something you've made", ":raised_hands:", False),
)
_LONG_FILLER = ("Long log output 📜 ログ 日志 سجل — " + "x" * 60 + "\n") * (LONG_BODY_MIN // 80 + 200)


def _body(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.08:
        return ""
    if roll < 0.6:
        return rng.choice(_SENTENCES)
    return f"{rng.choice(_SENTENCES)}\n\n{rng.choice(_SENTENCES)}"


def _sha(rng: random.Random) -> str:
    return f"{rng.getrandbits(160):040x}"


def _hunk(path: str, line: int) -> str:
    return f"@@ -{line},3 +{line},4 @@\n context in {path}\n-old line\n+new line\n+another line"


# --------------------------------------------------------------------------------------------------- dataset


@dataclass
class Dataset:
    seed: int
    now: datetime
    users: dict[int, User] = field(default_factory=dict)
    repos: dict[int, Repository] = field(default_factory=dict)
    prs: dict[int, PullRequest] = field(default_factory=dict)
    reviews: dict[int, Review] = field(default_factory=dict)
    review_comments: dict[int, ReviewComment] = field(default_factory=dict)
    issue_comments: dict[int, IssueComment] = field(default_factory=dict)
    issues: dict[int, Issue] = field(default_factory=dict)
    discussions: dict[int, Discussion] = field(default_factory=dict)
    categories_by_repo: dict[int, list[DiscussionCategory]] = field(default_factory=dict)
    # Indexes (lists sorted by number / by creation).
    repo_by_name: dict[str, Repository] = field(default_factory=dict)
    prs_by_repo: dict[int, list[PullRequest]] = field(default_factory=dict)
    issues_by_repo: dict[int, list[Issue]] = field(default_factory=dict)
    discussions_by_repo: dict[int, list[Discussion]] = field(default_factory=dict)
    pr_by_number: dict[tuple[int, int], PullRequest] = field(default_factory=dict)
    issue_by_number: dict[tuple[int, int], Issue] = field(default_factory=dict)
    reviews_by_pr: dict[int, list[Review]] = field(default_factory=dict)
    review_comments_by_pr: dict[int, list[ReviewComment]] = field(default_factory=dict)
    issue_comments_by_number: dict[tuple[int, int], list[IssueComment]] = field(default_factory=dict)
    user_by_login: dict[str, User] = field(default_factory=dict)
    user_by_node_id: dict[str, User] = field(default_factory=dict)
    humans: list[int] = field(default_factory=list)
    next_number: dict[int, int] = field(default_factory=dict)
    _counters: dict[str, int] = field(default_factory=dict)

    # ----------------------------------------------------------------------------------------------- helpers

    def _next_id(self, kind: str, base: int) -> int:
        value = self._counters.get(kind, base) + 1
        self._counters[kind] = value
        return value

    def add_user(self, user: User) -> None:
        self.users[user.id] = user
        self.user_by_login[user.login] = user
        self.user_by_node_id[user.node_id] = user

    def requested_reviewers(self, pr: PullRequest) -> list[User]:
        """Who a pull request waits on: for one open pull request in three, a person picked from its id,
        unless that is its author or has reviewed it (GitHub drops a request once it is answered)."""
        if pr.state != "OPEN" or pr.id % 3 or not self.humans:
            return []
        person = self.users[self.humans[pr.id * 13 % len(self.humans)]]
        answered = {r.author_id for r in self.reviews_by_pr.get(pr.id, [])}
        return [] if person.id == pr.author_id or person.id in answered else [person]

    def _pick_author(self, rng: random.Random) -> int:
        roll = rng.random()
        if roll < 0.01:
            return GHOST_ID
        return self.humans[int(roll * len(self.humans)) % len(self.humans)]

    def _add_pr(self, pr: PullRequest) -> None:
        self.prs[pr.id] = pr
        self.prs_by_repo.setdefault(pr.repo_id, []).append(pr)
        self.pr_by_number[(pr.repo_id, pr.number)] = pr
        self.reviews_by_pr.setdefault(pr.id, [])
        self.review_comments_by_pr.setdefault(pr.id, [])

    def _add_issue_comment(self, comment: IssueComment) -> None:
        self.issue_comments[comment.id] = comment
        key = (comment.repo_id, comment.issue_or_pr_number)
        self.issue_comments_by_number.setdefault(key, []).append(comment)

    def _new_review(
        self, pr: PullRequest, rng: random.Random, author_id: int, at: datetime, state: ReviewState
    ) -> Review:
        rid = self._next_id("review", _REVIEW_ID_BASE)
        review = Review(rid, node_id("PRR", rid, pr.repo_id), pr.id, author_id, state, _body(rng), at, pr.head_sha)
        self.reviews[rid] = review
        self.reviews_by_pr[pr.id].append(review)
        return review

    def _new_review_comment(
        self,
        pr: PullRequest,
        review: Review,
        author_id: int,
        at: datetime,
        reply_to: ReviewComment | None,
        rng: random.Random,
    ) -> ReviewComment:
        cid = self._next_id("review_comment", _REVIEW_COMMENT_ID_BASE)
        if reply_to is not None:
            path, position, original, hunk = (
                reply_to.path,
                reply_to.position,
                reply_to.original_position,
                reply_to.diff_hunk,
            )
        else:
            path = pr.files[int(rng.random() * len(pr.files))].path
            original = 1 + int(rng.random() * 40)
            position = None if rng.random() < 0.15 else original
            hunk = _hunk(path, original)
        comment = ReviewComment(
            cid,
            node_id("PRRC", cid, pr.repo_id),
            pr.id,
            review.id,
            author_id,
            _body(rng) or "👍",
            path,
            position,
            original,
            hunk,
            pr.head_sha,
            pr.head_sha,
            reply_to.id if reply_to is not None else None,
            at,
            at,
        )
        self.review_comments[cid] = comment
        self.review_comments_by_pr[pr.id].append(comment)
        return comment

    # ----------------------------------------------------------------------------------------------- mutations

    def open_pr(self, repo_id: int, rng: random.Random, now: datetime) -> PullRequest:
        """Open a new pull request in ``repo_id`` with the repository's next issue/PR number."""
        repo = self.repos[repo_id]
        number = self.next_number[repo_id]
        self.next_number[repo_id] = number + 1
        pid = self._next_id("pr", _PR_ID_BASE)
        at = max(now, repo.created_at)
        path = rng.choice(_PATHS)
        adds, dels = 1 + rng.randrange(200), rng.randrange(100)
        pr = PullRequest(
            pid,
            node_id("PR", pid, repo_id),
            number,
            repo_id,
            rng.choice(self.humans),
            rng.choice(_TITLES),
            _body(rng),
            "OPEN",
            rng.random() < 0.2,
            at,
            at,
            None,
            None,
            None,
            adds,
            dels,
            1,
            1 + rng.randrange(5),
            repo.default_branch,
            f"feature/change-{number}",
            _sha(rng),
            [],
            [ChangedFile(path, adds, dels, "MODIFIED")],
        )
        self._add_pr(pr)
        repo.updated_at = max(repo.updated_at, at)
        repo.pushed_at = max(repo.pushed_at, at)
        return pr

    def edit_pr(self, pr_id: int, now: datetime, *, body: str | None = None) -> PullRequest:
        """Edit the title and body (as a user would; ``body`` replaces it) and bump ``updated_at``."""
        pr = self.prs[pr_id]
        pr.title = pr.title.removesuffix(" (edited)") + " (edited)"
        pr.body = f"{pr.body}\n\nEdited at {now.isoformat()} ✏️" if body is None else body
        pr.updated_at = max(now, pr.updated_at)
        return pr

    def add_review(self, pr_id: int, rng: random.Random, now: datetime) -> Review:
        """Submit a review (with one inline comment) on the pull request's head commit."""
        pr = self.prs[pr_id]
        at = max(now, pr.updated_at)
        state: ReviewState = rng.choice(("APPROVED", "CHANGES_REQUESTED", "COMMENTED"))
        author = rng.choice([h for h in self.humans[:50] if h != pr.author_id] or self.humans)
        review = self._new_review(pr, rng, author, at, state)
        self._new_review_comment(pr, review, author, at, None, rng)
        pr.updated_at = at
        return review

    def close_pr(self, pr_id: int, now: datetime, merge: bool) -> PullRequest:
        """Close (or merge) an open pull request; raises ``ValueError`` if it is not open."""
        pr = self.prs[pr_id]
        if pr.state != "OPEN":
            raise ValueError(f"pull request {pr_id} is {pr.state}, not OPEN")
        at = max(now, pr.updated_at)
        pr.closed_at = at
        pr.updated_at = at
        if merge:
            pr.state = "MERGED"
            pr.draft = False
            pr.merged_at = at
            pr.merged_by_id = self.humans[0]
        else:
            pr.state = "CLOSED"
        return pr

    def add_issue_comment(self, repo_id: int, number: int, rng: random.Random, now: datetime) -> IssueComment:
        """Comment on issue or pull request ``number``; bumps its ``updated_at``."""
        key = (repo_id, number)
        parent: PullRequest | Issue | None = self.pr_by_number.get(key) or self.issue_by_number.get(key)
        if parent is None:
            raise KeyError(f"no issue or pull request #{number} in repository {repo_id}")
        at = max(now, parent.updated_at)
        cid = self._next_id("issue_comment", _ISSUE_COMMENT_ID_BASE)
        comment = IssueComment(cid, node_id("IC", cid, repo_id), number, repo_id, key in self.pr_by_number,
                               rng.choice(self.humans), _body(rng) or "+1", at, at)
        self._add_issue_comment(comment)
        parent.updated_at = at
        return comment

    def open_issue(self, repo_id: int, rng: random.Random, now: datetime) -> Issue:
        """Open an issue with the repository's next issue/PR number."""
        repo = self.repos[repo_id]
        number = self.next_number[repo_id]
        self.next_number[repo_id] = number + 1
        iid = self._next_id("issue", _ISSUE_ID_BASE)
        at = max(now, repo.created_at)
        issue = Issue(iid, node_id("I", iid, repo_id), number, repo_id, rng.choice(self.humans),
                      f"{rng.choice(_TITLES)} — issue {number}", _body(rng), "OPEN", None, [], [], at, at, None, False)
        self.issues[iid] = issue
        self.issues_by_repo.setdefault(repo_id, []).append(issue)
        self.issue_by_number[(repo_id, number)] = issue
        return issue

    def delete_issue_comment(self, comment_id: int, now: datetime | None = None) -> IssueComment:
        """Delete an issue comment; with ``now`` the parent issue or pull request's ``updated_at`` is bumped."""
        comment = self.issue_comments.pop(comment_id)
        key = (comment.repo_id, comment.issue_or_pr_number)
        self.issue_comments_by_number[key].remove(comment)
        if now is not None:
            parent: PullRequest | Issue | None = self.pr_by_number.get(key) or self.issue_by_number.get(key)
            if parent is not None:
                parent.updated_at = max(now, parent.updated_at)
        return comment


# --------------------------------------------------------------------------------------------------- generate


def _make_users(ds: Dataset, rng: random.Random, count: int, org: str) -> User:
    now = ds.now
    ds.add_user(
        User(
            GHOST_ID,
            "ghost",
            legacy_node_id("04", "User", GHOST_ID),
            "User",
            "Deleted user",
            None,
            f"https://avatars.githubusercontent.com/u/{GHOST_ID}?v=4",
            datetime(2008, 5, 13, tzinfo=UTC),
        )
    )
    for bot_id, login, app in ((DEPENDABOT_ID, "dependabot[bot]", 29110), (RENOVATE_ID, "renovate[bot]", 2740)):
        ds.add_user(
            User(
                bot_id,
                login,
                legacy_node_id("03", "Bot", bot_id),
                "Bot",
                None,
                None,
                f"https://avatars.githubusercontent.com/in/{app}?v=4",
                datetime(2017, 5, 26, tzinfo=UTC),
            )
        )
    org_id = _USER_ID_BASE
    org_user = User(
        org_id,
        org,
        node_id("O", org_id),
        "Organization",
        org.capitalize(),
        None,
        f"https://avatars.githubusercontent.com/u/{org_id}?v=4",
        now - timedelta(days=3650),
    )
    ds.add_user(org_user)
    for i in range(count):
        uid = _USER_ID_BASE + 1 + i * 7
        name = _NAMES[i % len(_NAMES)]
        ds.add_user(
            User(
                uid,
                f"dev-{i:05d}",
                node_id("U", uid),
                "User",
                name,
                f"dev-{i:05d}@users.noreply.github.com" if i % 3 else None,
                f"https://avatars.githubusercontent.com/u/{uid}?v=4",
                now - timedelta(days=400 + rng.randrange(4000)),
                # profile counts from the id, not the generator, so adding them changed no other value
                followers=uid * 7919 % 2000, following=uid * 104729 % 300, public_repos=uid * 31 % 80,
            )
        )
        ds.humans.append(uid)
    return org_user


def _pr_author(ds: Dataset, rng: random.Random, ordinal: int) -> int:
    if ordinal < 3:
        return (DEPENDABOT_ID, RENOVATE_ID, GHOST_ID)[ordinal]
    roll = rng.random()
    if roll < 0.06:
        return DEPENDABOT_ID
    if roll < 0.09:
        return RENOVATE_ID
    return ds._pick_author(rng)


def _gen_pr(
    ds: Dataset, rng: random.Random, repo: Repository, number: int, created: datetime, ordinal: int, global_ordinal: int
) -> None:
    now = ds.now
    author = _pr_author(ds, rng, ordinal)
    end = min(now, created + timedelta(seconds=60 + int(rng.random() * 20 * 86400)))
    roll = rng.random()
    state: PRState = "MERGED" if roll < 0.6 else "CLOSED" if roll < 0.75 else "OPEN"
    if author in (DEPENDABOT_ID, RENOVATE_ID):
        pkg = _PACKAGES[number % len(_PACKAGES)]
        title = f"Bump {pkg} from 1.{number % 9}.0 to 1.{number % 9 + 1}.0"
        head_ref = f"{'dependabot/pip' if author == DEPENDABOT_ID else 'renovate'}/{pkg}-1.{number % 9 + 1}.0"
        body = f"Bumps {pkg}. Dependabot will resolve any conflicts with this PR as long as you don't alter it."
        files = [ChangedFile("requirements.txt", 1, 1, "MODIFIED")]
    else:
        title = f"{_TITLES[int(rng.random() * len(_TITLES))]} (#{number})"
        head_ref = f"feature/{number}"
        body = _body(rng)
        files = [
            ChangedFile(
                _PATHS[(number + k) % len(_PATHS)],
                1 + int(rng.random() * 120),
                int(rng.random() * 60),
                "ADDED" if k == 2 else "MODIFIED",
            )
            for k in range(1 + int(rng.random() * 4))
        ]
    if global_ordinal % LONG_BODY_EVERY == LONG_BODY_EVERY // 2:
        body = f"{body}\n\n<details><summary>Full log</summary>\n\n{_LONG_FILLER}</details>"
    pid = ds._next_id("pr", _PR_ID_BASE)
    sha = _sha(rng)
    pr = PullRequest(
        pid,
        node_id("PR", pid, repo.id),
        number,
        repo.id,
        author,
        title,
        body,
        state,
        state == "OPEN" and rng.random() < 0.15,
        created,
        end,
        end if state != "OPEN" else None,
        end if state == "MERGED" else None,
        ds.humans[number % min(5, len(ds.humans))] if state == "MERGED" else None,
        sum(f.additions for f in files),
        sum(f.deletions for f in files),
        len(files),
        1 + int(rng.random() * 8),
        repo.default_branch,
        head_ref,
        sha,
        [_LABELS[int(rng.random() * len(_LABELS))]] if rng.random() < 0.4 else [],
        files,
    )
    ds._add_pr(pr)
    span = (end - created).total_seconds()
    # Reviews and their comments.
    for _ in range(int(rng.random() * 5)):
        at = created + timedelta(seconds=int(rng.random() * span))
        reviewer = ds._pick_author(rng)
        r = rng.random()
        rstate: ReviewState = (
            "APPROVED" if r < 0.45 else "COMMENTED" if r < 0.8 else "CHANGES_REQUESTED" if r < 0.95 else "DISMISSED"
        )
        review = ds._new_review(pr, rng, reviewer, at, rstate)
        previous: ReviewComment | None = None
        for _ in range(int(rng.random() * 3)):
            reply_to = previous if previous is not None and rng.random() < 0.4 else None
            previous = ds._new_review_comment(pr, review, reviewer, at, reply_to, rng)
    # Conversation comments.
    for _ in range(int(rng.random() * 4)):
        at = created + timedelta(seconds=int(rng.random() * span))
        cid = ds._next_id("issue_comment", _ISSUE_COMMENT_ID_BASE)
        ds._add_issue_comment(
            IssueComment(
                cid,
                node_id("IC", cid, repo.id),
                number,
                repo.id,
                True,
                ds._pick_author(rng),
                _body(rng) or "+1",
                at,
                at,
            )
        )


def _gen_issue(ds: Dataset, rng: random.Random, repo: Repository, number: int, created: datetime) -> None:
    end = min(ds.now, created + timedelta(seconds=60 + int(rng.random() * 60 * 86400)))
    closed = rng.random() < 0.55
    iid = ds._next_id("issue", _ISSUE_ID_BASE)
    assignees = [ds.humans[int(rng.random() * len(ds.humans))]] if rng.random() < 0.3 else []
    issue = Issue(
        iid,
        node_id("I", iid, repo.id),
        number,
        repo.id,
        ds._pick_author(rng),
        f"{_TITLES[int(rng.random() * len(_TITLES))]} — issue {number}",
        _body(rng),
        "CLOSED" if closed else "OPEN",
        ("COMPLETED" if rng.random() < 0.8 else "NOT_PLANNED") if closed else None,
        [_LABELS[int(rng.random() * len(_LABELS))]] if rng.random() < 0.5 else [],
        assignees,
        created,
        end,
        end if closed else None,
        rng.random() < 0.02,
    )
    ds.issues[iid] = issue
    ds.issues_by_repo[repo.id].append(issue)
    ds.issue_by_number[(repo.id, number)] = issue
    span = (end - created).total_seconds()
    for _ in range(int(rng.random() * 6)):
        at = created + timedelta(seconds=int(rng.random() * span))
        cid = ds._next_id("issue_comment", _ISSUE_COMMENT_ID_BASE)
        ds._add_issue_comment(
            IssueComment(
                cid,
                node_id("IC", cid, repo.id),
                number,
                repo.id,
                False,
                ds._pick_author(rng),
                _body(rng) or "Same here 🙏",
                at,
                at,
            )
        )


def _gen_discussions(ds: Dataset, rng: random.Random, repo: Repository) -> None:
    cats: list[DiscussionCategory] = []
    for name, description, emoji, answerable in _CATEGORIES:
        cid = ds._next_id("category", _CATEGORY_ID_BASE)
        cats.append(DiscussionCategory(cid, node_id("DIC", cid, repo.id), name, description, emoji, answerable))
    ds.categories_by_repo[repo.id] = cats
    ds.discussions_by_repo[repo.id] = []
    if not repo.has_discussions:
        return
    span = (ds.now - repo.created_at).total_seconds()
    for number in range(1, 1 + rng.randrange(41)):
        created = repo.created_at + timedelta(seconds=int(span * (number - rng.random()) / 41))
        updated = min(ds.now, created + timedelta(seconds=int(rng.random() * 30 * 86400)))
        cat = cats[int(rng.random() * len(cats))]
        comment_count = int(rng.random() * 12)
        answered = cat.is_answerable and comment_count > 0 and rng.random() < 0.6
        did = ds._next_id("discussion", _DISCUSSION_ID_BASE)
        discussion = Discussion(
            did,
            node_id("D", did, repo.id),
            number,
            repo.id,
            ds._pick_author(rng),
            f"{cat.name}: {_TITLES[int(rng.random() * len(_TITLES))]}",
            _body(rng),
            cat,
            created,
            updated,
            rng.random() < 0.03,
            int(rng.random() * 30),
            ds._next_id("discussion_comment", _DISCUSSION_COMMENT_ID_BASE) if answered else None,
            updated if answered else None,
            ds.humans[0] if answered else None,
            comment_count,
        )
        ds.discussions[did] = discussion
        ds.discussions_by_repo[repo.id].append(discussion)


@dataclass(frozen=True)
class RepoSpec:
    """One repository of a hand-laid organisation: its name, pull request count and discussions flag."""

    name: str
    prs: int
    discussions: bool


def generate(
    seed: int, *, repos: int = 1, prs_per_repo: int = 100, org: str = "simorg", now: datetime | None = None,
    layout: Sequence[RepoSpec] | None = None,
) -> Dataset:
    """Build the dataset; the same arguments always give the same result.

    Without ``layout`` there are ``repos`` repositories ``repo-0``… of ``prs_per_repo`` pull requests each,
    every third one without discussions; ``layout`` names each repository and sets its size instead."""
    specs = list(layout) if layout is not None else [
        RepoSpec(f"repo-{i}", prs_per_repo, i % 3 != 1) for i in range(repos)]
    if not specs or min(s.prs for s in specs) < 1:
        raise ValueError("repos and prs_per_repo must be at least 1")
    now = now or DEFAULT_NOW
    rng = random.Random(seed)
    ds = Dataset(seed=seed, now=now)
    org_user = _make_users(ds, rng, max(10, min(3000, sum(s.prs for s in specs) // 10)), org)
    global_ordinal = 0
    for index, spec in enumerate(specs):
        prs_per_repo = spec.prs
        rid = _REPO_ID_BASE + index * 13 + 1
        created = now - timedelta(days=200 + rng.randrange(2500))
        repo = Repository(
            rid,
            node_id("R", rid),
            org_user,
            spec.name,
            rng.choice(_SENTENCES),
            spec.discussions,
            rng.randrange(5000),
            rng.randrange(500),
            rng.randrange(200),
            created,
            created,
            created,
            "main",
            rng.choice(_LANGUAGES),
            rng.sample(_TOPICS, rng.randrange(len(_TOPICS))),
        )
        ds.repos[rid] = repo
        ds.repo_by_name[repo.full_name] = repo
        ds.prs_by_repo[rid] = []
        ds.issues_by_repo[rid] = []
        n_issues = max(1, prs_per_repo // 2 + rng.randrange(-(prs_per_repo // 10), prs_per_repo // 10 + 1))
        kinds = [True] * prs_per_repo + [False] * n_issues  # True: pull request
        rng.shuffle(kinds)
        total = len(kinds)
        span = (now - created).total_seconds() - 3600
        ordinal = 0
        for i, is_pr in enumerate(kinds):
            number = i + 1
            at = created + timedelta(seconds=int(span * (i + rng.random()) / total))
            if is_pr:
                _gen_pr(ds, rng, repo, number, at, ordinal, global_ordinal)
                ordinal += 1
                global_ordinal += 1
            else:
                _gen_issue(ds, rng, repo, number, at)
        ds.next_number[rid] = total + 1
        _gen_discussions(ds, rng, repo)
        last = max([p.updated_at for p in ds.prs_by_repo[rid]] + [created])
        repo.updated_at = last
        repo.pushed_at = last
    return ds


# --------------------------------------------------------------------------------------------------- export


def ground_truth(ds: Dataset) -> dict[str, Any]:
    """JSON-serialisable counts and number lists per repository (keyed by ``owner/name``)."""
    out: dict[str, Any] = {"seed": ds.seed, "now": ds.now.isoformat(), "repos": {}}
    comments_by_repo: dict[int, list[IssueComment]] = {}
    for comment in ds.issue_comments.values():
        comments_by_repo.setdefault(comment.repo_id, []).append(comment)
    for rid, repo in sorted(ds.repos.items()):
        prs = ds.prs_by_repo.get(rid, [])
        issues = ds.issues_by_repo.get(rid, [])
        by_state = {"OPEN": 0, "CLOSED": 0, "MERGED": 0}
        for pr in prs:
            by_state[pr.state] += 1
        reviews = [r for pr in prs for r in ds.reviews_by_pr.get(pr.id, [])]
        review_comments = [c for pr in prs for c in ds.review_comments_by_pr.get(pr.id, [])]
        comments = comments_by_repo.get(rid, [])
        discussions = ds.discussions_by_repo.get(rid, [])
        contributors = (
            {pr.author_id for pr in prs}
            | {r.author_id for r in reviews}
            | {c.author_id for c in review_comments}
            | {c.author_id for c in comments}
            | {i.author_id for i in issues}
        )
        out["repos"][repo.full_name] = {
            "id": rid,
            "has_discussions": repo.has_discussions,
            "pull_requests": {**by_state, "total": len(prs), "draft": sum(pr.draft for pr in prs)},
            "reviews": len(reviews),
            "review_comments": len(review_comments),
            "issue_comments": {
                "on_prs": sum(c.is_pr for c in comments),
                "on_issues": sum(not c.is_pr for c in comments),
            },
            "issues": {
                "OPEN": sum(i.state == "OPEN" for i in issues),
                "CLOSED": sum(i.state == "CLOSED" for i in issues),
                "total": len(issues),
            },
            "discussions": len(discussions),
            "distinct_pr_authors": len({ds.users[pr.author_id].login for pr in prs}),
            "distinct_contributors": len(contributors),
            "pr_numbers": [pr.number for pr in prs],
            "issue_numbers": [i.number for i in issues],
            "discussion_numbers": [d.number for d in discussions],
        }
    return out

"""A seeded, GitHub-shaped dataset for the workspace metrics engine, and an independent calculator.

``generate()`` builds plain Python objects: five repositories (four meant for workspaces and one that no
workspace links, whose rows must never count), ~40 contributors with bots, ~450 pull requests over the
400 days before ``AS_OF``, reviews (pending ones, self-reviews, bot reviews), issue and review
comments, issues (some without an author) and WatchEvent/ForkEvent rows. Random activity stays more
than an hour away from ``AS_OF``; the edge cases are placed by hand, exactly on window and day
boundaries (see ``_edges``). ``insert()`` writes them with plain SQL.

``expected_cache_rows`` / ``expected_history_rows`` / ``expected_totals`` compute every field of
``.local/notes/metrics_spec.md`` from those objects alone (no SQL): numerics come back exact
(``Fraction``), unrounded, so the test decides how to compare them with the engine's round(x, 2).
"""

from __future__ import annotations

import random
import statistics
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable

    import psycopg

AS_OF = datetime(2025, 3, 12, 15, 20, 30, tzinfo=UTC)  # a Wednesday afternoon: day D is a partial day
WINDOW_DAYS = {"7d": 7, "30d": 30, "90d": 90, "1y": 365, "all": None}
BOTS = ("dependabot[bot]", "renovate[bot]", "github-actions[bot]", "codecov[bot]")
REGULAR = (
    "alice", "bruno", "carmen", "dmitri", "elena", "farah", "goran", "hana", "ivan", "jonas", "kemal",
    "lucia", "mateo", "nadia", "oskar", "priya", "rafael", "sofia", "tomas", "ulrike", "viktor",
    "wanda", "xavier", "yara", "zeno", "amara",
)
# Contributors whose whole activity is placed by hand in _edges (none of it is random).
SPECIAL = ("nova", "orla", "pia", "quinn", "remy", "sage", "tove", "uma", "vera", "wren", "yuki")
REVIEW_STATES = ("APPROVED", "APPROVED", "CHANGES_REQUESTED", "COMMENTED", "COMMENTED", "DISMISSED")


@dataclass(frozen=True)
class Repo:
    id: uuid.UUID
    github_id: int
    owner: str
    name: str
    language: str | None
    stars: int
    forks: int
    watchers: int
    is_active: bool = True

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


@dataclass(frozen=True)
class Contributor:
    id: uuid.UUID
    github_id: int
    username: str
    is_bot: bool

    @property
    def avatar_url(self) -> str:
        return f"https://avatars.githubusercontent.com/u/{self.github_id}?v=4"


@dataclass(frozen=True)
class PullRequest:
    id: uuid.UUID
    github_id: int
    repository_id: uuid.UUID
    number: int
    author_id: uuid.UUID
    state: str
    draft: bool
    created_at: datetime
    merged_at: datetime | None
    closed_at: datetime | None
    commits: int


@dataclass(frozen=True)
class Review:
    id: uuid.UUID
    github_id: int
    pull_request_id: uuid.UUID
    repository_id: uuid.UUID
    author_id: uuid.UUID
    state: str
    submitted_at: datetime | None


@dataclass(frozen=True)
class Comment:
    id: uuid.UUID
    github_id: int
    repository_id: uuid.UUID
    pull_request_id: uuid.UUID | None
    issue_id: uuid.UUID | None
    commenter_id: uuid.UUID
    comment_type: str
    created_at: datetime


@dataclass(frozen=True)
class Issue:
    id: uuid.UUID
    github_id: int
    repository_id: uuid.UUID
    number: int
    author_id: uuid.UUID | None
    state: str
    created_at: datetime
    closed_at: datetime | None


@dataclass(frozen=True)
class Event:
    event_id: str
    event_type: str
    actor_login: str
    owner: str
    name: str
    created_at: datetime


@dataclass
class Dataset:
    as_of: datetime
    repos: list[Repo] = field(default_factory=list)
    contributors: list[Contributor] = field(default_factory=list)
    pull_requests: list[PullRequest] = field(default_factory=list)
    reviews: list[Review] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)

    def repo(self, full_name: str) -> Repo:
        return next(r for r in self.repos if r.full_name == full_name)

    def user(self, username: str) -> Contributor:
        return next(c for c in self.contributors if c.username == username)

    def repo_ids(self, *full_names: str) -> set[uuid.UUID]:
        return {self.repo(n).id for n in full_names}


# -- generation -------------------------------------------------------------------------------------------


class _Builder:
    def __init__(self, seed: int, as_of: datetime) -> None:
        self.rng = random.Random(seed)
        self.t = as_of
        self.ds = Dataset(as_of=as_of)
        self.github_ids = Counter[str]()
        self.numbers = Counter[uuid.UUID]()
        self.start: dict[uuid.UUID, datetime] = {}  # regular humans: active from start to end
        self.end: dict[uuid.UUID, datetime] = {}
        self.weight: dict[uuid.UUID, float] = {}
        self.homes: dict[uuid.UUID, list[uuid.UUID]] = {}
        self.regulars: list[Contributor] = []

    def uid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def gid(self, kind: str, base: int) -> int:
        self.github_ids[kind] += 1
        return base + self.github_ids[kind]

    def number(self, repo_id: uuid.UUID) -> int:
        self.numbers[repo_id] += 1
        return self.numbers[repo_id]

    def ago(self, lo_days: float, hi_days: float) -> datetime:
        """A whole-second time in [t - hi_days, t - lo_days)."""
        lo, hi = int(lo_days * 86400), int(hi_days * 86400)
        return self.t - timedelta(seconds=self.rng.randrange(lo + 1, hi + 1))

    def later(self, ts: datetime, mean_hours: float, min_minutes: int = 5) -> datetime:
        seconds = int(self.rng.expovariate(1 / (mean_hours * 3600))) + min_minutes * 60
        return ts + timedelta(seconds=seconds)

    # -- objects
    def add_pr(self, repo: Repo, author: Contributor, created: datetime, state: str, *,
               merged_at: datetime | None = None, closed_at: datetime | None = None,
               draft: bool = False, commits: int | None = None) -> PullRequest:
        if state == "merged":
            closed_at = merged_at
        pr = PullRequest(self.uid(), self.gid("pr", 900_000_000), repo.id, self.number(repo.id), author.id,
                         state, draft, created, merged_at, closed_at,
                         self.rng.randint(1, 14) if commits is None else commits)
        self.ds.pull_requests.append(pr)
        return pr

    def add_review(self, pr: PullRequest, author: Contributor, state: str, submitted: datetime | None) -> Review:
        review = Review(self.uid(), self.gid("review", 700_000_000), pr.id, pr.repository_id, author.id, state,
                        submitted)
        self.ds.reviews.append(review)
        return review

    def add_comment(self, on: PullRequest | Issue, author: Contributor, created: datetime,
                    comment_type: str = "issue_comment") -> Comment:
        is_pr = isinstance(on, PullRequest)
        comment = Comment(self.uid(), self.gid("comment", 500_000_000), on.repository_id,
                          on.id if is_pr else None, None if is_pr else on.id, author.id, comment_type, created)
        self.ds.comments.append(comment)
        return comment

    def add_issue(self, repo: Repo, author: Contributor | None, created: datetime, state: str,
                  closed_at: datetime | None = None) -> Issue:
        issue = Issue(self.uid(), self.gid("issue", 300_000_000), repo.id, self.number(repo.id),
                      author.id if author else None, state, created, closed_at)
        self.ds.issues.append(issue)
        return issue

    def add_event(self, event_type: str, repo: Repo, created: datetime, actor: str = "stargazer") -> None:
        self.ds.events.append(Event(f"{self.gid('event', 40_000_000_000)}", event_type, actor, repo.owner,
                                    repo.name, created))

    # -- people
    def human(self, repo: Repo, at: datetime, exclude: uuid.UUID | None = None) -> Contributor | None:
        pool = [c for c in self.regulars if self.start[c.id] <= at < self.end[c.id] and c.id != exclude]
        pool = [c for c in pool if repo.id in self.homes[c.id]] or pool
        return self.rng.choices(pool, [self.weight[c.id] for c in pool])[0] if pool else None

    def bot(self, *names: str) -> Contributor:
        return self.ds.user(self.rng.choice(names))


def generate(seed: int = 8, as_of: datetime = AS_OF) -> Dataset:
    b = _Builder(seed, as_of)
    ds, rng = b.ds, b.rng
    for owner, name, language, is_active in (
        ("acme", "api", "Python", True), ("acme", "web", "TypeScript", True), ("acme", "docs", None, False),
        ("tools", "cli", "Python", True), ("zeta", "other", "Go", True),
    ):
        ds.repos.append(Repo(b.uid(), b.gid("repo", 100_000), owner, name, language, rng.randint(50, 4000),
                             rng.randint(5, 600), rng.randint(5, 300), is_active))
    for username in (*REGULAR, *SPECIAL, *BOTS):
        ds.contributors.append(Contributor(b.uid(), b.gid("user", 10_000), username, username.endswith("[bot]")))
    b.regulars = [ds.user(u) for u in REGULAR]
    for i, c in enumerate(b.regulars):  # 12 from the start, then joining over time, 3 in the last 30 days;
        days = 400 if i < 12 else (rng.uniform(30, 380) if i < 23 else rng.uniform(8, 29))  # 7 who left
        b.start[c.id] = as_of - timedelta(days=days)
        left = i % 4 == 1 and i < 23
        b.end[c.id] = as_of - timedelta(days=rng.uniform(20, days - 5)) if left else datetime.max.replace(tzinfo=UTC)
        b.weight[c.id] = rng.choice((0.3, 0.5, 1, 1, 2, 4))
        b.homes[c.id] = rng.sample([r.id for r in ds.repos], rng.randint(1, 3))

    weights = (5, 4, 1, 3, 1)
    recent = [b.ago(1 / 24, 14) for _ in range(40)]
    for created in sorted([b.ago(1 / 24, 400) for _ in range(400)] + recent):
        _random_pr(b, rng.choices(ds.repos, weights)[0], created)
    for created in sorted(b.ago(1 / 24, 400) for _ in range(170)):
        _random_issue(b, rng.choices(ds.repos, weights)[0], created)
    for _ in range(150):  # stars only between t-300d and t-14d: 7d compares 0 with 0, 1y has 0 before
        b.add_event("WatchEvent", rng.choice(ds.repos), b.ago(14, 300), actor=f"fan{rng.randrange(10**6)}")
    for _ in range(40):
        b.add_event("ForkEvent", rng.choice(ds.repos), b.ago(1 / 24, 400), actor=f"forker{rng.randrange(10**6)}")
    _edges(b)
    return ds


def _random_pr(b: _Builder, repo: Repo, created: datetime) -> None:
    rng = b.rng
    author = b.bot("dependabot[bot]", "renovate[bot]") if rng.random() < 0.15 else b.human(repo, created)
    author = author or b.bot("dependabot[bot]")
    roll = rng.random()
    age_days = (b.t - created).days
    if roll < (0.45 if age_days < 14 else 0.1):
        pr = b.add_pr(repo, author, created, "open", draft=rng.random() < 0.3)
    elif roll < 0.8:
        pr = b.add_pr(repo, author, created, "merged", merged_at=b.later(created, 40, 10))
    else:
        pr = b.add_pr(repo, author, created, "closed", closed_at=b.later(created, 90),
                      draft=rng.random() < 0.15)
    end = pr.closed_at
    for _ in range(rng.choice((0, 0, 1, 1, 1, 2, 2, 3))):
        submitted = b.later(created, 20)
        if end and submitted > end:
            submitted = created + (end - created) * rng.uniform(0.2, 0.95)
            submitted = submitted.replace(microsecond=0)
        roll = rng.random()
        if roll < 0.06:
            b.add_review(pr, b.human(repo, submitted) or author, "PENDING", None)
        elif roll < 0.14:
            b.add_review(pr, b.bot("github-actions[bot]", "codecov[bot]"), "COMMENTED", submitted)
        else:
            reviewer = b.human(repo, submitted, exclude=author.id)
            if reviewer:
                b.add_review(pr, reviewer, rng.choice(REVIEW_STATES), submitted)
    if not author.is_bot and rng.random() < 0.15:  # a self-review, early: the first review but not "first"
        b.add_review(pr, author, "COMMENTED", created + timedelta(seconds=rng.randint(60, 1800)))
    for _ in range(rng.choice((0, 0, 1, 1, 2, 3, 4))):
        at = b.later(created, 30, 1)
        who = b.bot("codecov[bot]", "github-actions[bot]") if rng.random() < 0.12 else b.human(repo, at)
        b.add_comment(pr, who or author, at, rng.choice(("issue_comment", "review_comment")))


def _random_issue(b: _Builder, repo: Repo, created: datetime) -> None:
    rng = b.rng
    roll = rng.random()
    author = None if roll < 0.15 else (b.bot("github-actions[bot]") if roll < 0.2 else b.human(repo, created))
    if rng.random() < 0.55:
        issue = b.add_issue(repo, author, created, "closed", closed_at=b.later(created, 200))
    else:
        issue = b.add_issue(repo, author, created, "open")
    for _ in range(rng.choice((0, 1, 1, 2, 3))):
        at = b.later(created, 48, 1)
        b.add_comment(issue, b.human(repo, at) or b.bot("github-actions[bot]"), at)


def _edges(b: _Builder) -> None:  # noqa: PLR0915 - one flat list of hand-placed rows
    """Rows exactly on the boundaries, and contributors whose first activity is placed precisely."""
    ds, t = b.ds, b.t
    day = datetime.combine(t.date(), datetime.min.time(), tzinfo=UTC)  # day D 00:00
    api, web, docs, cli, other = (ds.repo(n) for n in ("acme/api", "acme/web", "acme/docs", "tools/cli",
                                                        "zeta/other"))
    alice, bruno, carmen, dmitri = (ds.user(u) for u in ("alice", "bruno", "carmen", "dmitri"))
    u = ds.user
    # The 7d window's first instant (inside), and as_of itself (outside everything).
    b.add_pr(api, u("nova"), t - timedelta(days=7), "open")                        # nova's first activity
    at_t = b.add_pr(api, alice, t, "open")
    b.add_comment(at_t, bruno, t + timedelta(minutes=20))
    b.add_pr(web, bruno, t - timedelta(days=14), "merged", merged_at=t - timedelta(days=13, hours=5))
    b.add_issue(web, alice, t - timedelta(days=14, seconds=1), "open")  # one second before 7d's previous window
    # orla starts one second before the 7d window: new in 30d, active but not new in 7d.
    old_web = b.add_pr(web, carmen, t - timedelta(days=9), "merged", merged_at=t - timedelta(days=7, hours=2))
    b.add_comment(old_web, u("orla"), t - timedelta(days=7, seconds=1))
    b.add_pr(web, u("orla"), t - timedelta(days=2), "open", draft=True)
    # Day boundaries: D 00:00 is in D, not D-1; D-1 00:00 is in D-1.
    midnight = b.add_pr(docs, dmitri, day, "merged", merged_at=day + timedelta(hours=3))
    b.add_review(midnight, u("pia"), "APPROVED", day + timedelta(hours=2))
    d1 = b.add_pr(api, carmen, day - timedelta(days=1), "merged", merged_at=day)  # merged on D
    b.add_review(d1, u("pia"), "COMMENTED", day)                                   # pia's first: D 00:00
    b.add_review(d1, carmen, "COMMENTED", day - timedelta(days=1) + timedelta(minutes=5))  # self-review
    b.add_comment(d1, bruno, day, "review_comment")
    b.add_issue(docs, u("quinn"), day - timedelta(days=1), "open")                 # quinn's first: D-1 00:00
    b.add_issue(docs, u("quinn"), day + timedelta(hours=1), "closed", closed_at=day + timedelta(hours=2))
    # ISO week and month starts (timeline buckets).
    monday = day - timedelta(days=t.weekday())
    b.add_issue(api, alice, monday, "open")
    b.add_pr(cli, bruno, t.replace(day=1, hour=0, minute=0, second=0), "merged",
             merged_at=t.replace(day=1, hour=0, minute=0, second=0) + timedelta(hours=52, seconds=17))
    # Merged cohort boundaries: merged exactly at t-30d (in 30d), exactly at t (in none), after t.
    b.add_pr(api, dmitri, t - timedelta(days=32, minutes=7), "merged", merged_at=t - timedelta(days=30), commits=7)
    at_merge = b.add_pr(web, alice, t - timedelta(days=2), "merged", merged_at=t, commits=5)
    b.add_review(at_merge, carmen, "APPROVED", t)             # at t: no total_reviews, but reviews_per_pr
    b.add_pr(api, bruno, t - timedelta(days=3), "merged", merged_at=t + timedelta(hours=2), commits=3)
    # Legacy rows: GitHub's REST state 'closed' with merged_at set (the merged cohort reads merged_at).
    legacy = b.add_pr(web, carmen, t - timedelta(days=40), "closed", closed_at=t - timedelta(days=5),
                      commits=4)
    ds.pull_requests[-1] = legacy = replace(legacy, merged_at=t - timedelta(days=5))
    b.add_pr(api, dmitri, t - timedelta(days=5), "closed", closed_at=t - timedelta(days=4), draft=True)
    # Issues at t-90d exactly (inside 90d) and at t (outside); an authorless one as the very last row.
    b.add_issue(api, carmen, t - timedelta(days=90), "closed", closed_at=t - timedelta(days=80))
    b.add_issue(web, bruno, t, "open")
    b.add_issue(api, None, t - timedelta(seconds=30), "open")
    # remy: first workspace activity in tools/cli; new in 7d only for a workspace without tools/cli.
    remy_pr = b.add_pr(cli, u("remy"), t - timedelta(days=200), "merged", merged_at=t - timedelta(days=198))
    b.add_review(remy_pr, alice, "APPROVED", t - timedelta(days=199, hours=12))
    b.add_comment(legacy, u("remy"), t - timedelta(days=3))
    # sage: first ever activity in the repo no workspace links, then acme/web.
    outside = b.add_pr(other, alice, t - timedelta(days=101), "open")
    b.add_comment(outside, u("sage"), t - timedelta(days=100))
    b.add_pr(web, u("sage"), t - timedelta(days=2), "open")
    b.add_pr(other, u("tove"), t - timedelta(days=5), "open")                    # tove: outside only
    # vera: only pending reviews (with and without submitted_at): not a contributor.
    b.add_review(at_merge, u("vera"), "PENDING", None)
    b.add_review(at_merge, u("vera"), "PENDING", t - timedelta(days=1))
    # Late activity: yuki 10 minutes before t; then a bot PR and the authorless issue (above), which come
    # after every human activity before t, so neither may move last_activity_at.
    b.add_comment(old_web, u("yuki"), t - timedelta(minutes=10))
    b.add_pr(api, ds.user("dependabot[bot]"), t - timedelta(minutes=1), "open", commits=1)
    # After t: counted by the next day's run (D's window grows to D+1 00:00) and never at t.
    b.add_comment(at_t, u("wren"), t + timedelta(hours=1))                        # wren: new on D, next day
    b.add_pr(api, carmen, t + timedelta(hours=3), "open")
    b.add_issue(web, alice, day + timedelta(days=1), "open")                        # D+1 00:00
    b.add_review(at_t, bruno, "APPROVED", t + timedelta(days=1))                    # at the next as_of
    late = [p for p in ds.pull_requests if p.repository_id == api.id and p.state == "merged"
            and t - timedelta(days=300) < p.created_at < t - timedelta(days=100) and p.author_id != alice.id]
    for pr in late[:4]:  # post-merge reviews after t, on PRs of the 1y window only
        b.add_review(pr, alice, "COMMENTED", t + timedelta(hours=2))
    # Stars and forks on the boundaries; an outside repository's stars in 7d never count.
    b.add_event("WatchEvent", api, t - timedelta(days=30))
    b.add_event("WatchEvent", web, t)
    b.add_event("WatchEvent", other, t - timedelta(days=1))
    b.add_event("ForkEvent", web, t - timedelta(days=1))
    b.add_event("WatchEvent", cli, t + timedelta(hours=5))


# -- database ---------------------------------------------------------------------------------------------


def insert(conn: psycopg.Connection[Any], ds: Dataset) -> None:
    """Write the dataset with plain SQL, in one transaction."""
    full = {r.id: r.full_name for r in ds.repos}
    with conn.transaction(), conn.cursor() as cur:
        cur.executemany(
            """INSERT INTO repositories (id, github_id, full_name, owner, name, language, stargazers_count,
                                         forks_count, watchers_count, is_active)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
            [(r.id, r.github_id, r.full_name, r.owner, r.name, r.language, r.stars, r.forks, r.watchers,
              r.is_active) for r in ds.repos])
        cur.executemany(
            "INSERT INTO contributors (id, github_id, username, avatar_url, is_bot) VALUES (%s, %s, %s, %s, %s)",
            [(c.id, c.github_id, c.username, c.avatar_url, c.is_bot) for c in ds.contributors])
        cur.executemany(
            """INSERT INTO pull_requests (id, github_id, repository_id, repository_full_name, number, title, state,
                                          draft, merged, author_id, base_branch, head_branch, created_at,
                                          updated_at, merged_at, closed_at, commits)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 'main', %s, %s, %s, %s, %s, %s)""",
            [(p.id, p.github_id, p.repository_id, full[p.repository_id], p.number, f"Change {p.number}", p.state,
              p.draft, p.merged_at is not None, p.author_id, f"topic-{p.number}", p.created_at,
              max(x for x in (p.created_at, p.merged_at, p.closed_at) if x), p.merged_at, p.closed_at,
              p.commits) for p in ds.pull_requests])
        cur.executemany(
            """INSERT INTO issues (id, github_id, repository_id, number, title, state, author_id, created_at,
                                   updated_at, closed_at)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
            [(i.id, i.github_id, i.repository_id, i.number, f"Problem {i.number}", i.state, i.author_id,
              i.created_at, i.closed_at or i.created_at, i.closed_at) for i in ds.issues])
        cur.executemany(
            """INSERT INTO reviews (id, github_id, pull_request_id, repository_id, author_id, reviewer_id, state,
                                    submitted_at)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s)""",
            [(r.id, r.github_id, r.pull_request_id, r.repository_id, r.author_id, r.author_id, r.state,
              r.submitted_at) for r in ds.reviews])
        cur.executemany(
            """INSERT INTO comments (id, github_id, repository_id, pull_request_id, issue_id, commenter_id, body,
                                     comment_type, path, created_at, updated_at)
               VALUES (%s, %s, %s, %s, %s, %s, 'Looks good to me.', %s, %s, %s, %s)""",
            [(c.id, c.github_id, c.repository_id, c.pull_request_id, c.issue_id, c.commenter_id, c.comment_type,
              "README.md" if c.comment_type == "review_comment" else None,  # GitHub's always have a path
              c.created_at, c.created_at) for c in ds.comments])
        cur.executemany(
            """INSERT INTO github_events_cache (event_id, event_type, actor_login, repository_owner,
                                                repository_name, payload, created_at)
               VALUES (%s, %s, %s, %s, %s, '{}', %s)""",
            [(e.event_id, e.event_type, e.actor_login, e.owner, e.name, e.created_at) for e in ds.events])


def create_workspace(conn: psycopg.Connection[Any], slug: str, repo_ids: Iterable[uuid.UUID]) -> uuid.UUID:
    """A workspace linking ``repo_ids``."""
    with conn.transaction():
        row = conn.execute("INSERT INTO workspaces (name, slug) VALUES (%s, %s) RETURNING id",
                           (slug.title(), slug)).fetchone()
        assert row is not None
        workspace_id = uuid.UUID(str(row["id"] if isinstance(row, dict) else row[0]))
        for repo_id in repo_ids:
            conn.execute("INSERT INTO workspace_repositories (workspace_id, repository_id) VALUES (%s, %s)",
                         (workspace_id, repo_id))
    return workspace_id


# -- the independent calculator ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Activity:
    contributor_id: uuid.UUID
    at: datetime
    kind: str  # pull_requests | reviews | comments | issues
    repository_id: uuid.UUID


class _View:
    """The dataset seen by one workspace (its repositories) at one as_of."""

    def __init__(self, ds: Dataset, repo_ids: set[uuid.UUID], t: datetime) -> None:
        self.t = t
        self.repos = sorted((r for r in ds.repos if r.id in repo_ids), key=lambda r: r.full_name)
        self.users = {c.id: c for c in ds.contributors}
        self.prs = [p for p in ds.pull_requests if p.repository_id in repo_ids]
        self.issues = [i for i in ds.issues if i.repository_id in repo_ids]
        # "reviews" everywhere: state <> 'PENDING' and submitted_at not null
        self.reviews = [r for r in ds.reviews if r.repository_id in repo_ids and r.state != "PENDING"
                        and r.submitted_at is not None]
        names = {(r.owner, r.name) for r in self.repos}
        self.stars = [e.created_at for e in ds.events if e.event_type == "WatchEvent" and (e.owner, e.name) in names]
        self.reviews_by_pr: dict[uuid.UUID, list[Review]] = defaultdict(list)
        for r in self.reviews:  # reviews_per_pr and first review: only reviews submitted before as_of
            if r.submitted_at < t:  # type: ignore[operator]
                self.reviews_by_pr[r.pull_request_id].append(r)
        raw = ([Activity(p.author_id, p.created_at, "pull_requests", p.repository_id) for p in self.prs]
               + [Activity(r.author_id, r.submitted_at, "reviews", r.repository_id)  # type: ignore[arg-type]
                  for r in self.reviews]
               + [Activity(c.commenter_id, c.created_at, "comments", c.repository_id) for c in ds.comments
                  if c.repository_id in repo_ids]
               + [Activity(i.author_id, i.created_at, "issues", i.repository_id) for i in self.issues
                  if i.author_id is not None])
        self.activities = [a for a in raw if not self.users[a.contributor_id].is_bot and a.at < t]
        self.first: dict[uuid.UUID, datetime] = {}
        for a in self.activities:
            if a.contributor_id not in self.first or a.at < self.first[a.contributor_id]:
                self.first[a.contributor_id] = a.at


def _hours(later: datetime, earlier: datetime) -> Fraction:
    delta = later - earlier
    return Fraction(delta.days * 86400 + delta.seconds, 3600) + Fraction(delta.microseconds, 3600 * 10**6)


def _trend(cur: int, prev: int) -> Fraction:
    if prev == 0:
        return Fraction(100 if cur > 0 else 0)
    return Fraction(100 * (cur - prev), prev)


def _bucket(ts: datetime, time_range: str) -> str:
    d = ts.astimezone(UTC).date()
    if time_range == "1y":
        d -= timedelta(days=d.weekday())
    elif time_range == "all":
        d = d.replace(day=1)
    return d.isoformat()


class _Window:
    def __init__(self, start: datetime | None, end: datetime) -> None:
        self.start, self.end = start, end

    def __contains__(self, ts: datetime | None) -> bool:
        return ts is not None and (self.start is None or ts >= self.start) and ts < self.end


def _counts(v: _View, w: _Window) -> dict[str, Any]:
    prs = [p for p in v.prs if p.created_at in w]
    merged = [p for p in v.prs if p.merged_at in w]
    issues = [i for i in v.issues if i.created_at in w]
    active = {a.contributor_id for a in v.activities if a.at in w}
    return {"prs": prs, "merged": merged, "issues": issues, "active": active,
            "reviews": [r for r in v.reviews if r.submitted_at in w]}


def _cache_row(v: _View, time_range: str) -> dict[str, Any]:
    days, t = WINDOW_DAYS[time_range], v.t
    w = _Window(t - timedelta(days=days) if days else None, t)
    c = _counts(v, w)
    prs, merged, issues, active = c["prs"], c["merged"], c["issues"], c["active"]
    closed_issues = sum(i.state == "closed" for i in issues)
    firsts = []
    for p in prs:
        times = [r.submitted_at for r in v.reviews_by_pr[p.id] if r.author_id != p.author_id and r.submitted_at]
        if times:
            firsts.append(_hours(min(times), p.created_at))
    merge_hours = [_hours(p.merged_at, p.created_at) for p in merged if p.merged_at]
    row: dict[str, Any] = {
        "period_start": w.start, "period_end": t, "is_stale": False,
        "total_prs": len(prs), "open_prs": sum(p.state == "open" for p in prs),
        "merged_prs": sum(p.state == "merged" for p in prs), "closed_prs": sum(p.state == "closed" for p in prs),
        "draft_prs": sum(p.state == "open" and p.draft for p in prs),
        "total_issues": len(issues), "open_issues": sum(i.state == "open" for i in issues),
        "closed_issues": closed_issues,
        "issue_closure_rate": Fraction(100 * closed_issues, len(issues)) if issues else None,
        "total_reviews": len(c["reviews"]),
        "reviews_per_pr": (Fraction(sum(len(v.reviews_by_pr[p.id]) for p in prs), len(prs)) if prs else None),
        "avg_time_to_first_review_hours": sum(firsts) / len(firsts) if firsts else None,
        "avg_pr_merge_time_hours": sum(merge_hours) / len(merge_hours) if merge_hours else None,
        "median_pr_merge_time_hours": statistics.median(merge_hours) if merge_hours else None,
        "total_commits": sum(p.commits for p in merged),
        "pr_velocity": Fraction(len(merged), days) if days else None,
        "active_contributors": len(active),
        "total_contributors": len(v.first),
        "new_contributors": sum(v.first[cid] in w for cid in active),
        "total_stars": sum(r.stars for r in v.repos), "total_forks": sum(r.forks for r in v.repos),
        "total_watchers": sum(r.watchers for r in v.repos),
        "prs_trend": None, "issues_trend": None, "contributors_trend": None, "stars_trend": None,
        "top_contributors": _top(v, w),
        "repository_stats": _repository_stats(v, w),
        "activity_timeline": _timeline(v, w, c, time_range),
        "language_distribution": dict(Counter(r.language for r in v.repos if r.language)),
    }
    if days:
        pw = _Window(t - timedelta(days=2 * days), w.start)  # type: ignore[arg-type]
        p = _counts(v, pw)
        row["prs_trend"] = _trend(len(prs), len(p["prs"]))
        row["issues_trend"] = _trend(len(issues), len(p["issues"]))
        row["contributors_trend"] = _trend(len(active), len(p["active"]))
        row["stars_trend"] = _trend(sum(s in w for s in v.stars), sum(s in pw for s in v.stars))
    return row


def _top(v: _View, w: _Window) -> list[dict[str, Any]]:
    per: dict[uuid.UUID, Counter[str]] = defaultdict(Counter)
    for a in v.activities:
        if a.at in w:
            per[a.contributor_id][a.kind] += 1
    rows: list[dict[str, Any]] = [
        {"id": str(cid), "username": v.users[cid].username, "avatar_url": v.users[cid].avatar_url,
         **{k: n[k] for k in ("pull_requests", "reviews", "comments", "issues")}, "total": n.total()}
        for cid, n in per.items()]
    rows.sort(key=lambda r: (-r["total"], r["username"]))
    return rows[:10]


def _repository_stats(v: _View, w: _Window) -> list[dict[str, Any]]:
    out = []
    for repo in v.repos:
        prs = [p for p in v.prs if p.repository_id == repo.id and p.created_at in w]
        out.append({
            "repository_id": str(repo.id), "full_name": repo.full_name, "pull_requests": len(prs),
            "merged": sum(p.repository_id == repo.id and p.merged_at in w for p in v.prs),
            "open": sum(p.state == "open" for p in prs),
            "issues": sum(i.repository_id == repo.id and i.created_at in w for i in v.issues),
            "reviews": sum(r.repository_id == repo.id and r.submitted_at in w for r in v.reviews),
            "active_contributors": len({a.contributor_id for a in v.activities
                                        if a.repository_id == repo.id and a.at in w}),
            "stars": repo.stars, "forks": repo.forks,
        })
    return out


def _timeline(v: _View, w: _Window, c: dict[str, Any], time_range: str) -> list[dict[str, Any]]:
    buckets: dict[str, Counter[str]] = defaultdict(Counter)
    for p in c["prs"]:
        buckets[_bucket(p.created_at, time_range)]["pull_requests"] += 1
    for p in c["merged"]:
        buckets[_bucket(p.merged_at, time_range)]["merged"] += 1
    for i in c["issues"]:
        buckets[_bucket(i.created_at, time_range)]["issues"] += 1
    for r in c["reviews"]:
        buckets[_bucket(r.submitted_at, time_range)]["reviews"] += 1
    return [{"date": d, **{k: n[k] for k in ("pull_requests", "merged", "issues", "reviews")}}
            for d, n in sorted(buckets.items())]


def expected_cache_rows(ds: Dataset, repo_ids: set[uuid.UUID], as_of: datetime) -> dict[str, dict[str, Any]]:
    """Every spec'd column of the 5 workspace_metrics_cache rows, by time range."""
    view = _View(ds, repo_ids, as_of)
    return {tr: _cache_row(view, tr) for tr in WINDOW_DAYS}


def expected_history_rows(ds: Dataset, repo_ids: set[uuid.UUID], as_of: datetime) -> dict[date, dict[str, Any]]:
    """The rows for date(as_of) and the day before, as written by a run at as_of on a workspace without
    history (the day before gets no ``metrics`` key: the spec leaves a new row's jsonb open)."""
    v = _View(ds, repo_ids, as_of)
    cache = {tr: _cache_row(v, tr) for tr in ("7d", "30d", "90d", "all")}
    d0 = as_of.astimezone(UTC).date()
    out: dict[date, dict[str, Any]] = {}
    for d in (d0, d0 - timedelta(days=1)):
        start = datetime.combine(d, datetime.min.time(), tzinfo=UTC)
        w = _Window(start, min(start + timedelta(days=1), as_of))
        c = _counts(v, w)
        out[d] = {
            "daily_prs": len(c["prs"]), "daily_merged_prs": len(c["merged"]), "daily_issues": len(c["issues"]),
            "daily_reviews": len(c["reviews"]), "daily_commits": sum(p.commits for p in c["merged"]),
            "daily_active_contributors": len(c["active"]),
            "daily_new_contributors": sum(v.first[cid] in w for cid in c["active"]),
            "total_prs": sum(p.created_at < w.end for p in v.prs),
            "total_issues": sum(i.created_at < w.end for i in v.issues),
            "total_contributors": sum(f < w.end for f in v.first.values()),
            "total_stars": sum(r.stars for r in v.repos), "total_forks": sum(r.forks for r in v.repos),
        }
    out[d0]["metrics"] = {
        "as_of": as_of,
        "active_contributors_7d": cache["7d"]["active_contributors"],
        "active_contributors_30d": cache["30d"]["active_contributors"],
        "active_contributors_90d": cache["90d"]["active_contributors"],
        "open_prs": cache["all"]["open_prs"], "merged_prs": cache["all"]["merged_prs"],
        "closed_prs": cache["all"]["closed_prs"],
        "reviews_per_pr_30d": cache["30d"]["reviews_per_pr"],
        "avg_time_to_first_review_hours_30d": cache["30d"]["avg_time_to_first_review_hours"],
        "median_pr_merge_time_hours_30d": cache["30d"]["median_pr_merge_time_hours"],
    }
    return out


def expected_totals(ds: Dataset, repo_ids: set[uuid.UUID], as_of: datetime) -> dict[str, Any]:
    """The workspaces row's totals after a run at as_of."""
    v = _View(ds, repo_ids, as_of)
    return {
        "total_repositories": len(v.repos), "total_contributors": len(v.first),
        "total_pull_requests": sum(p.created_at < as_of for p in v.prs),
        "total_issues": sum(i.created_at < as_of for i in v.issues),
        "last_activity_at": max((a.at for a in v.activities), default=None),
    }

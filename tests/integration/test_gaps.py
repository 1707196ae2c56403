"""Progressive capture (``contribsync_ops.gaps``): ``find_gaps`` finds exactly the gaps planted in a fresh
database and nothing on a fully fresh repository; ``quick_fix`` sends exactly the events that close them,
valid for the catalog, once per gap and day; and the fixes close the gaps, the embeddings one by running
its service against the local OpenAI fake, every kind on the local stack against the GitHub simulator."""

from __future__ import annotations

import argparse
import io
import itertools
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from rich.console import Console

from contribsync import catalog
from contribsync.history import RunHistory
from contribsync.payloads import EmbeddingsRepository
from contribsync.queues import Queues
from contribsync.runtime import RunContext
from contribsync.services.embeddings import process_repository
from contribsync_cli.gaps import register
from contribsync_local.openai_fake import FakeOpenAI
from contribsync_local.stack import LocalStack
from contribsync_ops.gaps import PER_ITEM_CAP, find_gaps, quick_fix
from contribsync_sim.dataset import generate
from contribsync_sim.simulator import Simulator
from tests.fakes import clients

pytestmark = pytest.mark.integration

T = datetime(2026, 3, 1, 12, tzinfo=UTC)
W = T - timedelta(days=3)  # the stale repository's PR watermark
MODEL = "text-embedding-3-small"
TABLES = ("issues", "pull_requests", "discussions")


class RecordingQueues:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def send_event(self, name: str, data: dict[str, Any] | None = None, *, id: str | None = None) -> str:
        self.sent.append({"event": name, "data": dict(data or {}), "id": id})
        return id or str(uuid.uuid4())

    def send_events(self, events: list[dict[str, Any]]) -> list[str]:  # services' follow-ups (none expected)
        self.sent.extend(events)
        return [e.get("id") or "" for e in events]


class Plant:
    """Rows inserted directly, with their NOT NULL columns; every item is embedded fresh unless told."""

    def __init__(self, db) -> None:
        self.db = db
        self.ids = itertools.count(1000)
        self.author = self.sql("INSERT INTO contributors (github_id, username) VALUES (1, 'gap-author') "
                               "RETURNING id")[0]["id"]

    def sql(self, query: str, *params: object) -> list[dict[str, Any]]:
        cur = self.db.connection().execute(query, params)
        return cur.fetchall() if cur.description else []

    def repo(self, name: str, *, tracked: bool = True, synced: datetime | None = None,
             watermark: datetime | None = None, issues_through: datetime | None = None,
             discussions: bool = False, archived: bool = False) -> str:
        rid = str(self.sql("""INSERT INTO repositories (github_id, full_name, owner, name, last_synced_at,
                                  prs_synced_through, issues_synced_through, has_discussions, is_archived,
                                  github_created_at)
                              VALUES (%s, %s, 'acme', %s, %s, %s, %s, %s, %s, %s) RETURNING id""",
                           next(self.ids), f"acme/{name}", name, synced, watermark, issues_through, discussions,
                           archived, T - timedelta(days=400))[0]["id"])
        if tracked:
            self.db.query("tracked_repository_add", {"repository_id": rid, "owner": "acme", "name": name})
        return rid

    def pr(self, repo: str, number: int, updated: datetime, *, state: str = "closed", changes: int = 10,
           draft: bool = False, commits: int = 1) -> str:
        return str(self.sql(
            """INSERT INTO pull_requests (github_id, repository_id, repository_full_name, number, title, state,
                   draft, merged, author_id, base_branch, head_branch, created_at, updated_at, merged_at, closed_at,
                   additions, deletions, changed_files, commits)
               VALUES (%s, %s, 'acme/x', %s, %s, %s, %s, %s, %s, 'main', 'topic', %s, %s, %s, %s, %s, %s, %s, %s)
               RETURNING id""",
            next(self.ids), repo, number, f"PR {number}", state, draft, state == "merged", self.author,
            updated - timedelta(days=1), updated, updated if state == "merged" else None,
            updated if state != "open" else None, changes, changes // 2, min(changes, 1), commits)[0]["id"])

    def issue(self, repo: str, number: int, updated: datetime, *, author: bool = True, comments: int = 0) -> str:
        return str(self.sql(
            """INSERT INTO issues (github_id, repository_id, number, title, state, author_id, created_at, updated_at,
                   comments_count) VALUES (%s, %s, %s, %s, 'open', %s, %s, %s, %s) RETURNING id""",
            next(self.ids), repo, number, f"Issue {number}", self.author if author else None,
            updated - timedelta(days=1), updated, comments)[0]["id"])

    def review(self, repo: str, pr: str) -> None:
        self.sql("""INSERT INTO reviews (github_id, pull_request_id, repository_id, author_id, state, submitted_at)
                    VALUES (%s, %s, %s, %s, 'APPROVED', %s)""", next(self.ids), pr, repo, self.author, T)

    def comment(self, repo: str, *, pr: str | None = None, issue: str | None = None) -> None:
        self.sql("""INSERT INTO comments (github_id, repository_id, pull_request_id, issue_id, commenter_id, body,
                        comment_type, created_at, updated_at)
                    VALUES (%s, %s, %s, %s, %s, 'hi', 'issue_comment', %s, %s)""",
                 next(self.ids), repo, pr, issue, self.author, T - timedelta(days=5), T - timedelta(days=5))

    def detailed(self, repo: str, key: str, number: int, at: datetime) -> None:
        """A completed per-item run (pr_details or issue_comments) of that number at ``at``."""
        kind = "pr_details" if key == "prNumber" else "issue_comments"
        self.sql("""INSERT INTO sync_logs (sync_type, repository_id, status, started_at, completed_at, metadata)
                    VALUES (%s, %s, 'completed', %s, %s, jsonb_build_object(%s::text, %s::int))""",
                 kind, repo, at, at, key, number)

    def embed_all(self) -> None:
        for table in TABLES:
            self.sql(f"""UPDATE {table} SET embedding = array_fill(0.05::real, ARRAY[384])::vector,
                             embedding_model = %s, embedding_generated_at = updated_at,
                             content_hash = contribsync_content_hash(title, body)""", MODEL)


@pytest.fixture
def planted(isolated_db):
    p = Plant(isolated_db)
    r: dict[str, str] = {}
    # a tracked repository never synced; an untracked one (never synced, an issue without author); an archived one
    r["never"] = p.repo("never")
    r["untracked"] = p.repo("untracked", tracked=False)
    p.issue(r["untracked"], 1, T - timedelta(days=10), author=False)
    r["archived"] = p.repo("archived", archived=True)
    # a stale repository with discussions enabled and none stored, and one of every item gap
    stale = r["stale"] = p.repo("stale", synced=T - timedelta(days=2), watermark=W, issues_through=W,
                                discussions=True)
    p.review(stale, p.pr(stale, 1, W - timedelta(days=10), state="merged", changes=0))  # no details
    p.pr(stale, 2, W - timedelta(days=5), state="open", changes=0, commits=3)  # no details
    p.pr(stale, 3, W - timedelta(days=5), state="open", changes=0, draft=True, commits=0)  # empty draft: fine
    p.pr(stale, 4, W - timedelta(days=2), changes=0)  # no details, no activity, but read since its update
    p.detailed(stale, "prNumber", 4, W - timedelta(days=1))
    p.pr(stale, 5, W + timedelta(days=1))  # closed, no reviews or comments, after the watermark
    p.pr(stale, 6, W + timedelta(hours=1), state="merged")  # the same, merged
    p.pr(stale, 7, W - timedelta(days=1))  # the same but under the watermark: the sync read its activity
    p.review(stale, p.pr(stale, 8, W + timedelta(days=1)))
    p.comment(stale, pr=p.pr(stale, 9, W + timedelta(days=1), state="merged"))
    p.pr(stale, 10, W + timedelta(days=1), state="open")
    p.pr(stale, 11, W + timedelta(days=2))  # read, but before its last update
    p.detailed(stale, "prNumber", 11, W + timedelta(days=1))
    p.pr(stale, 12, W + timedelta(hours=3), changes=0)  # both PR gaps: one capture/pr.details
    p.issue(stale, 20, T - timedelta(days=4), comments=2)  # GitHub counts 2, none stored
    p.comment(stale, issue=p.issue(stale, 21, T - timedelta(days=4), comments=1))
    iid = p.issue(stale, 22, T - timedelta(days=4), comments=3)  # 1 of 3 stored, but read since its update
    p.comment(stale, issue=iid)
    p.detailed(stale, "issueNumber", 22, T - timedelta(days=3))
    p.issue(stale, 23, T - timedelta(days=30), author=False)
    for number in (24, 25, 26):
        p.issue(stale, number, T - timedelta(days=number - 20))
    # a fully fresh repository: synced an hour ago, details, reviews, comments, a discussion, all embedded
    fresh = r["fresh"] = p.repo("fresh", synced=T - timedelta(hours=1), watermark=T - timedelta(hours=1),
                                issues_through=T - timedelta(hours=1), discussions=True)
    p.review(fresh, p.pr(fresh, 1, T - timedelta(hours=2), state="merged"))
    p.pr(fresh, 2, T - timedelta(hours=2), state="open")
    p.pr(fresh, 3, T - timedelta(days=3))  # no activity, under the watermark
    p.comment(fresh, issue=p.issue(fresh, 4, T - timedelta(hours=3), comments=1))
    p.sql("""INSERT INTO discussions (id, github_id, repository_id, number, title, url, created_at, updated_at)
             VALUES ('D_1', 1, %s, 5, 'Ideas', 'https://github.com/acme/fresh/discussions/5', %s, %s)""",
          fresh, T - timedelta(days=1), T - timedelta(days=1))
    # more PRs without details than one quick-fix sends
    many = r["many"] = p.repo("many", synced=T - timedelta(hours=1), watermark=T, issues_through=T)
    p.sql("""INSERT INTO pull_requests (github_id, repository_id, repository_full_name, number, title, state, author_id,
                 base_branch, head_branch, created_at, updated_at)
             SELECT 5000 + n, %s, 'acme/many', n, 'PR ' || n, 'open', %s, 'main', 't', %s, %s + n * interval '1 minute'
               FROM generate_series(1, 55) n""", many, p.author, T - timedelta(days=9), T - timedelta(days=8))
    p.embed_all()
    # the embeddings gaps: two issues without a vector, one stale, one PR with another model's vector
    p.sql("UPDATE issues SET embedding = NULL, embedding_model = NULL WHERE repository_id = %s AND number IN (24, 25)",
          stale)
    p.sql("UPDATE issues SET embedding_generated_at = updated_at - interval '1 day' WHERE repository_id = %s "
          "AND number = 26", stale)
    p.sql("UPDATE pull_requests SET embedding_model = 'text-embedding-ada-002' WHERE repository_id = %s "
          "AND number = 10", stale)
    return r


def table(gaps) -> dict[tuple[str, str], tuple[int, list[int]]]:
    return {(g.repository, g.kind): (g.count, list(g.sample)) for g in gaps}


def test_find_gaps_finds_exactly_the_planted_gaps(isolated_db, planted):
    # WHEN every tracked repository is checked
    found = find_gaps(isolated_db, now=T)

    # THEN exactly the planted gaps, newest update first; nothing for the fresh, archived or untracked ones
    assert table(found) == {
        ("acme/many", "pr_details_missing"): (55, list(range(55, 45, -1))),
        ("acme/never", "never_synced"): (1, []),
        ("acme/never", "issues_never_synced"): (1, []),
        ("acme/stale", "stale"): (1, []),
        ("acme/stale", "discussions_missing"): (1, []),
        ("acme/stale", "pr_details_missing"): (3, [12, 2, 1]),
        ("acme/stale", "pr_activity_missing"): (4, [11, 5, 12, 6]),
        ("acme/stale", "issue_comments_missing"): (1, [20]),
        ("acme/stale", "embeddings_missing"): (4, [10, 24, 25, 26]),
        ("acme/stale", "null_authors"): (1, [23]),
    }
    embeddings = next(g for g in found if g.kind == "embeddings_missing")
    assert embeddings.as_dict()["missing"] == 2 and embeddings.as_dict()["issues"] == 3
    assert "ghost" in next(g for g in found if g.kind == "null_authors").note
    assert find_gaps(isolated_db, planted["fresh"], now=T) == []
    # one repository asked for by id is checked whether tracked or not
    assert table(find_gaps(isolated_db, planted["untracked"], now=T)) == {
        ("acme/untracked", "never_synced"): (1, []), ("acme/untracked", "issues_never_synced"): (1, []),
        ("acme/untracked", "null_authors"): (1, [1])}
    # the stale threshold is a day: the same repository a day earlier is not stale
    assert "stale" not in {g.kind for g in find_gaps(isolated_db, planted["stale"], now=T - timedelta(days=1))}


def test_quick_fix_sends_exactly_the_closing_events_once_per_day(isolated_db, planted):
    stale, queues = planted["stale"], RecordingQueues()

    # WHEN the stale repository is fixed
    sent = quick_fix(isolated_db, queues, stale, now=T)

    # THEN one event per fix, valid for the catalog, and exactly what was returned
    assert queues.sent == sent
    for event in sent:
        Queues.validate({"name": event["event"], "data": event["data"], "id": event["id"]})
    assert sorted((e["event"], tuple(sorted(e["data"].items()))) for e in sent) == sorted([
        ("capture/repository.sync-enhanced", (("repositoryId", stale),)),
        ("capture/repository.discussions", (("repositoryId", stale),)),
        *[("capture/pr.details", (("prNumber", n), ("repositoryId", stale))) for n in (12, 2, 1, 11, 5, 6)],
        ("capture/issue.comments", (("issueNumber", 20), ("repositoryId", stale))),
        ("embeddings/process.repository", (("repositoryId", stale),)),
        ("capture/repository.issues", (("repositoryId", stale), ("timeRange", 31))),
    ])
    ids = [e["id"] for e in sent]
    assert len(set(ids)) == len(ids)
    assert f"quick-fix:pr_details_missing:{stale}:12:2026-03-01" in ids  # PR 12 once, for its first gap

    # WHEN it runs again the same day: the same ids (the runtime runs each once); the next day: new ones
    assert [e["id"] for e in quick_fix(isolated_db, RecordingQueues(), stale, now=T + timedelta(hours=5))] == ids
    assert not set(ids) & {e["id"] for e in quick_fix(isolated_db, RecordingQueues(), stale, now=T + timedelta(days=1))}

    # a dry run sends nothing and says the same
    dry = RecordingQueues()
    assert quick_fix(isolated_db, dry, stale, now=T, dry_run=True) == sent and dry.sent == []

    # two gaps needing an issues sync get one, reaching back the furthest (the repository's life: 401 days)
    untracked = quick_fix(isolated_db, RecordingQueues(), planted["untracked"], now=T)
    assert [(e["event"], e["data"]) for e in untracked] == [
        ("capture/repository.sync-enhanced", {"repositoryId": planted["untracked"]}),
        ("capture/repository.issues", {"repositoryId": planted["untracked"], "timeRange": 401})]
    # per-item fixes stop at the cap, newest first; nothing for a fresh repository
    many = quick_fix(isolated_db, RecordingQueues(), planted["many"], now=T)
    assert [e["data"]["prNumber"] for e in many] == list(range(55, 55 - PER_ITEM_CAP, -1))
    assert quick_fix(isolated_db, queues, planted["fresh"], now=T) == []


def test_the_embeddings_fix_run_by_its_service_closes_the_gap(isolated_db, planted):
    stale = planted["stale"]
    event = next(e for e in quick_fix(isolated_db, RecordingQueues(), stale, now=T)
                 if e["event"] == "embeddings/process.repository")
    with FakeOpenAI() as fake:
        mine = clients(isolated_db, RecordingQueues(), openai_api_key="sk-test-gaps", openai_base_url=fake.base_url)
        ctx = RunContext.outside_a_run(mine, catalog.resolve(event["event"]), event["data"], event_id=event["id"])
        result = process_repository(EmbeddingsRepository.model_validate(event["data"]), ctx)
    assert result["embedded"] == 3 and result["unchangedTouched"] == 1  # 2 without, 1 of another model; 1 stale
    after = {g.kind for g in find_gaps(isolated_db, stale, now=T)}
    assert "embeddings_missing" not in after
    assert after == {"stale", "discussions_missing", "pr_details_missing", "pr_activity_missing",
                     "issue_comments_missing", "null_authors"}


def run_cli(argv: list[str]) -> str:
    console = Console(record=True, width=200, file=io.StringIO())
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command", required=True), console)
    args = parser.parse_args(argv)
    args.func(args)
    return console.export_text()


def test_the_commands_print_the_gaps_and_the_events(isolated_db, planted, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", isolated_db.dsn)
    now = datetime.now(UTC)
    # --json is find_gaps' answer; the table names every gap; a dry run lists what quick-fix would send
    expected = [g.as_dict() for g in find_gaps(isolated_db, planted["stale"], now=now)]
    assert json.loads(run_cli(["gaps", "acme/stale", "--json"])) == json.loads(json.dumps(expected, default=str))
    text = run_cli(["gaps"])
    assert all(kind in text for kind in ("never_synced", "pr_activity_missing", "null_authors", "ghost"))
    assert "acme/archived" not in text and "acme/untracked" not in text and "quick-fix acme" in text
    dry = json.loads(run_cli(["quick-fix", "acme", "stale", "--dry-run", "--json"]))
    assert dry["dryRun"] and dry["events"] == quick_fix(isolated_db, RecordingQueues(), planted["stale"], now=now)
    isolated_db.connection().execute("UPDATE repositories SET last_synced_at = now() WHERE id = %s",
                                     (planted["fresh"],))
    assert "no gaps" in run_cli(["gaps", "acme/fresh"])
    with pytest.raises(SystemExit, match="not stored"):
        run_cli(["quick-fix", "acme", "nowhere", "--dry-run"])


# -- the local stack -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stack(isolated_database, aws_endpoint):
    with FakeOpenAI() as openai:
        simulator = Simulator(dataset=generate(1010, repos=2, prs_per_repo=14))
        with LocalStack(database_url=isolated_database(), port=0, prefix=f"gap{uuid.uuid4().hex[:6]}", cron=False,
                        retry_base_s=1, aws_endpoint=aws_endpoint, simulator=simulator,
                        environment={"OPENAI_API_KEY": "sk-test-gaps", "OPENAI_BASE_URL": openai.base_url}) as running:
            yield running


def sql(stack, query: str, *params: object) -> list[dict[str, Any]]:
    cur = stack.db.connection().execute(query, params)
    return cur.fetchall() if cur.description else []


def send_and_wait(stack, name: str, data: dict[str, Any]) -> None:
    stack.queues.send_event(name, data)
    assert stack.wait_idle(120)


def test_quick_fix_closes_planted_gaps_on_the_local_stack(stack):
    ds = stack.simulator.ds
    a, b = (next(r for r in ds.repos.values() if r.has_discussions is d) for d in (False, True))
    # GIVEN repository A discovered and fully captured (PRs, issues, embeddings): no gaps
    send_and_wait(stack, "discover/new-repository", {"owner": a.owner.login, "repo": a.name})
    aid = str(stack.db.query_one("repository_by_full_name", {"owner": a.owner.login, "name": a.name})["id"])
    send_and_wait(stack, "capture/repository.issues", {"repositoryId": aid, "timeRange": 36500})
    send_and_wait(stack, "embeddings/process.repository", {"repositoryId": aid})
    assert find_gaps(stack.db, now=datetime.now(UTC)) == []
    # and B, with discussions, tracked but never synced
    bid = str(sql(stack, """INSERT INTO repositories (github_id, full_name, owner, name, has_discussions,
                                github_created_at) VALUES (%s, %s, %s, %s, true, %s) RETURNING id""",
                  b.id, b.full_name, b.owner.login, b.name, b.created_at)[0]["id"])
    stack.db.query("tracked_repository_add", {"repository_id": bid, "owner": b.owner.login, "name": b.name})

    # WHEN gaps are planted in A: stale, PRs without details, closed PRs that lost their reviews and comments
    # after the watermark, issues that lost their comments or their author, vectors missing or stale
    prs = sorted(ds.prs_by_repo[a.id], key=lambda p: p.updated_at)
    active = {p.number for p in prs if ds.reviews_by_pr[p.id] or ds.issue_comments_by_number.get((a.id, p.number))}
    undetailed = [p.number for p in prs[:3]]
    emptied = [p for p in prs if p.state != "OPEN" and p.number in active][-2:]
    watermark = min(p.updated_at for p in emptied) - timedelta(seconds=1)
    issues = sorted(ds.issues_by_repo[a.id], key=lambda i: i.number)
    commented = [i.number for i in issues if ds.issue_comments_by_number.get((a.id, i.number))][:2]
    authorless = [i.number for i in issues if i.number not in commented][:2]
    unembedded = [i.number for i in issues if i.number not in commented][2:4]
    assert len(emptied) == len(commented) == len(authorless) == len(unembedded) == 2  # the dataset has enough
    sql(stack, "UPDATE repositories SET last_synced_at = now() - interval '2 days', prs_synced_through = %s "
               "WHERE id = %s", watermark, aid)
    sql(stack, "UPDATE pull_requests SET additions = 0, deletions = 0, changed_files = 0 "
               "WHERE repository_id = %s AND number = ANY(%s)", aid, undetailed)
    for p in emptied:
        sql(stack, "DELETE FROM comments WHERE pull_request_id = (SELECT id FROM pull_requests WHERE github_id = %s)",
            p.id)
        sql(stack, "DELETE FROM reviews WHERE pull_request_id = (SELECT id FROM pull_requests WHERE github_id = %s)",
            p.id)
    sql(stack, "DELETE FROM comments WHERE issue_id IN (SELECT id FROM issues WHERE repository_id = %s "
               "AND number = ANY(%s))", aid, commented)
    sql(stack, "UPDATE issues SET author_id = NULL WHERE repository_id = %s AND number = ANY(%s)", aid, authorless)
    sql(stack, "UPDATE issues SET embedding = NULL WHERE repository_id = %s AND number = ANY(%s)", aid, unembedded)
    sql(stack, "UPDATE pull_requests SET embedding_generated_at = updated_at - interval '1 day' "
               "WHERE repository_id = %s AND number = %s", aid, prs[-1].number)

    # THEN find_gaps finds them (the activity gap: the emptied PRs, and any closed one after the watermark
    # that GitHub has no review or comment for)
    quiet = {p.number for p in prs if p.state != "OPEN" and p.updated_at > watermark and p.number not in active}
    found = find_gaps(stack.db, now=datetime.now(UTC))
    assert {k: (n, sorted(s)) for k, (n, s) in table(found).items()} == {
        (a.full_name, "stale"): (1, []),
        (a.full_name, "pr_details_missing"): (3, sorted(undetailed)),
        (a.full_name, "pr_activity_missing"): (len(quiet) + 2, sorted(quiet | {p.number for p in emptied})),
        (a.full_name, "issue_comments_missing"): (2, commented),
        (a.full_name, "embeddings_missing"): (3, sorted([*unembedded, prs[-1].number])),
        (a.full_name, "null_authors"): (2, authorless),
        (b.full_name, "never_synced"): (1, []),
        (b.full_name, "issues_never_synced"): (1, []),
        (b.full_name, "discussions_missing"): (1, []),
    }

    # WHEN quick-fix runs for both through the stack's queues, and the functions finish
    sent = [*quick_fix(stack.db, stack.queues, aid, now=datetime.now(UTC)),
            *quick_fix(stack.db, stack.queues, bid, now=datetime.now(UTC))]
    targets = sorted((e["event"], e["data"]["repositoryId"], e["data"].get("prNumber") or e["data"].get("issueNumber"))
                     for e in sent)
    pr_numbers = set(undetailed) | quiet | {p.number for p in emptied}
    assert targets == sorted([
        ("capture/repository.sync-enhanced", aid, None), ("capture/repository.issues", aid, None),
        ("embeddings/process.repository", aid, None),
        *[("capture/pr.details", aid, n) for n in pr_numbers], *[("capture/issue.comments", aid, n) for n in commented],
        ("capture/repository.sync-enhanced", bid, None), ("capture/repository.issues", bid, None),
        ("capture/repository.discussions", bid, None)])
    assert stack.wait_idle(120)

    # THEN A's gaps are closed; B's are too, and what it captured now wants vectors (a follow-on gap)
    assert table(find_gaps(stack.db, now=datetime.now(UTC))).keys() == {(b.full_name, "embeddings_missing")}
    assert [e["event"] for e in quick_fix(stack.db, stack.queues, bid, now=datetime.now(UTC))] == [
        "embeddings/process.repository"]
    assert stack.wait_idle(120)
    assert find_gaps(stack.db, now=datetime.now(UTC)) == []

    # and the data is GitHub's again, not merely marked as read
    details = {r["number"]: r["additions"] for r in sql(
        stack, "SELECT number, additions FROM pull_requests WHERE repository_id = %s AND number = ANY(%s)",
        aid, undetailed)}
    assert details == {n: ds.pr_by_number[(a.id, n)].additions for n in undetailed}
    for p in emptied:
        assert sql(stack, "SELECT count(*) AS n FROM reviews v JOIN pull_requests p ON p.id = v.pull_request_id "
                          "WHERE p.github_id = %s", p.id)[0]["n"] == len(ds.reviews_by_pr[p.id])
    stored = {r["number"]: r["n"] for r in sql(
        stack, "SELECT i.number, count(c.id) AS n FROM issues i LEFT JOIN comments c ON c.issue_id = i.id "
               "WHERE i.repository_id = %s AND i.number = ANY(%s) GROUP BY i.number", aid, commented)}
    assert stored == {n: len(ds.issue_comments_by_number[(a.id, n)]) for n in commented}
    assert sql(stack, "SELECT count(*) AS n FROM issues WHERE author_id IS NULL")[0]["n"] == 0
    counts = stack.db.connection().execute(
        """SELECT (SELECT count(*) FROM pull_requests WHERE repository_id = %(r)s) AS prs,
                  (SELECT count(*) FROM issues WHERE repository_id = %(r)s) AS issues,
                  (SELECT count(*) FROM discussions WHERE repository_id = %(r)s) AS discussions""",
        {"r": bid}).fetchone()
    assert counts == {"prs": len(ds.prs_by_repo[b.id]), "issues": len(ds.issues_by_repo[b.id]),
                      "discussions": len(ds.discussions_by_repo[b.id])}
    assert RunHistory(stack.db).recent(status="failed") == []

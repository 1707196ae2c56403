"""Embeddings (issue 9) against a real Postgres and the local OpenAI-compatible fake: coverage, freshness,
priority order, resuming a failed run, cost, similarity, the budget and OpenAI's error statuses."""

from __future__ import annotations

import itertools
import json
import math
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from contribsync import similarity
from contribsync.ai.embedder import (
    DIMENSIONS,
    MODEL,
    Embedded,
    OpenAIBudget,
    OpenAIEmbedder,
    content_hash,
    embedding_input,
    estimate_tokens,
)
from contribsync.clients import Clients
from contribsync.errors import Deferred, NonRetriable, OpenAIError, OpenAIRateLimited
from contribsync.payloads import EmbeddingsRepository, EmbeddingsWorkspace
from contribsync.runtime import RunContext
from contribsync.services.embeddings import NO_KEY, Scope, embed_pending, process_repository, process_workspace
from contribsync.settings import Settings
from contribsync_local.openai_fake import FakeOpenAI
from contribsync_ops import OPS_SQL

if TYPE_CHECKING:
    from collections.abc import Sequence

    from contribsync.db import Database

pytestmark = pytest.mark.integration

KEY = "sk-test-embeddings"
T0 = datetime(2026, 1, 1, tzinfo=UTC)
TABLES = {"issue": "issues", "pull_request": "pull_requests", "discussion": "discussions"}


# -- data ------------------------------------------------------------------------------------------


class Data:
    """Inserts repositories, workspaces, issues, pull requests and discussions with their NOT NULL columns.
    Issues, PRs and discussions of a repository share one numbering, as on GitHub."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self._ids = itertools.count(1)
        self._numbers: dict[str, itertools.count[int]] = {}
        self._names: dict[str, str] = {}
        self.author = self.sql("INSERT INTO contributors (github_id, username) VALUES (1, 'embed-author') "
                               "RETURNING id")[0]["id"]

    def sql(self, query: str, *params: object) -> list[dict[str, Any]]:
        cur = self.db.connection().execute(query, params)
        return cur.fetchall() if cur.description else []

    def repo(self, full_name: str) -> str:
        owner, name = full_name.split("/")
        rid = str(self.sql("INSERT INTO repositories (github_id, full_name, owner, name) VALUES (%s, %s, %s, %s) "
                           "RETURNING id", next(self._ids), full_name, owner, name)[0]["id"])
        self._numbers[rid] = itertools.count(1)
        self._names[rid] = full_name
        return rid

    def workspace(self, slug: str, *repos: str, active: bool = True) -> str:
        wid = str(self.sql("INSERT INTO workspaces (name, slug, is_active) VALUES (%s, %s, %s) RETURNING id",
                           slug, slug, active)[0]["id"])
        for rid in repos:
            self.sql("INSERT INTO workspace_repositories (workspace_id, repository_id) VALUES (%s, %s)", wid, rid)
        return wid

    def item(self, item_type: str, repo: str, title: str, body: str | None = None,
             updated: datetime = T0) -> dict[str, Any]:
        """One issue, pull request or discussion; answers {item_type, id, number, title, body, input}."""
        number, gid = next(self._numbers[repo]), next(self._ids)
        created = min(updated, T0)
        if item_type == "issue":
            iid = self.sql("""INSERT INTO issues (github_id, repository_id, number, title, body, state, author_id,
                                  created_at, updated_at) VALUES (%s, %s, %s, %s, %s, 'open', %s, %s, %s)
                              RETURNING id::text""", gid, repo, number, title, body, self.author, created,
                           updated)[0]["id"]
        elif item_type == "pull_request":
            iid = self.sql("""INSERT INTO pull_requests (github_id, repository_id, repository_full_name, number,
                                  title, body, state, author_id, base_branch, head_branch, created_at, updated_at)
                              VALUES (%s, %s, %s, %s, %s, %s, 'open', %s, 'main', 'topic', %s, %s)
                              RETURNING id::text""", gid, repo, self._names[repo], number, title, body,
                           self.author, created, updated)[0]["id"]
        else:
            iid = self.sql("""INSERT INTO discussions (id, github_id, repository_id, number, title, body, url,
                                  created_at, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
                              RETURNING id""", f"D_node{gid}", gid, repo, number, title, body,
                           f"https://github.com/{self._names[repo]}/discussions/{number}", created,
                           updated)[0]["id"]
        return {"item_type": item_type, "id": iid, "number": number, "title": title, "body": body,
                "input": embedding_input(item_type, title, body)}

    def stored(self, item: dict[str, Any]) -> dict[str, Any]:
        """The item's embedding columns, its vector as a list of floats."""
        row = self.sql(f"""SELECT embedding::text AS vector, embedding_model, content_hash, embedding_generated_at,
                                  updated_at FROM {TABLES[item['item_type']]} WHERE id::text = %s""",
                       item["id"])[0]
        row["vector"] = json.loads(row["vector"]) if row["vector"] else None
        return row

    def coverage(self, *, workspace_id: str | None = None, repository_id: str | None = None
                 ) -> dict[str, tuple[int, int]]:
        rows = self.db.query("embeddings_coverage", {"workspace_id": workspace_id, "repository_id": repository_id,
                                                     "model": MODEL}, folder=OPS_SQL)
        return {r["item_type"]: (r["fresh"], r["items"]) for r in rows}


class RecordingQueues:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def send_events(self, events: list[dict[str, Any]]) -> list[str]:
        self.sent.extend(events)
        return [e["id"] for e in events]


def context(data: Data, event_id: str | None = None, *, attempt: int = 1, name: str = "embeddings/process.workspace",
            settings: Settings | None = None, **given: Any) -> RunContext:
    """A run's context with ``data``'s database and settings (or ``settings``), and ``given`` clients."""
    function = "EmbeddingsProcessWorkspace" if name.endswith("workspace") else "EmbeddingsProcessRepository"
    clients = Clients(settings or data.settings, db=data.db, queues=RecordingQueues(), **given)  # type: ignore[arg-type]
    return RunContext(event_id or uuid.uuid4().hex, name, function, attempt, {}, clients)


def requests_of(fake: FakeOpenAI) -> list[list[str]]:
    """The inputs of each embeddings request the fake received, in order."""
    return [r.body["input"] for r in fake.received if r.path.endswith("/embeddings")]


def fake_tokens(inputs: Sequence[str]) -> int:
    """usage.total_tokens as the fake counts it: len(text) // 4 per input, at least 1."""
    return sum(max(1, len(t) // 4) for t in inputs)


@pytest.fixture
def fake():
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def settings(isolated_db, fake):
    return Settings(database_url=isolated_db.dsn, openai_api_key=KEY, openai_base_url=fake.base_url)


@pytest.fixture
def data(isolated_db, settings):
    return Data(isolated_db, settings)


def issues(data: Data, repo: str, n: int, *, start: int = 0) -> list[dict[str, Any]]:
    return [data.item("issue", repo, f"Issue {start + i:02d} about widget {start + i:02d}",
                      f"Body of widget report {start + i:02d}", T0 + timedelta(minutes=start + i))
            for i in range(n)]


# -- coverage, freshness ---------------------------------------------------------------------------


def test_coverage_reaches_100_percent_for_a_workspace(data, fake):
    # GIVEN a workspace of two repositories with issues, PRs and discussions, and a repository outside it
    one, two, outside = data.repo("acme/one"), data.repo("acme/two"), data.repo("other/outside")
    workspace = data.workspace("acme", one, two)
    inside = []
    for repo in (one, two):
        for k in range(3):
            inside.append(data.item("issue", repo, f"Issue {k} in {repo[:8]}", f"issue body {k}"))
            inside.append(data.item("pull_request", repo, f"PR {k} in {repo[:8]}", None if k else "pr body"))
            inside.append(data.item("discussion", repo, f"Discussion {k} in {repo[:8]}", f"discussion body {k}"))
    outsiders = [data.item(t, outside, f"outside {t}", "untouched") for t in TABLES]
    assert data.coverage(workspace_id=workspace) == {t: (0, 6) for t in TABLES}

    # WHEN the workspace's items are processed
    result = process_workspace(EmbeddingsWorkspace(workspace_id=uuid.UUID(workspace)), context(data))

    # THEN every item of the workspace has a fresh 384-dimension vector of the model, and its hash
    assert data.coverage(workspace_id=workspace) == {t: (6, 6) for t in TABLES}
    assert result["embedded"] == len(inside) == 18
    assert result["model"] == MODEL and result["dimensions"] == DIMENSIONS
    assert result["workspaceId"] == workspace
    for item in inside:
        stored = data.stored(item)
        assert len(stored["vector"]) == DIMENSIONS
        assert stored["embedding_model"] == "text-embedding-3-small"
        assert stored["content_hash"] == content_hash(item["title"], item["body"])
        assert stored["embedding_generated_at"] >= stored["updated_at"]
    # the repository outside the workspace is untouched, and its inputs never left
    assert data.coverage(repository_id=outside) == {t: (0, 1) for t in TABLES}
    for item in outsiders:
        assert data.stored(item)["vector"] is None
    sent = [text for request in requests_of(fake) for text in request]
    assert sorted(sent) == sorted(i["input"] for i in inside)
    job = data.sql("SELECT status, workspace_id::text, model, items_processed, requests FROM embedding_jobs")
    assert job == [{"status": "completed", "workspace_id": workspace, "model": MODEL, "items_processed": 18,
                    "requests": result["requests"]}]


def test_an_unchanged_item_is_not_re_embedded(data, fake):
    # GIVEN a repository whose items all have fresh vectors
    repo = data.repo("acme/fresh")
    items = [*issues(data, repo, 3), data.item("pull_request", repo, "A PR", "pr body"),
             data.item("discussion", repo, "A discussion", None)]
    first = process_repository(EmbeddingsRepository(repository_id=uuid.UUID(repo)), context(data))
    assert first["embedded"] == 5
    before = len(fake.received)

    # WHEN it runs again: nothing to do, nothing sent
    again = process_repository(EmbeddingsRepository(repository_id=uuid.UUID(repo)), context(data))
    assert len(fake.received) == before
    assert (again["embedded"], again["unchangedTouched"], again["requests"], again["tokens"]) == (0, 0, 0, 0)

    # WHEN an item was updated (labels, state...) without its text changing
    vector = data.stored(items[3])["vector"]
    data.sql("UPDATE pull_requests SET updated_at = now() + interval '1 second', state = 'closed', "
             "closed_at = now() WHERE id = %s", items[3]["id"])
    assert data.coverage(repository_id=repo)["pull_request"] == (0, 1)
    touched = process_repository(EmbeddingsRepository(repository_id=uuid.UUID(repo)), context(data))

    # THEN its vector stands and only its time moves: no request, no tokens
    assert len(fake.received) == before
    assert (touched["embedded"], touched["unchangedTouched"], touched["requests"], touched["tokens"]) == (0, 1, 0, 0)
    stored = data.stored(items[3])
    assert stored["embedding_generated_at"] >= stored["updated_at"]
    assert stored["vector"] == vector
    assert data.coverage(repository_id=repo) == {t: (n, n) for t, n in
                                                 (("issue", 3), ("pull_request", 1), ("discussion", 1))}


def test_an_edited_item_is_re_embedded(data, fake):
    # GIVEN embedded items
    repo = data.repo("acme/edited")
    items = issues(data, repo, 4)
    discussion = data.item("discussion", repo, "How to configure the widget", "question")
    process_repository(EmbeddingsRepository(repository_id=uuid.UUID(repo)), context(data))
    old = data.stored(items[2])
    before = len(fake.received)

    # WHEN one title is edited
    data.sql("UPDATE issues SET title = 'Widget 02 explodes at startup', updated_at = now() WHERE id = %s",
             items[2]["id"])
    result = process_repository(EmbeddingsRepository(repository_id=uuid.UUID(repo)), context(data))

    # THEN exactly that item's new input is sent, once, and its vector and hash are replaced
    assert requests_of(fake)[before:] == [[embedding_input("issue", "Widget 02 explodes at startup",
                                                           items[2]["body"])]]
    assert (result["embedded"], result["unchangedTouched"], result["requests"]) == (1, 0, 1)
    new = data.stored(items[2])
    assert new["content_hash"] == content_hash("Widget 02 explodes at startup", items[2]["body"]) != old["content_hash"]
    assert new["vector"] != old["vector"]
    assert new["embedding_generated_at"] >= new["updated_at"]

    # an edited body without a moved updated_at (a sync that kept GitHub's time) is re-embedded too
    data.sql("UPDATE discussions SET body = 'a different question' WHERE id = %s", discussion["id"])
    process_repository(EmbeddingsRepository(repository_id=uuid.UUID(repo)), context(data))
    assert requests_of(fake)[before + 1:] == [[embedding_input("discussion", discussion["title"],
                                                               "a different question")]]


# -- priority order --------------------------------------------------------------------------------


def test_priority_order_workspace_items_then_issues_prs_discussions_newest_first(data, fake):
    # GIVEN a repository of an active workspace, one of an inactive workspace, and one of none, each with
    # items of every type; the newest items of all are outside the workspace
    hot, cold, lone = data.repo("acme/hot"), data.repo("acme/cold"), data.repo("acme/lone")
    data.workspace("active", hot)
    data.workspace("inactive", cold, active=False)
    minutes = itertools.count()
    made: dict[str, list[dict[str, Any]]] = {}
    for repo in (lone, hot, cold):  # insertion order is neither the expected order nor its reverse
        made[repo] = []
        for t in ("discussion", "issue", "pull_request", "issue", "discussion", "pull_request"):
            made[repo].append({**data.item(t, repo, f"{t} {next(minutes)} of {repo[:6]}", "body",
                                           T0 + timedelta(minutes=next(minutes) * 7 % 50)),
                               "repo": repo})
    updated = {r["id"]: r["updated_at"] for t in TABLES.values()
               for r in data.sql(f"SELECT id::text, updated_at FROM {t}")}

    # WHEN everything is processed (no workspace id: the 6-hourly cron) in requests of 4 inputs
    result = process_workspace(EmbeddingsWorkspace(batch_size=4), context(data))

    # THEN the inputs go out: the active workspace's items first, then by type, newest first
    rank = {"issue": 0, "pull_request": 1, "discussion": 2}

    def key(item: dict[str, Any]) -> tuple[int, int, float]:
        return (0 if item["repo"] == hot else 1, rank[item["item_type"]], -updated[item["id"]].timestamp())

    expected = [i["input"] for i in sorted((i for items in made.values() for i in items), key=key)]
    requests = requests_of(fake)
    assert [text for request in requests for text in request] == expected
    assert [len(r) for r in requests] == [4, 4, 4, 4, 2]
    assert result["requests"] == 5 and result["embedded"] == 18


# -- resuming --------------------------------------------------------------------------------------


class FailingOn:
    """Delegates to an embedder; before its ``call``-th request it makes the fake answer 500 to everything."""

    def __init__(self, inner: OpenAIEmbedder, fake: FakeOpenAI, call: int) -> None:
        self.inner, self.fake, self.call, self.calls = inner, fake, call, 0
        self.model, self.dimensions = inner.model, inner.dimensions

    def embed(self, texts: Sequence[str]) -> Embedded:
        self.calls += 1
        if self.calls == self.call:
            self.fake.fail_rate, self.fake.fail_status = 1.0, 500
        return self.inner.embed(texts)


def test_a_failure_halfway_resumes_without_repeating_work(data, fake):
    # GIVEN 11 items, requests of 2, and an API that fails from the 3rd request on
    repo = data.repo("acme/resume")
    items = [*issues(data, repo, 7), data.item("pull_request", repo, "Resume PR", "body"),
             data.item("pull_request", repo, "Another PR", None), data.item("discussion", repo, "Resume talk", "x"),
             data.item("discussion", repo, "More talk", "y")]
    event = uuid.uuid4().hex
    embedder = OpenAIEmbedder(KEY, base_url=fake.base_url)
    try:
        # WHEN the first attempt fails at its 3rd request
        with pytest.raises(OpenAIError, match="HTTP 500"):
            embed_pending(context(data, event, name="embeddings/process.repository",
                                  embedder=FailingOn(embedder, fake, 3)), Scope(repository_id=repo), batch_size=2)
        assert data.coverage(repository_id=repo)["issue"] == (4, 7)
        assert data.sql("SELECT status FROM embedding_jobs WHERE event_id = %s", event) == [{"status": "failed"}]
        failed = requests_of(fake)[2]

        # AND the same event is retried with a working API
        fake.fail_rate = 0.0
        result = embed_pending(context(data, event, attempt=2, name="embeddings/process.repository",
                                       embedder=embedder), Scope(repository_id=repo), batch_size=2)
    finally:
        embedder.close()

    # THEN every item is embedded, and only the failed request's inputs were ever sent twice
    assert data.coverage(repository_id=repo) == {"issue": (7, 7), "pull_request": (2, 2), "discussion": (2, 2)}
    requests = requests_of(fake)
    assert len(requests) == 7  # 2 + the failed one + 4
    counts = Counter(text for request in requests for text in request)
    assert set(counts) == {i["input"] for i in items}
    assert sorted(t for t, n in counts.items() if n > 1) == sorted(failed)
    assert all(n <= 2 for n in counts.values())
    # the tallies cover both attempts (the successful requests only: the failed one was not paid)
    paid = requests[:2] + requests[3:]
    tokens = fake_tokens([text for request in paid for text in request])
    assert (result["embedded"], result["requests"], result["tokens"]) == (11, 6, tokens)
    jobs = data.sql("SELECT status, requests, tokens_used, items_processed, error_message FROM embedding_jobs")
    assert jobs == [{"status": "completed", "requests": 6, "tokens_used": tokens, "items_processed": 11,
                     "error_message": None}]
    assert data.sql("SELECT * FROM run_progress WHERE event_id = %s", event) == []


# -- cost ------------------------------------------------------------------------------------------


def test_the_cost_matches_the_tokens_counted(data, fake):
    # GIVEN items of various lengths in two repositories
    cheap, dear = data.repo("acme/cheap"), data.repo("acme/dear")
    for repo in (cheap, dear):
        for n in range(5):
            data.item("issue", repo, f"Cost issue {n}", "word " * (n * 37), T0 + timedelta(minutes=n))
        data.item("discussion", repo, "Go", None)

    # WHEN one runs at the default price
    result = process_repository(EmbeddingsRepository(repository_id=uuid.UUID(cheap)), context(data))

    # THEN its cost is the tokens the API counted, recomputed from what the fake received, x 0.02 / 1M
    tokens = fake_tokens([text for request in requests_of(fake) for text in request])
    assert tokens > 6
    assert result["tokens"] == tokens
    assert result["pricePerMillionTokens"] == 0.02
    assert result["costUsd"] == pytest.approx(tokens * 0.02 / 1_000_000, abs=1e-8)

    # WHEN the price is configured
    before = len(fake.received)
    priced = Settings.from_env({"DATABASE_URL": data.db.dsn, "OPENAI_API_KEY": KEY,
                                "OPENAI_BASE_URL": data.settings.openai_base_url or "",
                                "OPENAI_EMBEDDING_PRICE_PER_MTOK": "1.5"})
    event = uuid.uuid4().hex
    result = process_repository(EmbeddingsRepository(repository_id=uuid.UUID(dear)),
                                context(data, event, settings=priced))

    # THEN that price is used, in the result and in embedding_jobs
    tokens = fake_tokens([text for request in requests_of(fake)[before:] for text in request])
    assert result["tokens"] == tokens
    assert result["pricePerMillionTokens"] == 1.5
    assert result["costUsd"] == pytest.approx(tokens * 1.5 / 1_000_000, abs=1e-8)
    job = data.sql("SELECT tokens_used, cost_usd FROM embedding_jobs WHERE event_id = %s", event)[0]
    assert job["tokens_used"] == tokens
    assert float(job["cost_usd"]) == pytest.approx(tokens * 1.5 / 1_000_000)


# -- similarity ------------------------------------------------------------------------------------

UNRELATED = [
    "Add dark mode to the settings page", "Improve documentation for the install guide",
    "Upgrade the logging library to version four", "Support pagination in the search endpoint",
    "Translate the onboarding screens into German", "Remove deprecated metrics exporter",
    "Button alignment broken on mobile Safari", "Cache avatars in the browser storage",
    "Slow query when listing organisation members", "Add keyboard shortcuts for navigation",
    "Email notifications arrive twice", "Dependabot bumps for the frontend packages",
    "Password reset link expires too quickly", "Show contributor streaks on the profile",
    "Migrate continuous integration to hosted runners", "Typo in the contributing guidelines",
    "Export charts as PNG images", "Memory leak in the websocket reconnect loop",
    "Rename the default branch to main", "Accessibility audit of colour contrast",
    "Allow admins to archive old projects", "Timezone shown wrong in weekly digest",
    "Refactor the billing service interfaces", "Sidebar collapses after every refresh",
    "Add telemetry opt out switch", "Improve error message for invalid tokens",
    "Benchmark startup time on older laptops", "Flaky end to end test for checkout",
    "Document the public REST webhooks", "Drag and drop reordering of dashboard widgets",
]
ORIGINAL = ("Crash when parsing YAML config files with tabs",
            "The parser crashes with a stack trace when a YAML config file contains tab indentation.")
PLANTED = {
    "issue": ("App crashes while parsing YAML config files with tabs",
              "Parsing a YAML config file that contains tab indentation crashes with a stack trace."),
    "pull_request": ("Fix crash when parsing YAML config files containing tabs",
                     "The parser crashed with a stack trace on tab indentation in YAML config files; now fixed."),
    "discussion": ("YAML config files with tabs crash the parser",
                   "Is it expected that a config file with tab indentation crashes the YAML parser?"),
}


def test_similarity_returns_the_planted_near_duplicates_first(data, fake, monkeypatch, capsys):
    # GIVEN an issue, three reworded near-duplicates of it among 30 unrelated items, and an exact copy of
    # it whose vector comes from another model
    repo = data.repo("acme/similar")
    original = data.item("issue", repo, *ORIGINAL)
    for n, title in enumerate(UNRELATED):
        data.item(("issue", "pull_request", "discussion")[n % 3], repo, title, f"Details: {title.lower()}.")
    planted = {data.item(t, repo, *texts)["id"] for t, texts in PLANTED.items()}
    other_model = data.item("issue", repo, *ORIGINAL)
    result = process_repository(EmbeddingsRepository(repository_id=uuid.UUID(repo)), context(data))
    assert result["embedded"] == 35
    data.sql("UPDATE issues SET embedding_model = 'text-embedding-ada-002' WHERE id = %s", other_model["id"])

    # WHEN the items nearest to the original are asked for
    item = similarity.find_item(data.db, repo, original["number"])
    assert item is not None and item["id"] == original["id"]
    nearest = similarity.similar_to_item(data.db, item, limit=40)

    # THEN the planted ones come first, each scoring above every other item, and the other model's copy
    # (which would score 1.0) is never returned, nor the item itself
    ids = [r["id"] for r in nearest]
    assert set(ids[:3]) == planted
    assert min(r["score"] for r in nearest[:3]) > max(r["score"] for r in nearest[3:])
    assert nearest[0]["score"] > 0.6
    assert other_model["id"] not in ids and original["id"] not in ids
    assert len(nearest) == 33  # the 30 unrelated and the 3 planted
    assert [r["score"] for r in nearest] == sorted((r["score"] for r in nearest), reverse=True)

    # WHEN a free text is compared, embedded by the same model
    embedder = OpenAIEmbedder(KEY, base_url=fake.base_url)
    try:
        by_text = similarity.similar_to_text(data.db, embedder, "YAML config files with tabs crash the parser",
                                             repository_id=repo, limit=5)
    finally:
        embedder.close()

    # THEN the original and the planted ones come first, never the other model's copy
    assert {r["id"] for r in by_text[:4]} == {*planted, original["id"]}
    assert other_model["id"] not in {r["id"] for r in by_text}

    # WHEN the CLI is asked for the same (in-process: the Database it opens is closed here, not at exit)
    from contribsync_cli import local_env
    from contribsync_cli.main import main

    opened: list[Database] = []

    def database() -> Database:
        opened.append(open_database())
        return opened[-1]

    open_database = local_env.database
    monkeypatch.setattr(local_env, "database", database)
    monkeypatch.setenv("DATABASE_URL", data.db.dsn)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    capsys.readouterr()
    try:
        main(["similar", f"acme/similar#{original['number']}", "--json", "--limit", "5"])
    finally:
        for db in opened:
            db.close()
    rows = json.loads(capsys.readouterr().out)
    assert len(opened) == 1

    # THEN its first result is the nearest planted item, with the same score
    assert len(rows) == 5
    assert rows[0]["id"] == nearest[0]["id"] and rows[0]["id"] in planted
    assert float(rows[0]["score"]) == pytest.approx(float(nearest[0]["score"]))
    assert rows[0]["full_name"] == "acme/similar"


def test_similar_to_an_item_without_a_vector_says_what_to_run(data):
    repo = data.repo("acme/novector")
    data.item("issue", repo, "Not embedded yet", None)
    item = similarity.find_item(data.db, repo, 1)
    assert item is not None and item["embedded"] is False
    with pytest.raises(NonRetriable, match=r"embeddings/process\.repository"):
        similarity.similar_to_item(data.db, item)


# -- no key ----------------------------------------------------------------------------------------


def test_without_an_openai_key_the_functions_skip_and_write_nothing(data, fake):
    # GIVEN items and no OPENAI_API_KEY
    repo = data.repo("acme/nokey")
    issues(data, repo, 2)
    data.workspace("nokey", repo)
    keyless = Settings.from_env({"DATABASE_URL": data.db.dsn, "OPENAI_BASE_URL": fake.base_url})

    # WHEN both functions run
    by_repo = process_repository(EmbeddingsRepository(repository_id=uuid.UUID(repo)),
                                 context(data, settings=keyless))
    by_workspace = process_workspace(EmbeddingsWorkspace(), context(data, settings=keyless))

    # THEN they skip with the message, call nothing and write nothing
    assert by_repo == by_workspace == {"skipped": NO_KEY}
    assert "OPENAI_API_KEY is not set" in NO_KEY
    assert fake.received == []
    assert data.sql("SELECT count(*) AS n FROM issues WHERE embedding IS NOT NULL OR embedding_generated_at "
                    "IS NOT NULL OR content_hash IS NOT NULL") == [{"n": 0}]
    assert data.sql("SELECT count(*) AS n FROM embedding_jobs") == [{"n": 0}]
    assert data.sql("SELECT count(*) AS n FROM run_progress") == [{"n": 0}]
    assert data.sql("SELECT count(*) AS n FROM throttle_buckets WHERE scope = 'openai'") == [{"n": 0}]


# -- budget ----------------------------------------------------------------------------------------


def same_length_issues(data: Data, repo: str, n: int) -> tuple[list[dict[str, Any]], int]:
    """n issues whose inputs have the same estimated tokens; answers them and that estimate."""
    items = issues(data, repo, n)
    estimates = {estimate_tokens(i["input"]) for i in items}
    assert len(estimates) == 1
    return items, estimates.pop()


def test_the_budget_waits_for_tokens_rather_than_failing(data, fake, fake_clock):
    # GIVEN 6 items sent one per request, and a tokens-per-minute budget of 4 requests' worth
    repo = data.repo("acme/budget")
    _, estimate = same_length_issues(data, repo, 6)
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        fake_clock.advance(seconds)

    budget = OpenAIBudget(data.db, model=MODEL, requests_per_minute=1000, tokens_per_minute=4 * estimate,
                    clock=fake_clock.now, sleep=sleep)

    # WHEN they are embedded
    result = embed_pending(context(data), Scope(repository_id=repo), batch_size=1, budget=budget)

    # THEN the run waits for the bucket to refill instead of failing, exactly as long as a bucket that
    # charges each request's estimate and gets back what OpenAI did not count (the fake: len // 4)
    counted = [max(1, len(text) // 4) for request in requests_of(fake) for text in request]
    level, rate, expected = 4.0 * estimate, 4.0 * estimate / 60, []
    for tokens in counted:
        if level < estimate:
            wait = math.ceil((estimate - level) / rate * 100) / 100
            expected.append(wait)
            level += wait * rate
        level = min(4.0 * estimate, level - estimate + (estimate - tokens))
    assert result["embedded"] == 6 and result["requests"] == 6
    assert len(sleeps) == len(expected) >= 1
    assert sum(sleeps) == pytest.approx(sum(expected), abs=0.1)
    assert sum(sleeps) < 30  # without giving back the over-estimate: 2 waits of 15 s
    assert all(0 < s <= 20 for s in sleeps)
    assert result["budgetWaitS"] == pytest.approx(sum(sleeps), abs=0.01)
    assert len(requests_of(fake)) == 6


def test_a_budget_wait_beyond_20_seconds_defers_the_run_and_the_retries_finish(data, fake, fake_clock):
    # GIVEN 4 items sent one per request, and a budget of one request's estimate a minute: after the
    # first request only what OpenAI did not count comes back, so the next waits about 45 s
    repo = data.repo("acme/defer")
    items, estimate = same_length_issues(data, repo, 4)
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        fake_clock.advance(seconds)

    budget = OpenAIBudget(data.db, model=MODEL, requests_per_minute=1000, tokens_per_minute=estimate,
                    clock=fake_clock.now, sleep=sleep)
    event = uuid.uuid4().hex

    # WHEN they are embedded
    with pytest.raises(OpenAIRateLimited, match="tokens per minute") as raised:
        embed_pending(context(data, event), Scope(repository_id=repo), batch_size=1, budget=budget)

    # THEN the run is deferred (not slept) for as long as the bucket needs, after 1 request
    counted = max(1, len(requests_of(fake)[0][0]) // 4)
    wait = math.ceil(counted / (estimate / 60) * 100) / 100
    assert wait > 20
    assert isinstance(raised.value, Deferred)
    assert sleeps == []
    assert raised.value.defer_until - fake_clock.now() == pytest.approx(timedelta(seconds=wait),
                                                                       abs=timedelta(seconds=0.1))
    assert len(requests_of(fake)) == 1
    assert data.sql("SELECT status FROM embedding_jobs WHERE event_id = %s", event) == [{"status": "pending"}]

    # WHEN the same event runs again each time its deferral is over
    result = None
    for attempt in range(2, 10):
        fake_clock.advance(60)
        try:
            result = embed_pending(context(data, event, attempt=attempt), Scope(repository_id=repo),
                                   batch_size=1, budget=budget)
            break
        except OpenAIRateLimited:
            continue

    # THEN it finishes, one request per minute, never resending one already stored
    assert result is not None
    assert (result["embedded"], result["requests"]) == (4, 4)
    sent = [text for request in requests_of(fake) for text in request]
    assert sorted(sent) == sorted(i["input"] for i in items)
    assert data.sql("SELECT status FROM embedding_jobs WHERE event_id = %s", event) == [{"status": "completed"}]


# -- OpenAI's statuses -----------------------------------------------------------------------------


def test_openai_statuses_become_deferred_or_non_retriable_errors(data, fake):
    repo = data.repo("acme/statuses")
    issues(data, repo, 2)
    embedder = OpenAIEmbedder(KEY, base_url=fake.base_url)
    try:
        # a 429 is a Deferred with Retry-After's time, from the client and through the service
        fake.fail_rate, fake.fail_status = 1.0, 429
        with pytest.raises(OpenAIRateLimited) as raised:
            embedder.embed(["hello there"])
        assert isinstance(raised.value, Deferred)
        assert raised.value.defer_until > datetime.now(UTC)
        with pytest.raises(OpenAIRateLimited):
            embed_pending(context(data, embedder=embedder), Scope(repository_id=repo))
        assert data.coverage(repository_id=repo) == {"issue": (0, 2)}

        # a 5xx is retriable and not deferred
        fake.fail_status = 503
        with pytest.raises(OpenAIError) as server_error:
            embedder.embed(["hello there"])
        assert not isinstance(server_error.value, (Deferred, NonRetriable))

        # a refused key (401) and a refused request (400) are not retried
        fake.fail_status = 401
        with pytest.raises(NonRetriable, match="OPENAI_API_KEY"):
            embedder.embed(["hello there"])
        fake.fail_rate = 0.0
        with pytest.raises(NonRetriable, match="HTTP 400"):
            embedder.embed([""])
    finally:
        embedder.close()


def test_an_empty_key_is_refused_as_non_retriable_without_a_request(fake):
    keyless = OpenAIEmbedder("", base_url=fake.base_url)
    try:
        with pytest.raises(NonRetriable, match="OPENAI_API_KEY"):
            keyless.embed(["hello there"])
    finally:
        keyless.close()
    assert fake.counters.requests == 0

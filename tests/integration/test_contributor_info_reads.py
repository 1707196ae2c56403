"""contributor.info's own reads on data that contribsync synced, on its database and on an empty one.

For each starting point (an empty database that ``contribsync db migrate`` builds, and contributor.info's
schema replayed from its 203 migrations, then migrated), a simulated repository is synced through the
local stack: pull requests with their reviews and comments, issues, discussions, stars and forks,
embeddings, size and priority, and a workspace holding it. Then every view of theirs, the RPC functions
its frontend and jobs call that read these tables, and the reads of ``frontend-queries.json`` run there:
none may fail, and each returns rows where the synced data has them. The 55 events its code sends are
all accepted there too.
"""

from __future__ import annotations

import json
import os
import uuid

import httpx
import psycopg
import pytest
from psycopg.rows import dict_row

from contribsync_local import postgres
from contribsync_local.openai_fake import FakeOpenAI
from contribsync_local.stack import LocalStack
from contribsync_sim.dataset import generate
from contribsync_sim.simulator import Simulator
from tests.fixtures import CONTRIBUTOR_INFO, load_contributor_info

pytestmark = pytest.mark.integration

QUERIES = json.loads((CONTRIBUTOR_INFO / "frontend-queries.json").read_text())
SENDERS = json.loads((CONTRIBUTOR_INFO / "sender-events.json").read_text())
PLACEHOLDER_ID = "11111111-1111-1111-1111-111111111111"
# The views of theirs that read only the tables both schemas share (the others read its users, roles
# and trending tables, which contribsync neither writes nor creates).
VIEWS = ("pr_comments", "issue_comments", "items_needing_embeddings", "items_needing_embeddings_priority",
         "backfill_progress_summary", "connection_stats", "contributor_stats", "progressive_capture_stats",
         "recent_activity", "repository_stats", "stuck_jobs_monitor")
# Reads that return rows whenever the synced repository has pull requests, issues with comments,
# discussions and open pull requests (the simulated one has all of them).
NON_EMPTY = {"useWorkspacePRs PR list (PostgREST embed translated to joins)", "useWorkspaceIssues issue list",
             "useWorkspaceDiscussions list", "my-work PRs awaiting response", "update-pr-activity job PR scan",
             "issue metrics comments with commenter", "repository sync status"}


@pytest.fixture(scope="module")
def openai():
    with FakeOpenAI() as server:
        yield server


@pytest.fixture(scope="module", params=["empty", "contributor-info"])
def synced(request, pg_admin_dsn, aws_endpoint, openai):
    name = f"contribsync_reads_{request.param.replace('-', '_')}_{os.getpid()}"
    dsn = postgres.create_database(pg_admin_dsn, name, drop_first=True)
    if request.param == "contributor-info":
        load_contributor_info(dsn)
        with psycopg.connect(dsn, autocommit=True) as conn:  # Supabase's grants, which the dump leaves out
            conn.execute("GRANT ALL ON ALL TABLES IN SCHEMA public TO anon, authenticated, service_role;"
                         " ALTER DEFAULT PRIVILEGES IN SCHEMA public"
                         " GRANT ALL ON TABLES TO anon, authenticated, service_role")
    openai_env = {"OPENAI_API_KEY": "sk-test-not-a-real-key", "OPENAI_BASE_URL": openai.base_url}
    simulator = Simulator(dataset=generate(53, repos=1, prs_per_repo=60))
    try:
        with LocalStack(database_url=dsn, port=0, prefix=f"rd{uuid.uuid4().hex[:6]}", cron=False, retry_base_s=1,
                        aws_endpoint=aws_endpoint, simulator=simulator,
                        environment=openai_env) as stack:
            sim_repo = next(iter(simulator.ds.repos.values()))
            stack.queues.send_event("capture/repository.sync-enhanced",
                                    {"owner": sim_repo.owner.login, "repo": sim_repo.name})
            assert stack.wait_idle(180)
            db = stack.db.connection()
            repo = db.execute("SELECT id, owner, name FROM repositories").fetchone()
            for event, data in (("capture/repository.issues", {"repositoryId": str(repo["id"]), "timeRange": 3650}),
                                ("capture/repository.discussions", {"repositoryId": str(repo["id"])}),
                                ("capture/repository.events", {"repositoryId": str(repo["id"])}),
                                ("classify/single-repository", {"repositoryId": str(repo["id"]),
                                                                "owner": repo["owner"], "repo": repo["name"]})):
                stack.queues.send_event(event, data)
            assert stack.wait_idle(180)
            stack.queues.send_event("embeddings/process.repository", {"repositoryId": str(repo["id"])})
            assert stack.wait_idle(180)
            workspace = _workspace(db, repo["id"], theirs=request.param == "contributor-info")
            failed = db.execute("SELECT function, error FROM function_runs WHERE status = 'failed'").fetchall()
            yield {"stack": stack, "dsn": dsn, "repo": repo, "workspace": workspace, "failed": failed,
                   "which": request.param}
    finally:
            postgres.drop_database(pg_admin_dsn, name)


def _workspace(db: psycopg.Connection, repository_id: uuid.UUID, *, theirs: bool) -> uuid.UUID:
    """A public workspace holding the repository, as its app creates one (with an owner where it has users)."""
    owner = None
    if theirs:
        user = db.execute("INSERT INTO auth.users (email) VALUES ('octocat@example.com') RETURNING id").fetchone()["id"]
        # its workspace trigger names the owner as an auth user (contributor_groups.created_by), so the
        # app user here has the auth user's id, as its sign-up makes it
        owner = db.execute("INSERT INTO app_users (id, auth_user_id, github_id, github_username)"
                           " VALUES (%s, %s, 42, 'octocat') RETURNING id", (user, user)).fetchone()["id"]
    workspace = db.execute("INSERT INTO workspaces (name, slug, owner_id, visibility) VALUES ('Readers', 'readers',"
                           " %s, 'public') RETURNING id", (owner,)).fetchone()["id"]
    # its workspace_repositories triggers write workspace_tracked_repositories, a table its HEAD lacks (its
    # app cannot add a repository to a workspace there): they are left out for this insert
    db.execute("SET session_replication_role = replica")
    db.execute("INSERT INTO workspace_repositories (workspace_id, repository_id, added_by) VALUES (%s, %s, %s)",
               (workspace, repository_id, owner))
    db.execute("SET session_replication_role = origin")
    db.commit()
    return workspace


def read(dsn: str, sql: str, params: object = None) -> list[dict]:
    with psycopg.connect(dsn, row_factory=dict_row) as conn:
        return conn.execute(sql, params).fetchall()


def test_the_sync_into_it_succeeds_and_fills_the_tables_its_frontend_reads(synced):
    assert synced["failed"] == []
    counts = read(synced["dsn"], """SELECT (SELECT count(*) FROM pull_requests) AS prs, (SELECT count(*) FROM reviews)
        AS reviews, (SELECT count(*) FROM comments) AS comments, (SELECT count(*) FROM issues) AS issues,
        (SELECT count(*) FROM discussions) AS discussions, (SELECT count(*) FROM contributors) AS contributors,
        (SELECT count(*) FROM issues WHERE embedding IS NOT NULL) AS embedded,
        (SELECT count(*) FROM tracked_repositories WHERE size IS NOT NULL) AS classified""")[0]
    assert all(n > 0 for n in counts.values()), counts


def test_the_columns_its_jobs_fill_are_filled(synced):
    dsn = synced["dsn"]
    # pull_requests.author_login and reviewer_data, as its My Work page reads them
    prs = read(dsn, """SELECT p.author_login, c.username, p.reviewer_data,
                              (SELECT count(*) FROM reviews r WHERE r.pull_request_id = p.id
                                  AND r.submitted_at IS NOT NULL) AS reviews
                         FROM pull_requests p JOIN contributors c ON c.id = p.author_id""")
    assert prs and all(p["author_login"] == p["username"] for p in prs)
    assert all(set(p["reviewer_data"]) == {"requested_reviewers", "reviewers"} for p in prs)
    assert all(len(p["reviewer_data"]["reviewers"]) == p["reviews"] for p in prs)
    assert any(p["reviews"] for p in prs)
    reviewer = next(r for p in prs for r in p["reviewer_data"]["reviewers"])
    assert set(reviewer) == {"username", "avatar_url", "approved", "state", "submitted_at"}
    assert reviewer["approved"] == (reviewer["state"] == "APPROVED")
    # similarity_cache: one entry per embedded item, with its vector and content hash
    cached = read(dsn, """SELECT count(*) AS n, count(*) FILTER (WHERE s.embedding = i.embedding
                                                                  AND s.content_hash = i.content_hash) AS same
                            FROM similarity_cache s
                            JOIN issues i ON s.item_type = 'issue' AND s.item_id = i.id::text""")[0]
    embedded = read(dsn, "SELECT count(*) AS n FROM issues WHERE embedding IS NOT NULL")[0]["n"]
    assert cached["n"] == cached["same"] == embedded > 0
    # contributors' creation time (GraphQL createdAt), and the repository's sync status
    people = read(dsn, "SELECT username, github_created_at FROM contributors WHERE username <> 'ghost'")
    assert people and all(p["github_created_at"] is not None for p in people)
    # followers, following and public_repos of every person (read by node id after each page)
    counts = read(dsn, """SELECT count(*) AS people, count(*) FILTER (WHERE profile_synced_at IS NOT NULL) AS read,
                                 count(*) FILTER (WHERE followers > 0 AND public_repos > 0) AS some
                            FROM contributors c WHERE NOT is_bot AND username <> 'ghost'
                             AND EXISTS (SELECT 1 FROM pull_requests p WHERE p.author_id = c.id)""")[0]
    assert counts["people"] == counts["read"] > 0 and counts["some"] > 0
    repo = read(dsn, "SELECT sync_status, total_pull_requests, pull_request_count FROM repositories")[0]
    assert repo["sync_status"] == "completed"
    assert repo["total_pull_requests"] == repo["pull_request_count"] > 0


@pytest.mark.parametrize("view", VIEWS)
def test_every_view_of_theirs_runs(synced, view):
    rows = read(synced["dsn"], f"SELECT * FROM {view} LIMIT 50")
    if view in ("pr_comments", "issue_comments", "contributor_stats", "repository_stats"):
        assert rows, view
    if view in ("pr_comments", "issue_comments"):
        assert all(r["commenter_username"] for r in rows)


def test_on_its_own_database_every_view_runs_but_the_two_its_head_broke(synced):
    if synced["which"] != "contributor-info":
        pytest.skip("an empty database has the 11 views that read the shared tables (the test above)")
    views = [r["viewname"] for r in read(synced["dsn"], "SELECT viewname FROM pg_views WHERE schemaname = 'public'"
                                                        " ORDER BY viewname")]
    assert len(views) >= 17
    broken = {}
    for view in views:
        try:
            read(synced["dsn"], f"SELECT * FROM {view} LIMIT 5")
        except psycopg.errors.UndefinedTable as exc:
            broken[view] = str(exc).splitlines()[0]
    # its trending views call get_trending_repositories, which reads a table its own HEAD dropped
    assert broken == {v: 'relation "repository_metrics_history" does not exist'
                      for v in ("trending_repositories_24h", "trending_repositories_30d")}


def test_the_reads_of_its_frontend_run_and_return_rows_where_the_sync_has_them(synced):
    repo = synced["repo"]
    for query in QUERIES:
        sql = (query["sql"].replace(PLACEHOLDER_ID, str(repo["id"]))
               .replace("'octo'", f"'{repo['owner']}'").replace("'widgets'", f"'{repo['name']}'"))
        rows = read(synced["dsn"], sql)
        if query["name"] in NON_EMPTY:
            assert rows, (query["name"], query["src"])


def test_the_rpc_functions_its_frontend_and_jobs_call_run_and_return_rows(synced):
    dsn, repo, workspace = synced["dsn"], synced["repo"], synced["workspace"]
    issue = read(dsn, "SELECT id, embedding::text AS v FROM issues WHERE embedding IS NOT NULL LIMIT 1")[0]
    assert read(dsn, "SELECT * FROM calculate_assignee_distribution(p_repository_ids => %s::uuid[],"
                     " p_exclude_bots => true, p_limit => 100)", ([repo["id"]],))
    assert read(dsn, "SELECT * FROM find_similar_issues(target_issue_id => %s::uuid, limit_count => 5)",
                (issue["id"],))
    assert read(dsn, "SELECT * FROM find_similar_items_cross_entity(query_embedding => %s::vector,"
                     " repo_ids => %s::uuid[], match_count => 21, exclude_item_type => 'issue',"
                     " exclude_item_id => %s)", (issue["v"], [repo["id"]], str(issue["id"])))
    assert read(dsn, "SELECT * FROM get_workspace_repository_event_summaries(p_workspace_id => %s,"
                     " p_start_date => '2000-01-01'::timestamptz, p_end_date => now())", (workspace,))
    assert read(dsn, "SELECT generate_workspace_slug(workspace_name => 'Readers') AS slug")[0]["slug"] != "readers"
    read(dsn, "SELECT cleanup_expired_cache()")


def test_the_events_its_code_sends_are_all_accepted(synced):
    stack = synced["stack"]
    body = [{"name": sent["name"], "data": sent["data"]} for sent in SENDERS]
    response = httpx.post(f"{stack.http.url}/e/contributor-info", content=json.dumps(body), timeout=30)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert len(answer["ids"]) == len(SENDERS) == 55 and all(answer["ids"]) and "errors" not in answer


def test_anon_reads_public_rows_only_and_none_of_contribsyncs_own(synced):
    """What PostgREST's anon key would see: a public repository's pull requests, none of a private one, and
    no row of contribsync's run history (on contributor.info's database, Supabase grants anon every table
    of ``public``; there, row-level security is what keeps contribsync's tables closed)."""
    repository_id = synced["repo"]["id"]

    def as_anon(conn: psycopg.Connection, sql: str) -> int:
        conn.execute("SET ROLE anon")
        try:
            with conn.transaction():
                return conn.execute(sql).fetchone()[0]
        except psycopg.errors.InsufficientPrivilege:
            return 0
        finally:
            conn.execute("RESET ROLE")

    with psycopg.connect(synced["dsn"]) as conn:
        assert conn.execute("SELECT count(*) FROM function_runs").fetchone()[0] > 0
        assert as_anon(conn, "SELECT count(*) FROM function_runs") == 0
        assert as_anon(conn, "SELECT count(*) FROM webhook_deliveries") == 0
        assert as_anon(conn, "SELECT count(*) FROM pull_requests") > 0
        conn.execute("UPDATE repositories SET is_private = true WHERE id = %s", (repository_id,))
        assert as_anon(conn, "SELECT count(*) FROM pull_requests") == 0
        conn.rollback()

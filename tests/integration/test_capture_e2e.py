"""The capture pipeline end to end on the local stack: events go through SQS to the Lambda-like pollers,
the real handlers read the GitHub simulator over HTTP and write the embedded Postgres, and the database
is compared with the simulator's dataset, field by field, for a repository of about 1,000 pull requests.
"""

from __future__ import annotations

import uuid

import pytest

from contribsync.services import capture
from contribsync_local.stack import LocalStack
from contribsync_sim.dataset import generate, ground_truth
from contribsync_sim.graphql_api import iso
from contribsync_sim.simulator import Simulator

pytestmark = pytest.mark.integration

PRS = 1000


@pytest.fixture(scope="module")
def synced(isolated_database, aws_endpoint):
    simulator = Simulator(dataset=generate(41, repos=2, prs_per_repo=PRS))
    with LocalStack(database_url=isolated_database(), port=0, prefix=f"cap{uuid.uuid4().hex[:6]}", cron=False,
                    retry_base_s=1, aws_endpoint=aws_endpoint, simulator=simulator,
                    poller_concurrency=4) as stack:
        ds = simulator.ds
        repo = min(ds.repos.values(), key=lambda r: r.id)
        stack.queues.send_event("capture/repository.sync-enhanced", {"owner": repo.owner.login, "repo": repo.name})
        assert stack.wait_idle(240), "the sync did not finish"
        row = stack.db.connection().execute("SELECT id FROM repositories WHERE github_id = %s", (repo.id,)).fetchone()
        stack.queues.send_event("capture/repository.issues", {"repositoryId": str(row["id"]), "timeRange": 3650})
        assert stack.wait_idle(240), "the issues sync did not finish"
        yield stack, ds, repo, row["id"]


@pytest.fixture(scope="module")
def feed(synced):
    """One feed of changes for the module: a feed's changes never go back in time, a second one's could
    fall before the first's, which a sync has already read past."""
    return synced[0].simulator.feed("unused", seed=2)


def rows(stack, query: str, *params) -> list[dict]:
    return stack.db.connection().execute(query, params).fetchall()


def login(ds, user_id: int) -> str:
    return ds.users[user_id].login


def test_every_run_completed_and_logged(synced):
    stack, _, _, repository_id = synced
    failed = rows(stack, "SELECT function, status, error FROM function_runs WHERE status NOT IN "
                         "('completed', 'skipped')")
    assert failed == []
    logs = rows(stack, "SELECT sync_type, status, github_api_calls_used, records_inserted FROM sync_logs"
                       " WHERE repository_id = %s", repository_id)
    assert {r["sync_type"] for r in logs} >= {"full_sync", "repository_issues"}
    assert all(r["status"] == "completed" for r in logs)
    full = next(r for r in logs if r["sync_type"] == "full_sync")
    repo = min(synced[1].repos.values(), key=lambda r: r.id)
    prs = synced[1].prs_by_repo[repo.id]
    pages = sum(-(-sum(p.state == s for p in prs) // capture.PAGE_PRS) for s in capture.STREAMS)
    result = rows(stack, "SELECT result FROM function_runs WHERE function = 'CaptureRepositorySyncEnhanced'")[0]
    # one request per page, and the follower-count reads (at most one per 100 people a page brought)
    assert 0 < result["result"]["profileRequests"] <= pages
    assert full["github_api_calls_used"] == pages + result["result"]["profileRequests"]
    assert full["records_inserted"] > PRS


def test_contributors_carry_their_follower_counts(synced):
    """Read by node id once per person (contributor.info's repository sync stores them too)."""
    stack, ds, _, _ = synced
    people = rows(stack, "SELECT github_id, followers, following, public_repos, profile_synced_at, node_id"
                         " FROM contributors WHERE NOT is_bot")
    result = rows(stack, "SELECT result FROM function_runs WHERE function = 'CaptureRepositorySyncEnhanced'")[0]
    assert result["result"]["profilesRead"] == len(people) > 10
    for person in people:
        user = ds.users[person["github_id"]]
        assert person["node_id"] == user.node_id
        assert (person["followers"], person["following"], person["public_repos"]) == (
            user.followers, user.following, user.public_repos)
        assert person["profile_synced_at"] is not None
    assert any(p["followers"] for p in people)


def test_pull_requests_equal_the_dataset(synced):
    stack, ds, repo, repository_id = synced
    truth = ground_truth(ds)["repos"][repo.full_name]
    stored = {r["github_id"]: r for r in rows(stack, """
        SELECT p.*, a.username AS author, m.username AS merger FROM pull_requests p
          JOIN contributors a ON a.id = p.author_id LEFT JOIN contributors m ON m.id = p.merged_by_id
         WHERE p.repository_id = %s""", repository_id)}
    assert sorted(r["number"] for r in stored.values()) == truth["pr_numbers"]
    states = {"OPEN": "open", "CLOSED": "closed", "MERGED": "merged"}
    for pr in ds.prs_by_repo[repo.id]:
        row = stored[pr.id]
        assert (row["number"], row["title"], row["body"] or "", row["state"], row["draft"]) == (
            pr.number, pr.title, pr.body, states[pr.state], pr.draft)
        assert (row["author"], row["merger"]) == (
            login(ds, pr.author_id), login(ds, pr.merged_by_id) if pr.merged_by_id else None)
        assert (iso(row["created_at"]), iso(row["updated_at"]), iso(row["merged_at"]), iso(row["closed_at"])) == (
            iso(pr.created_at), iso(pr.updated_at), iso(pr.merged_at), iso(pr.closed_at))
        assert (row["additions"], row["deletions"], row["changed_files"], row["commits"]) == (
            pr.additions, pr.deletions, pr.changed_files, pr.commits)
        assert (row["base_branch"], row["head_branch"], row["merged"]) == (pr.base_ref, pr.head_ref,
                                                                           pr.state == "MERGED")
    assert sum(r["draft"] for r in stored.values()) == truth["pull_requests"]["draft"]


def test_reviews_and_review_comments_equal_the_dataset(synced):
    stack, ds, repo, repository_id = synced
    prs = ds.prs_by_repo[repo.id]
    reviews = {r["github_id"]: r for r in rows(stack, """
        SELECT r.github_id, r.state, r.body, r.commit_id, r.submitted_at, p.github_id AS pr, c.username AS author
          FROM reviews r JOIN pull_requests p ON p.id = r.pull_request_id JOIN contributors c ON c.id = r.author_id
         WHERE r.repository_id = %s""", repository_id)}
    expected = [r for pr in prs for r in ds.reviews_by_pr[pr.id]]
    assert sorted(reviews) == sorted(r.id for r in expected)
    for review in expected:
        row = reviews[review.id]
        assert (row["state"], row["body"], row["commit_id"], row["pr"], row["author"]) == (
            review.state, review.body, review.commit_id, review.pr_id, login(ds, review.author_id))
        assert iso(row["submitted_at"]) == iso(review.submitted_at)
    inline = {r["github_id"]: r for r in rows(stack, """
        SELECT c.github_id, c.body, c.path, c.position, c.original_position, c.diff_hunk, r.github_id AS review,
               parent.github_id AS parent, c.in_reply_to_github_id, p.github_id AS pr
          FROM comments c JOIN pull_requests p ON p.id = c.pull_request_id
          LEFT JOIN reviews r ON r.id = c.review_id LEFT JOIN comments parent ON parent.id = c.in_reply_to_id
         WHERE c.repository_id = %s AND c.comment_type = 'review_comment'""", repository_id)}
    expected_inline = [c for pr in prs for c in ds.review_comments_by_pr[pr.id]]
    assert sorted(inline) == sorted(c.id for c in expected_inline)
    replies = 0
    for comment in expected_inline:
        row = inline[comment.id]
        assert (row["body"], row["path"], row["position"], row["original_position"], row["diff_hunk"]) == (
            comment.body, comment.path, comment.position, comment.original_position, comment.diff_hunk)
        assert (row["review"], row["pr"]) == (comment.review_id, comment.pr_id)
        # in_reply_to_id is the parent's row (contributor.info wrote a GitHub id into the uuid column)
        assert row["parent"] == comment.in_reply_to_id == row["in_reply_to_github_id"]
        replies += comment.in_reply_to_id is not None
    assert replies > 0


def test_conversation_comments_and_issues_equal_the_dataset(synced):
    stack, ds, repo, repository_id = synced
    truth = ground_truth(ds)["repos"][repo.full_name]
    comments = rows(stack, """
        SELECT c.github_id, c.body, c.created_at, u.username AS author, p.number AS pr_number,
               i.number AS issue_number
          FROM comments c JOIN contributors u ON u.id = c.commenter_id
          LEFT JOIN pull_requests p ON p.id = c.pull_request_id LEFT JOIN issues i ON i.id = c.issue_id
         WHERE c.repository_id = %s AND c.comment_type = 'issue_comment'""", repository_id)
    assert sum(r["pr_number"] is not None for r in comments) == truth["issue_comments"]["on_prs"]
    assert sum(r["issue_number"] is not None for r in comments) == truth["issue_comments"]["on_issues"]
    for row in comments:
        comment = ds.issue_comments[row["github_id"]]
        assert (row["body"], row["author"], iso(row["created_at"])) == (
            comment.body, login(ds, comment.author_id), iso(comment.created_at))
        assert (row["pr_number"] or row["issue_number"]) == comment.issue_or_pr_number
    issues = {r["github_id"]: r for r in rows(stack, """
        SELECT i.*, u.username AS author FROM issues i JOIN contributors u ON u.id = i.author_id
         WHERE i.repository_id = %s""", repository_id)}
    assert sorted(r["number"] for r in issues.values()) == truth["issue_numbers"]
    for issue in ds.issues_by_repo[repo.id]:
        row = issues[issue.id]
        assert (row["title"], row["body"] or "", row["state"], row["author"], row["locked"]) == (
            issue.title, issue.body, issue.state.lower(), login(ds, issue.author_id), issue.locked)
        assert [label["name"] for label in row["labels"]] == issue.labels
        assert row["comments_count"] == len(ds.issue_comments_by_number.get((repo.id, issue.number), []))
        assert (row["state_reason"] or None) == (issue.state_reason.lower() if issue.state_reason else None)


def test_contributors_are_every_author_reviewer_and_commenter_once(synced):
    stack, ds, repo, _ = synced
    prs = ds.prs_by_repo[repo.id]
    people = ({p.author_id for p in prs} | {p.merged_by_id for p in prs if p.merged_by_id}
              | {r.author_id for p in prs for r in ds.reviews_by_pr[p.id]}
              | {c.author_id for p in prs for c in ds.review_comments_by_pr[p.id]}
              | {c.author_id for c in ds.issue_comments.values() if c.repo_id == repo.id}
              | {i.author_id for i in ds.issues_by_repo[repo.id]})
    stored = {r["github_id"]: r for r in rows(stack, "SELECT github_id, username, is_bot FROM contributors")}
    assert people <= stored.keys()
    for user_id in people:
        user, row = ds.users[user_id], stored[user_id]
        assert row["username"] == user.login  # bots keep "[bot]" although GraphQL drops it
        assert row["is_bot"] == (user.type == "Bot"), user.login
    assert stored[10137]["username"] == "ghost"


def test_an_incremental_sync_fetches_only_what_changed(synced, feed):
    stack, ds, repo, repository_id = synced
    edited: set[int] = set()
    while len(edited) < 3:
        payload = feed.step("edit_pr")[0].payload
        if payload["repository"]["id"] == repo.id and payload["action"] == "edited":
            edited.add(payload["pull_request"]["number"])
    counters = stack.simulator.app.counters
    before, points_before = counters.requests, counters.points
    stack.queues.send_event("capture/repository.sync-enhanced", {"repositoryId": str(repository_id)})
    assert stack.wait_idle(120)
    result = rows(stack, "SELECT result FROM function_runs WHERE function = 'CaptureRepositorySyncEnhanced'"
                         " AND status = 'completed' ORDER BY ended_at DESC LIMIT 1")[0]["result"]
    assert result["mode"] == "incremental" and result["pages"] == 3  # one per state stream
    assert counters.requests - before == 3
    # each stream asked for its newest PROBE_PRS, a point each, not a page of 100 at 13 points
    assert counters.points - points_before == 3 * capture.page_points(capture.PROBE_PRS) == 3
    titles = {r["number"]: r["title"] for r in rows(stack, "SELECT number, title FROM pull_requests"
                                                          " WHERE repository_id = %s", repository_id)}
    for number in edited:
        assert titles[number] == ds.pr_by_number[(repo.id, number)].title
        assert titles[number].endswith("(edited)")


def test_an_incremental_sync_with_more_changes_than_its_first_small_page_reads_them_all(synced, feed):
    stack, ds, repo, repository_id = synced
    edited: set[int] = set()
    while len(edited) < 3 * capture.PROBE_PRS:
        payload = feed.step("edit_pr")[0].payload
        if payload["repository"]["id"] == repo.id and payload["action"] == "edited":
            edited.add(payload["pull_request"]["number"])
    by_state = {s: sum(ds.pr_by_number[(repo.id, n)].state == s for n in edited) for s in capture.STREAMS}
    stack.queues.send_event("capture/repository.sync-enhanced", {"repositoryId": str(repository_id)})
    assert stack.wait_idle(120)
    result = rows(stack, "SELECT result FROM function_runs WHERE function = 'CaptureRepositorySyncEnhanced'"
                         " AND status = 'completed' ORDER BY ended_at DESC LIMIT 1")[0]["result"]
    # a stream whose small first page was all changes went on in full pages
    assert result["mode"] == "incremental"
    assert result["pages"] == sum(2 if n >= capture.PROBE_PRS else 1 for n in by_state.values())
    titles = {r["number"]: r["title"] for r in rows(stack, "SELECT number, title FROM pull_requests"
                                                          " WHERE repository_id = %s", repository_id)}
    assert {n for n in edited if titles[n] == ds.pr_by_number[(repo.id, n)].title} == edited


def test_a_later_sync_reads_only_due_counts_and_survives_a_deleted_account(synced):
    """People read this week are not asked again; an id GitHub no longer resolves (NOT_FOUND beside the
    data) keeps its stored counts and does not fail the sync."""
    stack, ds, repo, repository_id = synced
    newest = max(ds.prs_by_repo[repo.id], key=lambda p: p.created_at)
    gone = ds.users[newest.author_id]
    db = stack.db.connection()
    db.execute("UPDATE contributors SET profile_synced_at = NULL, followers = 5 WHERE github_id = %s", (gone.id,))
    db.commit()
    del ds.user_by_node_id[gone.node_id]  # nodes(ids:) no longer resolves it
    try:
        stack.queues.send_event("capture/repository.sync", {"repositoryId": str(repository_id), "force": True})
        assert stack.wait_idle(120)
    finally:
        ds.user_by_node_id[gone.node_id] = gone
    run = rows(stack, "SELECT status, result FROM function_runs WHERE function = 'CaptureRepositorySync'")[0]
    assert run["status"] == "completed" and run["result"]["profilesRead"] == 1
    person = rows(stack, "SELECT followers, profile_synced_at FROM contributors WHERE github_id = %s", gone.id)[0]
    assert person["followers"] == 5 and person["profile_synced_at"] is not None


def test_details_store_who_a_pull_request_waits_on(synced):
    """GraphQL's reviewRequests become reviewer_data.requested_reviewers, as from REST and webhooks."""
    stack, ds, repo, repository_id = synced
    open_prs = [pr for pr in ds.prs_by_repo[repo.id] if pr.state == "OPEN"]
    asked = [pr for pr in open_prs if ds.requested_reviewers(pr)][:3] + [
        pr for pr in open_prs if not ds.requested_reviewers(pr)][:1]
    for pr in asked:
        stack.queues.send_event("capture/pr.details", {"repositoryId": str(repository_id), "prNumber": pr.number})
    assert stack.wait_idle(120)
    detailed = rows(stack, "SELECT github_id, reviewer_data FROM pull_requests WHERE github_id = ANY(%s)",
                    [pr.id for pr in asked])
    by_id = {pr.id: pr for pr in asked}
    assert len(detailed) == len(asked) == 4
    for row in detailed:
        people = ds.requested_reviewers(by_id[row["github_id"]])
        wanted = [{"username": u.login, "avatar_url": u.avatar_url} for u in people]
        assert row["reviewer_data"]["requested_reviewers"] == wanted
    assert any(row["reviewer_data"]["requested_reviewers"] for row in detailed)

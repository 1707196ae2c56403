"""Every real GitHub payload in the corpus, signed, through the receiver on the local stack, the queues
and the webhook functions into Postgres: each is accepted, and the database holds what the newest
payload of each object says (deleted objects stay deleted). Tampered or unsigned copies are refused.

One example contradicts the others: ``pull_request_review/dismissed`` names PR #2 of the repository
with another GitHub id than the 36 files that describe PR #2. It is replayed last, and must be
accepted, then recorded as failed with a message naming both ids (GitHub never reuses a number)."""

from __future__ import annotations

import hmac
import json
import uuid
from collections import defaultdict
from typing import Any

import httpx
import pytest

from contribsync.webhook_receiver import handled_events, signature
from contribsync_local.stack import LocalStack
from tests.fixtures import WEBHOOKS

pytestmark = pytest.mark.integration

CORPUS = WEBHOOKS
CONTRADICTING = CORPUS / "pull_request_review" / "dismissed.payload.json"
FILES = [*sorted(p for p in CORPUS.glob("*/*.json") if p != CONTRADICTING), CONTRADICTING]
SECRET = "corpus-test-secret"


def headers(event: str, body: bytes, *, secret: str | None = SECRET) -> dict[str, str]:
    out = {"Content-Type": "application/json", "X-GitHub-Event": event, "X-GitHub-Delivery": str(uuid.uuid4())}
    if secret is not None:
        out["X-Hub-Signature-256"] = signature(secret, body)
    return out


@pytest.fixture(scope="module")
def replayed(isolated_database, aws_endpoint):
    with LocalStack(database_url=isolated_database(), port=0, prefix=f"hook{uuid.uuid4().hex[:6]}", cron=False,
                    retry_base_s=1, aws_endpoint=aws_endpoint, poller_concurrency=4,
                    environment={"GITHUB_WEBHOOK_SECRET": f"retired-secret,{SECRET}"}) as stack:
        statuses: dict[str, int] = {}
        with httpx.Client(timeout=30) as client:
            for path in FILES:
                body = path.read_bytes()
                response = client.post(f"{stack.http.url}/webhook", content=body,
                                       headers=headers(path.parent.name, body))
                statuses[str(path.relative_to(CORPUS))] = response.status_code
        assert stack.wait_idle(180)
        yield stack, statuses



def payloads(event: str) -> list[tuple[str, dict[str, Any]]]:
    return [(p.name, json.loads(p.read_bytes())) for p in FILES if p.parent.name == event and p != CONTRADICTING]


def newest(objects: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """The newest copy of every object by GitHub id (GitHub's updated_at; later files win ties)."""
    out: dict[int, dict[str, Any]] = {}
    for obj in objects:
        current = out.get(obj["id"])
        if current is None or (obj.get("updated_at") or "") >= (current.get("updated_at") or ""):
            out[obj["id"]] = obj
    return out


def deleted(event: str, key: str) -> set[int]:
    return {p[key]["id"] for _, p in payloads(event) if p.get("action") in ("deleted", "transferred")}


def rows(stack: LocalStack, query: str, *args: Any) -> list[dict[str, Any]]:
    return stack.db.connection().execute(query, args).fetchall()


def test_every_payload_is_accepted_and_processed(replayed, report):
    stack, statuses = replayed
    assert len(statuses) == 150
    for name, status in statuses.items():
        assert status == (200 if name.startswith("ping/") else 202), name
    stored = rows(stack, "SELECT event, action, status, error FROM webhook_deliveries")
    assert len(stored) == 147  # every delivery but the three pings
    handled = handled_events()
    failed = [row for row in stored if row["status"] == "failed"]
    assert [(row["event"], row["action"]) for row in failed] == [("pull_request_review", "dismissed")]
    assert "is stored as PR 279147437" in failed[0]["error"] and "says PR 370123640" in failed[0]["error"]
    for row in stored:
        if row not in failed:
            assert row["status"] == ("processed" if row["event"] in handled else "ignored"), row
    # One row per attempt. Four workers apply deliveries of the same objects at once, so an attempt can
    # lose a lock race (a deadlock, say) and be retried: what must hold is each event's last attempt.
    last = rows(stack, """SELECT DISTINCT ON (event_id, function) status, attempt FROM function_runs
                          WHERE function LIKE 'Apply%%' ORDER BY event_id, function, attempt DESC""")
    outcome: dict[str, int] = defaultdict(int)
    for run in last:
        outcome[run["status"]] += 1
    assert dict(outcome) == {"completed": sum(r["status"] == "processed" for r in stored), "failed": 1}
    retried = rows(stack, "SELECT error_type, error FROM function_runs WHERE function LIKE 'Apply%%' "
                          "AND status = 'retrying'")
    assert all(r["error_type"] for r in retried), retried  # a retried attempt says why
    if retried:
        report(f"webhook corpus: {len(retried)} attempt(s) retried under 4 concurrent workers: "
               + "; ".join(sorted({f'{r["error_type"]}: {(r["error"] or "")[:80]}' for r in retried})))


def tied(objects: list[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    """Every copy that shares the newest updated_at, by GitHub id. The corpus has PRs whose
    converted_to_draft and ready_for_review payloads carry the same updated_at: GitHub's clock cannot order
    them, the newer-or-equal rule lets either be written last, and four workers apply them concurrently."""
    best = newest(objects)
    return {github_id: [o for o in objects if o["id"] == github_id and o.get("updated_at") == top.get("updated_at")]
            for github_id, top in best.items()}


def test_pull_requests_hold_the_newest_payload(replayed):
    stack, _ = replayed
    prs = tied([p["pull_request"] for _, p in payloads("pull_request")])
    assert prs
    for github_id, copies in prs.items():
        [row] = rows(stack, "SELECT p.number, p.title, p.state, p.draft, p.merged, p.base_branch, p.head_branch,"
                            " p.updated_at, c.username FROM pull_requests p JOIN contributors c ON c.id = p.author_id"
                            " WHERE p.github_id = %s", github_id)
        stored = (row["number"], row["title"], row["state"], row["draft"], row["base_branch"], row["head_branch"],
                  row["username"], row["updated_at"].isoformat().replace("+00:00", "Z"))
        assert stored in [(pr["number"], pr["title"], "merged" if pr.get("merged_at") else pr["state"],
                           bool(pr.get("draft")), pr["base"]["ref"], pr["head"]["ref"], pr["user"]["login"],
                           pr["updated_at"]) for pr in copies]


def test_reviews_review_comments_and_threads_are_stored(replayed):
    stack, _ = replayed
    for _, p in payloads("pull_request_review"):
        [row] = rows(stack, "SELECT r.state, r.body, pr.github_id AS pr FROM reviews r"
                            " JOIN pull_requests pr ON pr.id = r.pull_request_id WHERE r.github_id = %s",
                     p["review"]["id"])
        assert row["pr"] == p["pull_request"]["id"]
        assert row["state"] == p["review"]["state"].upper() or row["state"] == "DISMISSED"
    gone = deleted("pull_request_review_comment", "comment")
    comments = newest([p["comment"] for _, p in payloads("pull_request_review_comment")]
                      + [c for _, p in payloads("pull_request_review_thread") for c in p["thread"]["comments"]])
    for github_id, comment in comments.items():
        found = rows(stack, "SELECT body, comment_type, path FROM comments WHERE github_id = %s", github_id)
        if github_id in gone:
            assert found == []
        else:
            assert [(r["body"], r["comment_type"], r["path"]) for r in found] == [
                (comment["body"], "review_comment", comment["path"])]


def test_issues_and_comments_hold_the_newest_payload_and_deletions_stick(replayed):
    stack, _ = replayed
    gone_issues = deleted("issues", "issue")
    complete = [p["issue"] for _, p in payloads("issues") if "state" in p["issue"]]  # pinned ones are partial
    for github_id, issue in newest(complete).items():
        found = rows(stack, "SELECT number, title, state, labels FROM issues WHERE github_id = %s", github_id)
        if github_id in gone_issues:
            assert found == []
            continue
        [row] = found
        assert (row["number"], row["title"], row["state"]) == (issue["number"], issue["title"], issue["state"])
        assert [label["name"] for label in row["labels"]] == [label["name"] for label in issue["labels"]]
    transferred = [p for _, p in payloads("issues") if p["action"] == "transferred"]
    for p in transferred:
        new = p["changes"]["new_issue"]
        found = rows(stack, "SELECT i.number, r.full_name FROM issues i JOIN repositories r ON r.id = i.repository_id"
                            " WHERE i.github_id = %s", new["id"])
        assert rows(stack, "SELECT 1 FROM issues WHERE github_id = %s", p["issue"]["id"]) == []  # gone from the old
        if new["id"] in gone_issues:  # the corpus also deletes the issue it transfers to (issues/deleted)
            assert found == []
        else:
            assert [(r["number"], r["full_name"]) for r in found] == [
                (new["number"], p["changes"]["new_repository"]["full_name"])]
    gone_comments = deleted("issue_comment", "comment")
    for github_id, comment in newest([p["comment"] for _, p in payloads("issue_comment")]).items():
        found = rows(stack, "SELECT body FROM comments WHERE github_id = %s", github_id)
        assert [r["body"] for r in found] == ([] if github_id in gone_comments else [comment["body"]])
    assert rows(stack, "SELECT count(*) AS n FROM deleted_github_objects")[0]["n"] >= len(gone_issues) + len(
        gone_comments)


def test_discussions_and_their_comments_are_stored(replayed):
    stack, _ = replayed
    moved = deleted("discussion", "discussion")
    for github_id, discussion in newest([p["discussion"] for _, p in payloads("discussion")]).items():
        found = rows(stack, "SELECT number, title, category_name FROM discussions WHERE github_id = %s", github_id)
        if github_id in moved:
            assert found == []
            continue
        assert [(r["number"], r["title"], r["category_name"]) for r in found] == [
            (discussion["number"], discussion["title"], discussion["category"]["name"])]
    gone = deleted("discussion_comment", "comment")
    for github_id, comment in newest([p["comment"] for _, p in payloads("discussion_comment")]).items():
        found = rows(stack, "SELECT body FROM discussion_comments WHERE github_id = %s", github_id)
        assert [r["body"] for r in found] == ([] if github_id in gone else [comment["body"]])


def test_repositories_are_keyed_by_github_id_through_renames(replayed):
    stack, _ = replayed
    described: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for path in FILES:
        repository = json.loads(path.read_bytes()).get("repository")
        if path.parent.name in handled_events() and isinstance(repository, dict):
            described[repository["id"]].append(repository)
    for github_id, copies in described.items():
        [row] = rows(stack, "SELECT full_name, is_private FROM repositories WHERE github_id = %s", github_id)
        # two example repositories share a name: the one described last holds it, the other is marked
        assert row["full_name"] in {c["full_name"] for c in copies} | {f"{c['full_name']}~{github_id}" for c in copies}
    renamed = [p for _, p in payloads("repository") if p["action"] == "renamed"]
    assert renamed
    for p in renamed:
        assert len(rows(stack, "SELECT 1 FROM repositories WHERE github_id = %s", p["repository"]["id"])) == 1


def test_stars_members_and_installations(replayed):
    stack, _ = replayed
    starred = [p for _, p in payloads("star") if p["action"] == "created"]
    for p in starred:
        assert rows(stack, "SELECT 1 FROM github_events_cache WHERE event_type = 'WatchEvent' AND actor_login = %s",
                    p["sender"]["login"])
    for _, p in payloads("member"):
        assert rows(stack, "SELECT 1 FROM contributors WHERE github_id = %s", p["member"]["id"])
    added = [r["full_name"] for _, p in payloads("installation_repositories") for r in p["repositories_added"]]
    discovered = {f"{r['data']['owner']}/{r['data']['repo']}" for r in rows(
        stack, "SELECT data FROM function_runs WHERE function = 'DiscoverNewRepository'")}
    assert set(added) <= discovered


@pytest.mark.parametrize("case", ["flipped byte", "wrong secret", "no signature", "sha1 only"])
def test_tampered_or_unsigned_payloads_are_refused(replayed, case):
    stack, _ = replayed
    before = rows(stack, "SELECT count(*) AS n FROM webhook_deliveries")[0]["n"]
    with httpx.Client(timeout=30) as client:
        for path in FILES:
            body = path.read_bytes()
            sent = body
            h = headers(path.parent.name, body)
            if case == "flipped byte":
                sent = body[:10] + bytes([body[10] ^ 0x01]) + body[11:]
            elif case == "wrong secret":
                h = headers(path.parent.name, body, secret="not-the-secret")
            elif case == "no signature":
                h = headers(path.parent.name, body, secret=None)
            else:
                h = headers(path.parent.name, body, secret=None)
                h["X-Hub-Signature"] = "sha1=" + hmac.new(SECRET.encode(), body, "sha1").hexdigest()
            assert client.post(f"{stack.http.url}/webhook", content=sent, headers=h).status_code == 401, path
    assert rows(stack, "SELECT count(*) AS n FROM webhook_deliveries")[0]["n"] == before


def test_a_signed_payload_missing_its_objects_fails_once_with_a_clear_error(replayed):
    stack, _ = replayed
    opened = json.loads((CORPUS / "pull_request" / "opened.payload.json").read_bytes())
    body = json.dumps({"action": "opened", "number": 1, "repository": opened["repository"]}).encode()
    h = headers("pull_request", body)
    with httpx.Client(timeout=30) as client:
        assert client.post(f"{stack.http.url}/webhook", content=body, headers=h).status_code == 202
    assert stack.wait_idle(60)
    [row] = rows(stack, "SELECT status, error FROM webhook_deliveries WHERE delivery_id = %s",
                 h["X-GitHub-Delivery"])
    assert row["status"] == "failed" and "malformed pull_request payload" in row["error"]
    [run] = rows(stack, "SELECT status, attempt FROM function_runs WHERE event_id = %s",
                 f"webhook:{h['X-GitHub-Delivery']}")
    assert (run["status"], run["attempt"]) == ("failed", 1)  # non-retriable: no retry spent

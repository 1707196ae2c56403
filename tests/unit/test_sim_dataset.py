"""The simulator's dataset is deterministic, sized as asked, GitHub-shaped and keeps its invariants."""

from __future__ import annotations

import json
import random
import re
from datetime import UTC, datetime, timedelta

import pytest

from contribsync_sim.dataset import (
    DEPENDABOT_ID,
    GHOST_ID,
    LONG_BODY_MIN,
    RENOVATE_ID,
    Dataset,
    generate,
    ground_truth,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)
CJK = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af]")
RTL = re.compile(r"[\u0590-\u05ff\u0600-\u06ff]")
EMOJI = re.compile(r"[\U0001F300-\U0001FAFF]")


@pytest.fixture(scope="module")
def big() -> Dataset:
    return generate(42, repos=4, prs_per_repo=500)


def check_invariants(ds: Dataset) -> None:  # noqa: C901, PLR0912, PLR0915 - one flat list of checks
    node_ids: set[str] = set()
    for table in (
        ds.users,
        ds.repos,
        ds.prs,
        ds.reviews,
        ds.review_comments,
        ds.issue_comments,
        ds.issues,
        ds.discussions,
    ):
        for key, item in table.items():
            assert key == item.id
            assert item.node_id not in node_ids, item.node_id
            node_ids.add(item.node_id)
    for repo_id, prs in ds.prs_by_repo.items():
        numbers = [pr.number for pr in prs]
        assert numbers == sorted(numbers)
        issue_numbers = {i.number for i in ds.issues_by_repo[repo_id]}
        assert not issue_numbers & set(numbers), "issues and pull requests share one number sequence"
        assert set(numbers) | issue_numbers == set(range(1, ds.next_number[repo_id]))
    for pr in ds.prs.values():
        assert pr.node_id.startswith("PR_kwDO")
        assert pr.author_id in ds.users
        assert pr.created_at <= pr.updated_at
        assert pr.created_at.tzinfo is not None
        if pr.state == "MERGED":
            assert pr.merged_at is not None
            assert pr.closed_at is not None
            assert pr.merged_by_id in ds.users
            assert pr.created_at <= pr.merged_at <= pr.closed_at <= pr.updated_at
            assert not pr.draft
        elif pr.state == "CLOSED":
            assert pr.closed_at is not None
            assert pr.merged_at is None
            assert pr.created_at <= pr.closed_at <= pr.updated_at
        else:
            assert pr.state == "OPEN"
            assert pr.closed_at is None
            assert pr.merged_at is None
        assert pr.changed_files == len(pr.files) >= 1
        assert pr.additions == sum(f.additions for f in pr.files)
        assert pr.deletions == sum(f.deletions for f in pr.files)
        assert re.fullmatch(r"[0-9a-f]{40}", pr.head_sha)
        assert ds.pr_by_number[(pr.repo_id, pr.number)] is pr
    for review in ds.reviews.values():
        pr = ds.prs[review.pr_id]
        assert review.state in {"APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED"}
        assert pr.created_at <= review.submitted_at <= pr.updated_at
        assert review.author_id in ds.users
    for comment in ds.review_comments.values():
        assert ds.reviews[comment.review_id].pr_id == comment.pr_id
        assert comment.created_at <= comment.updated_at
        if comment.in_reply_to_id is not None:
            target = ds.review_comments[comment.in_reply_to_id]
            assert target.pr_id == comment.pr_id
            assert target.id < comment.id
            assert target.path == comment.path
    for ic in ds.issue_comments.values():
        number_key = (ic.repo_id, ic.issue_or_pr_number)
        parent = ds.pr_by_number[number_key] if ic.is_pr else ds.issue_by_number[number_key]
        assert parent.created_at <= ic.created_at <= ic.updated_at <= parent.updated_at
        assert ic in ds.issue_comments_by_number[number_key]
    for issue in ds.issues.values():
        assert issue.created_at <= issue.updated_at <= ds.now
        if issue.state == "CLOSED":
            assert issue.closed_at is not None
            assert issue.created_at <= issue.closed_at <= issue.updated_at
            assert issue.state_reason in {"COMPLETED", "NOT_PLANNED"}
        else:
            assert issue.closed_at is None
            assert issue.state_reason is None
        assert all(a in ds.users for a in issue.assignee_ids)
    for discussion in ds.discussions.values():
        assert ds.repos[discussion.repo_id].has_discussions
        assert discussion.created_at <= discussion.updated_at <= ds.now
        assert (discussion.answer_comment_id is None) == (discussion.answer_chosen_at is None)
        if discussion.answer_comment_id is not None:
            assert discussion.category.is_answerable
            assert discussion.comment_count > 0


def test_same_seed_same_dataset_and_different_seed_differs() -> None:
    first = generate(7, repos=2, prs_per_repo=60)
    second = generate(7, repos=2, prs_per_repo=60)
    assert ground_truth(first) == ground_truth(second)
    assert list(first.prs.values()) == list(second.prs.values())
    assert list(first.review_comments.values()) == list(second.review_comments.values())
    assert list(first.discussions.values()) == list(second.discussions.values())
    other = generate(8, repos=2, prs_per_repo=60)
    assert ground_truth(other)["repos"] != ground_truth(first)["repos"]


def test_generation_does_not_use_global_random() -> None:
    random.seed(1)
    first = ground_truth(generate(3, prs_per_repo=30))
    random.seed(2)
    assert ground_truth(generate(3, prs_per_repo=30)) == first


def test_ten_prs() -> None:
    ds = generate(1, prs_per_repo=10)
    assert len(ds.prs) == 10
    assert len(ds.repos) == 1
    check_invariants(ds)
    truth = ground_truth(ds)
    assert sum(r["pull_requests"]["total"] for r in truth["repos"].values()) == 10


def test_two_thousand_prs(big: Dataset) -> None:
    assert len(big.prs) == 2000
    assert len(big.repos) == 4
    check_invariants(big)
    for repo_id, prs in big.prs_by_repo.items():
        assert len(prs) == 500
        assert 200 <= len(big.issues_by_repo[repo_id]) <= 300, "about half as many issues as pull requests"
        issue_numbers = sorted(i.number for i in big.issues_by_repo[repo_id])
        assert issue_numbers[0] < prs[-1].number and prs[0].number < issue_numbers[-1], "numbers are interleaved"


def test_content_mix(big: Dataset) -> None:
    states = {pr.state for pr in big.prs.values()}
    assert states == {"OPEN", "CLOSED", "MERGED"}
    assert any(pr.draft for pr in big.prs.values())
    assert any(not big.reviews_by_pr[pr.id] for pr in big.prs.values())
    assert max(len(big.reviews_by_pr[pr.id]) for pr in big.prs.values()) == 4
    assert {r.state for r in big.reviews.values()} == {"APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED"}
    assert any(c.in_reply_to_id is not None for c in big.review_comments.values())
    assert any(c.position is None for c in big.review_comments.values()), "some comments are outdated"
    assert any(c.is_pr for c in big.issue_comments.values())
    assert any(not c.is_pr for c in big.issue_comments.values())
    assert any(i.state == "CLOSED" for i in big.issues.values())
    assert any(i.state == "OPEN" for i in big.issues.values())


def test_bots_and_ghost(big: Dataset) -> None:
    dependabot, renovate, ghost = big.users[DEPENDABOT_ID], big.users[RENOVATE_ID], big.users[GHOST_ID]
    assert (dependabot.login, dependabot.type) == ("dependabot[bot]", "Bot")
    assert (renovate.login, renovate.type) == ("renovate[bot]", "Bot")
    assert ghost.login == "ghost"
    assert ghost.node_id == "MDQ6VXNlcjEwMTM3"
    authors = [pr.author_id for pr in big.prs.values()]
    assert authors.count(DEPENDABOT_ID) > 10
    assert authors.count(RENOVATE_ID) > 5
    assert GHOST_ID in authors
    assert any(c.author_id == GHOST_ID for c in big.issue_comments.values())
    assert any(r.author_id == GHOST_ID for r in big.reviews.values())


def test_discussions(big: Dataset) -> None:
    disabled = [r for r in big.repos.values() if not r.has_discussions]
    enabled = [r for r in big.repos.values() if r.has_discussions]
    assert disabled and enabled
    for repo in disabled:
        assert big.discussions_by_repo[repo.id] == []
    assert sum(len(big.discussions_by_repo[r.id]) for r in enabled) > 0
    for repo in big.repos.values():
        assert 0 <= len(big.discussions_by_repo[repo.id]) <= 40
    assert any(d.answer_comment_id is not None for d in big.discussions.values())


def test_unicode_and_long_bodies(big: Dataset) -> None:
    texts = [pr.body for pr in big.prs.values()] + [pr.title for pr in big.prs.values()]
    texts += [c.body for c in big.issue_comments.values()] + [u.name or "" for u in big.users.values()]
    joined = "\n".join(t for t in texts if len(t) < LONG_BODY_MIN)
    assert CJK.search(joined)
    assert RTL.search(joined)
    assert EMOJI.search(joined)
    long_bodies = [pr for pr in big.prs.values() if len(pr.body) > 70_000]
    assert long_bodies
    assert len(long_bodies) < len(big.prs) // 100, "long bodies are occasional"


def test_timestamps_respect_now() -> None:
    now = datetime(2024, 6, 1, 12, tzinfo=UTC)
    ds = generate(5, repos=2, prs_per_repo=80, now=now)
    check_invariants(ds)
    assert max(pr.updated_at for pr in ds.prs.values()) <= now
    assert max(r.updated_at for r in ds.repos.values()) <= now
    assert generate(5, prs_per_repo=10).now == NOW


def test_ground_truth_is_json_and_consistent(big: Dataset) -> None:
    truth = ground_truth(big)
    assert json.loads(json.dumps(truth)) == truth
    for name, repo_truth in truth["repos"].items():
        repo = big.repo_by_name[name]
        prs = big.prs_by_repo[repo.id]
        assert repo_truth["pr_numbers"] == [pr.number for pr in prs]
        counts = repo_truth["pull_requests"]
        assert counts["OPEN"] + counts["CLOSED"] + counts["MERGED"] == counts["total"] == 500
        assert repo_truth["reviews"] == sum(len(big.reviews_by_pr[pr.id]) for pr in prs)
        assert repo_truth["issues"]["total"] == len(big.issues_by_repo[repo.id])
        assert repo_truth["discussions"] == len(big.discussions_by_repo[repo.id])
        assert repo_truth["distinct_contributors"] >= repo_truth["distinct_pr_authors"] > 3


def test_mutations_keep_invariants() -> None:
    ds = generate(11, repos=2, prs_per_repo=40)
    rng = random.Random(99)
    repo_id = next(iter(ds.repos))
    before = ground_truth(ds)["repos"][ds.repos[repo_id].full_name]
    later = ds.now + timedelta(hours=1)

    pr = ds.open_pr(repo_id, rng, later)
    assert pr.state == "OPEN"
    assert pr.number == max(before["pr_numbers"] + before["issue_numbers"]) + 1
    assert ds.prs_by_repo[repo_id][-1] is pr
    assert pr.node_id.startswith("PR_kwDO")

    edited_at = later + timedelta(minutes=5)
    ds.edit_pr(pr.id, edited_at)
    assert pr.updated_at == edited_at
    assert "(edited)" in pr.title

    reviewed_at = later + timedelta(minutes=10)
    review = ds.add_review(pr.id, rng, reviewed_at)
    assert review in ds.reviews_by_pr[pr.id]
    assert review.commit_id == pr.head_sha
    assert pr.updated_at == reviewed_at

    merged = ds.close_pr(pr.id, later + timedelta(minutes=20), merge=True)
    assert merged is pr
    assert merged.state == "MERGED"
    assert pr.merged_at == pr.closed_at == pr.updated_at
    with pytest.raises(ValueError, match="not OPEN"):
        ds.close_pr(pr.id, later + timedelta(minutes=30), merge=False)

    other = next(p for p in ds.prs.values() if p.state == "OPEN" and p.id != pr.id)
    ds.close_pr(other.id, later + timedelta(minutes=40), merge=False)
    assert other.state == "CLOSED"
    assert other.merged_at is None
    assert other.closed_at == later + timedelta(minutes=40)

    comment = next(iter(ds.issue_comments.values()))
    deleted_at = later + timedelta(minutes=50)
    ds.delete_issue_comment(comment.id, deleted_at)
    assert comment.id not in ds.issue_comments
    key = (comment.repo_id, comment.issue_or_pr_number)
    assert comment not in ds.issue_comments_by_number[key]
    parent = ds.pr_by_number[key] if comment.is_pr else ds.issue_by_number[key]
    assert parent.updated_at == deleted_at

    ds.now = later + timedelta(hours=1)
    check_invariants(ds)
    after = ground_truth(ds)["repos"][ds.repos[repo_id].full_name]
    assert after["pull_requests"]["total"] == before["pull_requests"]["total"] + 1
    assert after["reviews"] == before["reviews"] + 1
    assert after["review_comments"] == before["review_comments"] + 1


def test_mutations_are_deterministic() -> None:
    def run() -> dict[str, object]:
        ds = generate(13, prs_per_repo=20)
        rng = random.Random(5)
        repo_id = next(iter(ds.repos))
        at = ds.now + timedelta(hours=2)
        pr = ds.open_pr(repo_id, rng, at)
        ds.add_review(pr.id, rng, at)
        ds.close_pr(pr.id, at, merge=rng.random() < 0.5)
        return ground_truth(ds)

    assert run() == run()


def test_rejects_empty_sizes() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        generate(1, prs_per_repo=0)

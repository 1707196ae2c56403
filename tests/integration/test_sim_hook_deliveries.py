"""The simulator's webhook delivery log: every attempt recorded as GitHub records it, the hook endpoints
(list with cursor pages, one delivery, redeliver) for a repository's hook and for the App's, and the
redelivery window."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import httpx
import pytest

from contribsync_local.http import FUNCTION_URL_MAX_BYTES, LocalHttp
from contribsync_sim.changes import HOOK_ID
from contribsync_sim.dataset import generate
from contribsync_sim.simulator import Simulator

pytestmark = pytest.mark.integration

SECRET = "hook-secret"


class Receiver:
    """A webhook receiver that records what it gets and answers ``status``."""

    def __init__(self) -> None:
        self.status = 202
        self.got: list[tuple[dict, bytes]] = []
        self.http = LocalHttp(event_api=lambda event, context: {"statusCode": 404}, webhook=self.handle, port=0)

    def handle(self, event, context):
        self.got.append((event["headers"], event["body"].encode()))
        return {"statusCode": self.status, "headers": {"x-receiver": "test"}, "body": '{"ok": true}'}

    @property
    def url(self) -> str:
        return f"{self.http.url}/webhook"

    def guids(self) -> list[str]:
        return [headers["x-github-delivery"] for headers, _ in self.got]


@pytest.fixture
def receiver():
    r = Receiver()
    r.http.start()
    yield r
    r.http.stop()


@pytest.fixture
def sim():
    with Simulator(dataset=generate(43, repos=2, prs_per_repo=20)) as simulator:
        yield simulator


def send(sim, sender, n: int, *, seed: int = 1, kind: str | None = None) -> list:
    feed = sim.feed(SECRET, seed=seed)
    produced = []
    for _ in range(n):
        batch = feed.step(kind)
        produced += batch
        sender.send(batch)
    return produced


def pages(http: httpx.Client, url: str, per_page: int) -> tuple[list[dict], list[str]]:
    """Every item by following ``rel="next"``, and the URLs requested."""
    items, seen = [], []
    next_url: str | None = f"{url}?per_page={per_page}"
    while next_url:
        seen.append(next_url)
        response = http.get(next_url)
        assert response.status_code == 200, response.text
        items += response.json()
        next_url = response.links.get("next", {}).get("url")
    return items, seen


def test_every_attempt_is_logged_as_github_logs_it(sim, receiver):
    # GIVEN a receiver that is down for about a third of the attempts
    sender = sim.sender(receiver.url, drop=0.35, seed=2)
    produced = send(sim, sender, 12)
    # THEN every delivery has exactly one attempt, in the order made
    attempts = sim.deliveries.attempts()[::-1]
    assert [a.guid for a in attempts] == [d.id for d in produced]
    assert [a.id for a in attempts] == sorted({a.id for a in attempts})
    lost = [a for a in attempts if a.status_code == 0]
    assert 0 < len(lost) == sender.result.dropped < len(attempts)
    assert {(a.status, a.duration) for a in lost} == {("timed out", 10.0)}
    delivered = [a for a in attempts if a.status_code != 0]
    assert {(a.status, a.status_code) for a in delivered} == {("OK", 202)}
    assert receiver.guids() == [a.guid for a in delivered]  # the lost ones were never posted
    for a in attempts:
        item = a.item()
        assert item["redelivery"] is False and item["delivered_at"].endswith("Z")
        assert item["repository_id"] == a.delivery.payload["repository"]["id"]
        assert item["installation_id"] == a.delivery.payload["installation"]["id"] == 1
        assert (item["event"], item["action"]) == (a.delivery.event, a.delivery.action)


def test_every_delivery_is_sent_exactly_copies_times_shuffled_by_several_workers(sim, receiver):
    sender = sim.sender(receiver.url, copies=3, reorder=200, workers=4, seed=4)
    produced = send(sim, sender, 12)
    assert receiver.got == []  # the whole stream is kept back by the shuffle window
    sender.flush()
    assert Counter(receiver.guids()) == {d.id: 3 for d in produced}
    assert sender.result.sent == 3 * len(produced) and sender.result.duplicates == 0
    assert receiver.guids() != [d.id for d in produced for _ in range(3)]
    assert len(sim.deliveries.attempts()) == 3 * len(produced)


def test_an_error_answer_is_logged_with_its_code(sim, receiver):
    receiver.status = 503
    sender = sim.sender(receiver.url, seed=3)
    send(sim, sender, 2)
    assert {(a.status, a.status_code) for a in sim.deliveries.attempts()} == {("Invalid HTTP Response: 503", 503)}
    assert sender.result.statuses == {503: 2}


def test_a_receiver_nobody_listens_on_is_logged_as_failed_to_connect(sim):
    sender = sim.sender("http://127.0.0.1:9/webhook", seed=4)
    send(sim, sender, 1, kind="open_pr")
    (attempt,) = sim.deliveries.attempts()
    assert (attempt.status, attempt.status_code) == ("failed to connect", 0)


@pytest.mark.parametrize("prefix", ["", "/api/v3"])
def test_a_repositorys_hook_lists_its_own_deliveries_newest_first_in_cursor_pages(sim, receiver, prefix):
    sender = sim.sender(receiver.url, drop=0.3, seed=5)
    send(sim, sender, 16)
    repo = next(iter(sim.ds.repos.values()))
    api = f"{sim.url}{prefix}/repos/{repo.full_name}"
    with httpx.Client() as http:
        (hook,) = http.get(f"{api}/hooks").json()
        assert (hook["id"], hook["active"], hook["config"]["url"]) == (HOOK_ID, True, receiver.url)
        assert hook["deliveries_url"] == f"{api}/hooks/{HOOK_ID}/deliveries"
        items, urls = pages(http, hook["deliveries_url"], per_page=3)
    expected = sim.deliveries.attempts(repository_id=repo.id)
    assert 3 < len(expected) < len(sim.deliveries.attempts())  # the other repository's are not listed
    assert [i["id"] for i in items] == [a.id for a in expected]
    assert [i["id"] for i in items] == sorted((i["id"] for i in items), reverse=True)
    assert len(urls) == -(-len(expected) // 3)
    assert all("cursor=" in u and "per_page=3" in u for u in urls[1:])
    assert all(u.startswith(f"{api}/hooks/{HOOK_ID}/deliveries") for u in urls)


def test_one_delivery_carries_its_request_and_response(sim, receiver):
    sender = sim.sender(receiver.url, seed=6)
    (delivery,) = send(sim, sender, 1, kind="open_issue")
    (attempt,) = sim.deliveries.attempts()
    repo = sim.ds.repos[attempt.repository_id]
    with httpx.Client(base_url=sim.url) as http:
        one = http.get(f"/repos/{repo.full_name}/hooks/{HOOK_ID}/deliveries/{attempt.id}").json()
        via_app = http.get(f"/app/hook/deliveries/{attempt.id}").json()
    assert one == via_app
    assert one["guid"] == delivery.id == one["request"]["headers"]["X-GitHub-Delivery"]
    assert one["request"]["payload"] == delivery.payload
    assert one["response"]["payload"] == '{"ok": true}'
    assert one["response"]["headers"]["x-receiver"] == "test"
    assert one["url"] == receiver.url


def test_a_7_mb_delivery_refused_at_the_door_is_logged_as_413_with_its_whole_payload(sim, receiver):
    # GIVEN two edits of a PR body: the second's delivery is 7 MB, over the Function URL's 6 MB
    sender = sim.sender(receiver.url, seed=7)
    *fits, big = sim.feed(SECRET, seed=8).oversized(7 * 1024 * 1024)
    assert len(big.body) > 7 * 1024 * 1024 > FUNCTION_URL_MAX_BYTES >= max(len(d.body) for d in fits)
    # WHEN they are delivered to the local door
    sender.send([*fits, big])
    # THEN the receiver got what fits, and the door answered the 7 MB one 413, as GitHub logs it
    assert receiver.guids() == [d.id for d in fits]
    (attempt,) = sim.deliveries.attempts(guid=big.id)
    assert (attempt.status, attempt.status_code) == ("Invalid HTTP Response: 413", 413)
    # AND the delivery's detail carries the headers and the whole payload GitHub sent
    with httpx.Client(base_url=sim.url, timeout=60) as http:
        one = http.get(f"/app/hook/deliveries/{attempt.id}").json()
    assert one["request"]["headers"] == big.headers
    assert one["request"]["payload"] == big.payload
    assert one["status_code"] == 413
    # AND the pull request's new body is the one the API serves
    pr = big.payload["pull_request"]
    assert sim.ds.prs[pr["id"]].body == pr["body"] != big.payload["changes"]["body"]["from"]


def test_a_redelivery_sends_the_same_body_and_guid_and_is_logged_as_one(sim, receiver):
    # GIVEN a delivery lost while the receiver was down
    sender = sim.sender(receiver.url, drop=1.0, seed=7)
    (lost,) = send(sim, sender, 1, kind="open_pr")
    (failed,) = sim.deliveries.attempts()
    repo = sim.ds.repos[failed.repository_id]
    sender.drop = 0.0  # the receiver is back
    # WHEN a redelivery is asked for
    with httpx.Client(base_url=sim.url) as http:
        response = http.post(f"/repos/{repo.full_name}/hooks/{HOOK_ID}/deliveries/{failed.id}/attempts")
    assert response.status_code == 202
    assert sender.wait(10)
    # THEN the receiver got the very same bytes under the same guid, and the log has a second attempt
    assert receiver.got[0][1] == lost.body
    assert receiver.got[0][0]["x-github-delivery"] == lost.id
    assert receiver.got[0][0]["x-hub-signature-256"] == lost.headers["X-Hub-Signature-256"]
    newest, first = sim.deliveries.attempts(guid=lost.id)
    assert first is failed
    assert (newest.redelivery, newest.status, newest.status_code) == (True, "OK", 202)
    assert newest.id > failed.id and newest.delivered_at >= failed.delivered_at
    assert sender.result.redelivered == 1


def test_the_app_hook_lists_every_repositorys_deliveries_and_redelivers(sim, receiver):
    sender = sim.sender(receiver.url, drop=1.0, seed=8)
    send(sim, sender, 10)
    sender.drop = 0.0
    with httpx.Client(base_url=sim.url) as http:
        items, _ = pages(http, f"{sim.url}/app/hook/deliveries", per_page=4)
        assert [i["id"] for i in items] == [a.id for a in sim.deliveries.attempts()]
        assert len({i["repository_id"] for i in items}) == 2
        assert http.post(f"/app/hook/deliveries/{items[-1]['id']}/attempts").status_code == 202
    assert sender.wait(10)
    assert receiver.guids() == [items[-1]["guid"]]


def test_redelivery_is_refused_past_the_window_and_unknown_ids_are_404(sim, receiver):
    sender = sim.sender(receiver.url, drop=1.0, seed=9)
    send(sim, sender, 6)
    attempts = sim.deliveries.attempts()
    repo = sim.ds.repos[attempts[0].repository_id]
    other = next(a for a in attempts if a.repository_id != repo.id)
    hook = f"/repos/{repo.full_name}/hooks/{HOOK_ID}/deliveries"
    sim.deliveries.age(timedelta(days=3, minutes=1))
    with httpx.Client(base_url=sim.url) as http:
        refused = http.post(f"{hook}/{attempts[0].id}/attempts")
        assert refused.status_code == 422
        assert "older than 3 days" in refused.json()["errors"][0]["message"]
        assert http.post(f"/app/hook/deliveries/{attempts[0].id}/attempts").status_code == 422
        assert http.post(f"{hook}/{other.id}/attempts").status_code == 404  # another repository's
        assert http.get(f"{hook}/{other.id}").status_code == 404
        assert http.post(f"{hook}/999/attempts").status_code == 404
        assert http.get(f"/repos/{repo.full_name}/hooks/1/deliveries").status_code == 404
        assert http.get(f"/repos/{repo.owner.login}/no-such-repo/hooks").status_code == 404
        assert http.get(f"{hook}?cursor=nonsense").status_code == 400
    assert sender.wait(10)
    assert receiver.got == [] and sender.result.redelivered == 0
    assert len(sim.deliveries.attempts()) == len(attempts)


def test_without_a_sender_there_is_no_hook(sim):
    repo = next(iter(sim.ds.repos.values()))
    with httpx.Client(base_url=sim.url) as http:
        assert http.get(f"/repos/{repo.full_name}/hooks").json() == []
        assert http.get(f"/repos/{repo.full_name}/hooks/{HOOK_ID}/deliveries").status_code == 404
        assert http.get("/app/hook/deliveries").status_code == 404

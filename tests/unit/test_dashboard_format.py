"""How the dashboard writes times, durations and values (``contribsync_local.dashboard``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from contribsync_local.dashboard import ago, dead_letter_view, duration, summary, when

NOW = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(("ms", "text"), [
    (None, ""), (0, "0 ms"), (340, "340 ms"), (2_440, "2.4 s"), (59_900, "59.9 s"), (192_000, "3 min 12 s"),
    (3_900_000, "1 h 5 min"),
])
def test_durations_read_as_a_person_would_say_them(ms, text):
    assert duration(ms) == text


def test_times_are_shown_in_utc_whatever_their_zone():
    paris = datetime(2026, 5, 1, 14, 0, 3, tzinfo=timezone(timedelta(hours=2)))
    assert when(paris) == "2026-05-01 12:00:03 UTC"
    assert when(paris, zone=False) == "2026-05-01 12:00:03"
    assert when(None) == ""


@pytest.mark.parametrize(("delta", "text"), [
    (timedelta(0), "just now"), (timedelta(seconds=12), "12 s ago"), (timedelta(minutes=3, seconds=5), "3 min ago"),
    (timedelta(hours=2, minutes=59), "2 h ago"), (timedelta(days=3), "3 d ago"), (-timedelta(minutes=59), "in 59 min"),
])
def test_ages_are_rough_and_say_which_way(delta, text):
    assert ago(NOW - delta, NOW) == text


def test_a_summary_is_one_line_of_json_cut_short():
    assert summary({"a": [1, 2], "b": "x\ny"}) == '{"a": [1, 2], "b": "x\\ny"}'
    assert summary("two\n  lines") == "two lines"
    assert summary(None) == ""
    long = summary({"k": "v" * 500}, limit=20)
    assert len(long) == 20 and long.endswith("…")


def test_a_dead_letter_is_read_as_an_event_when_it_is_one():
    event = dead_letter_view({"body": '{"name": "classify/single-repository", "id": "e1", "data": {"x": 1}}'})
    assert (event["event_name"], event["event_id"], event["data"]) == ("classify/single-repository", "e1", {"x": 1})
    poison = dead_letter_view({"body": "<b>not json"})
    assert (poison["event_name"], poison["data"], poison["body"]) == (None, None, "<b>not json")
    assert dead_letter_view({"body": "[1, 2]"})["event_name"] is None

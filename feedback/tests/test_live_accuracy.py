"""The live accuracy of each model version (feedback/live_accuracy.py) on rows made through the
real services, on SQLite and PostgreSQL alike (DATABASE_URL): the history of conftest.py."""
from __future__ import annotations

import datetime

import pytest

from catmodel.evaluation.metrics import wilson_interval
from feedback import live_accuracy
from feedback.live_accuracy import Version
from feedback.services import feedback_withdraw

pytestmark = pytest.mark.django_db


def by_version(report):
    return {(v["model"], v["version"]): v for v in report["versions"]}


def confirmed(count, total):
    low, high = wilson_interval(count, total)
    return {"count": count, "share": pytest.approx(count / total), "wilson_low": pytest.approx(low),
            "wilson_high": pytest.approx(high)}


def test_each_version_all_time(history, django_assert_num_queries):
    # One for the days, one for the corrections, one for the drift window (classifier/drift.py).
    with django_assert_num_queries(3):
        report = live_accuracy.model_report()
    assert report["schema"] == live_accuracy.REPORT_SCHEMA
    assert report["since_days"] is None and report["since"] is None
    # The latest answering first.
    assert [(v["model"], v["version"]) for v in report["versions"]] == [
        ("catnet", "2.0"), ("catnet", "1.0")]
    old = by_version(report)["catnet", "1.0"]
    # 9 answers, 2 of them "not a cat"; 7 verdicts, 3 of them "right".
    assert old["identifications"] == 9
    assert old["not_a_cat"] == 2 and old["not_a_cat_share"] == pytest.approx(2 / 9)
    assert old["feedback"] == 7
    assert old["confirmed"] == confirmed(3, 7)
    assert old["corrections"] == [
        {"predicted": "lion", "true_label": "tiger", "count": 2},
        {"predicted": "lion", "true_label": "not-a-cat", "count": 1},
        {"predicted": "lynx", "true_label": "eurasian-lynx", "count": 1},
    ]
    assert (old["first_day"], old["last_day"]) == (history.day(40), history.day(1))
    new = by_version(report)["catnet", "2.0"]
    assert (new["identifications"], new["feedback"]) == (3, 2)
    assert new["confirmed"] == confirmed(2, 2) and new["confirmed"]["wilson_high"] == 1.0
    assert new["not_a_cat_share"] == pytest.approx(1 / 3)
    assert new["corrections"] == []


def test_the_days_of_a_version(history):
    old = by_version(live_accuracy.model_report())["catnet", "1.0"]
    days = {d["date"]: d for d in old["daily"]}
    assert list(days) == [history.day(40), history.day(3), history.day(1)]  # oldest first
    three = days[history.day(3)]
    assert (three["identifications"], three["not_a_cat"], three["feedback"]) == (5, 1, 4)
    assert three["not_a_cat_share"] == pytest.approx(1 / 5)
    assert three["confirmed"] == confirmed(2, 4)
    one = days[history.day(1)]
    assert (one["identifications"], one["feedback"], one["confirmed"]["count"]) == (3, 2, 0)
    assert one["confirmed"]["share"] == 0.0 and one["confirmed"]["wilson_low"] == 0.0


def test_a_window_counts_the_answers_given_in_it(history):
    report = live_accuracy.model_report(since_days=30, now=history.now)
    assert report["since_days"] == 30 and report["since"].startswith(history.day(30))
    old = by_version(report)["catnet", "1.0"]
    # The answer of 40 days ago is left out.
    assert (old["identifications"], old["feedback"]) == (8, 6)
    assert old["confirmed"] == confirmed(2, 6)
    assert old["first_day"] == history.day(3)
    # An hour later, the last day holds only 2.0's answers (1.0's are 25 hours old).
    later = history.now + datetime.timedelta(hours=1)
    today = live_accuracy.model_report(since_days=1, now=later)
    assert [v["version"] for v in today["versions"]] == ["2.0"]


def test_without_verdicts_the_share_is_null(history):
    history.answer("lion", version="3.0")
    fresh = by_version(live_accuracy.model_report())["catnet", "3.0"]
    assert fresh["feedback"] == 0
    assert fresh["confirmed"] == {"count": 0, "share": None, "wilson_low": None,
                                  "wilson_high": None}


def test_a_withdrawn_verdict_counts_no_more(history):
    answer = history.answer("lion", version="3.0", verdict={"correct": True})
    assert by_version(live_accuracy.model_report())["catnet", "3.0"]["feedback"] == 1
    assert feedback_withdraw(answer.pk)
    assert by_version(live_accuracy.model_report())["catnet", "3.0"]["feedback"] == 0


def test_a_correction_to_an_entry_deleted_since(history, make_species):
    entry = make_species()
    history.answer("lion", version="3.0", verdict={"correct": False, "species": entry.slug})
    entry.delete()
    fresh = by_version(live_accuracy.model_report())["catnet", "3.0"]
    assert fresh["corrections"] == [{"predicted": "lion", "true_label": None, "count": 1}]


def test_the_card_shows_the_share_from_thirty_verdicts(history):
    version = Version("catnet", "4.0")
    for _ in range(live_accuracy.CARD_MIN_VERDICTS - 2):
        history.answer("lion", version="4.0", verdict={"correct": True})
    history.answer("lion", version="4.0", verdict=wrong_tiger())
    assert live_accuracy.card_accuracy(version) == {"feedback": 29, "min_verdicts": 30,
                                                    "confirmed": None}
    history.answer("lion", version="4.0")  # an answer without a verdict is no verdict
    assert live_accuracy.card_accuracy(version)["confirmed"] is None
    history.answer("lion", version="4.0", verdict={"correct": True})
    card = live_accuracy.card_accuracy(version)
    assert card["feedback"] == 30 and card["confirmed"] == confirmed(29, 30)


def wrong_tiger():
    return {"correct": False, "species": "tiger"}


@pytest.mark.parametrize(("given", "days"), [(None, None), ("", None), ("7", 7), (" 30 ", 30)])
def test_the_window_as_typed(given, days):
    assert live_accuracy.parse_since(given) == days


@pytest.mark.parametrize("given", ["0", "-3", "week", "1.5"])
def test_a_window_that_is_no_whole_number_of_days(given):
    with pytest.raises(ValueError, match="a whole number of days, 1 or more"):
        live_accuracy.parse_since(given)

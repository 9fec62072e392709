"""manage.py model_report: the table, --json FILE (and -), --since DAYS and its refusals, on the
history of conftest.py."""
from __future__ import annotations

import io
import json
import math

import pytest
from django.core.management import CommandError, call_command, load_command_class

from feedback import live_accuracy

pytestmark = pytest.mark.django_db

# What docs/operations.md promises of each version's object (more may be added beside them).
VERSION_FIELDS = {"model", "version", "first_day", "last_day", "identifications", "not_a_cat",
                  "not_a_cat_share", "feedback", "confirmed", "corrections", "daily", "drift"}
DRIFT_FIELDS = {"confidence", "answers", "window_days", "identifications", "reference",
                "readings", "note"}


def run(*args) -> str:
    out = io.StringIO()
    call_command("model_report", *args, stdout=out)
    return out.getvalue()


def test_the_table(history):
    lines = run().splitlines()
    assert lines[0].startswith("Models in production, all time")
    rows = {tuple(line.split()[:2]): line.split() for line in lines if line.startswith("catnet ")}
    # model, version, identifications, not a cat, feedback, confirmed (count), interval.
    assert rows["catnet", "1.0"][2:] == ["9", "22.2%", "7", "42.9%", "(3)", "15.8%", "to",
                                          "75.0%"]
    assert rows["catnet", "2.0"][2:] == ["3", "33.3%", "2", "100.0%", "(2)", "34.2%", "to",
                                          "100.0%"]
    text = "\n".join(lines)
    assert "catnet 1.0: corrections (answered -> visitors' label)" in text
    assert [line.split() for line in lines if line.startswith("  lion")] == [
        ["lion", "->", "tiger", "2"], ["lion", "->", "not-a-cat", "1"]]
    assert "per day" not in text  # only with -v 2


def test_the_days_with_more_verbosity(history):
    text = run("-v", "2")
    assert "catnet 1.0: per day" in text
    assert any(line.startswith(history.day(3)) and line.split()[1:4] == ["5", "20.0%", "4"]
               for line in text.splitlines())


def test_the_json_file(history, tmp_path):
    target = tmp_path / "report.json"
    out = run("--json", str(target), "--since", "30")
    assert f"Wrote {target}" in out and "catnet 1.0" in out
    report = json.loads(target.read_text())
    assert report["schema"] == live_accuracy.REPORT_SCHEMA
    assert report["since_days"] == 30 and report["days_in"] == "UTC"
    old = next(v for v in report["versions"] if v["version"] == "1.0")
    assert set(old) == VERSION_FIELDS
    assert set(old["confirmed"]) == {"count", "share", "wilson_low", "wilson_high"}
    assert (old["identifications"], old["feedback"], old["confirmed"]["count"]) == (8, 6, 2)
    assert old["corrections"][0] == {"predicted": "lion", "true_label": "tiger", "count": 2}
    assert set(old["daily"][0]) == {"date", "identifications", "not_a_cat", "not_a_cat_share",
                                    "feedback", "confirmed"}
    # The same numbers as the selector's (the command adds nothing of its own).
    fresh = live_accuracy.model_report(since_days=30)
    assert report["versions"] == fresh["versions"]


def test_json_to_standard_output(history):
    report = json.loads(run("--json", "-"))
    assert [v["version"] for v in report["versions"]] == ["2.0", "1.0"]
    assert report["since_days"] is None


def test_nothing_answered_yet(db):
    assert "No answers recorded in that time." in run()
    assert json.loads(run("--json", "-"))["versions"] == []


@pytest.mark.parametrize("days", ["0", "-1", "week", "2.5"])
def test_a_bad_window_is_one_line_that_says_what_to_give(days):
    with pytest.raises(CommandError) as error:
        run("--since", days)
    message = str(error.value)
    assert message.startswith("--since: ") and "a whole number of days, 1 or more" in message
    assert "\n" not in message


def test_an_unwritable_json_file(db, tmp_path):
    with pytest.raises(CommandError, match="--json: cannot write"):
        run("--json", str(tmp_path / "no-such-folder" / "report.json"))


def test_the_help_says_the_default_window():
    parser = load_command_class("feedback", "model_report").create_parser("manage.py",
                                                                          "model_report")
    assert "(default: all time)" in " ".join(parser.format_help().split())


# catnet 2.0 answered lion, lion, not a cat today, each at 0.9 (testsupport/feedback.py); its
# reference (conftest.py): lion at 0.9, not a cat at 0.5.
ANSWERS_PSI = (2 / 3 - 1 / 2) * math.log((2 / 3) / (1 / 2)) + (1 / 3 - 1 / 2) * math.log(
    (1 / 3) / (1 / 2))
# Confidence: the reference half in (0.8, 0.9], half in (0.4, 0.5]; live all in (0.8, 0.9].
CONFIDENCE_PSI = (1 - 0.5) * math.log(1 / 0.5) + (1e-4 - 0.5) * math.log(1e-4 / 0.5)


def test_drift_per_version_in_the_json(history, catnet_2_reference, tmp_path):
    target = tmp_path / "report.json"
    run("--json", str(target))
    versions = {v["version"]: v["drift"] for v in json.loads(target.read_text())["versions"]}
    new, old = versions["2.0"], versions["1.0"]
    assert set(new) == set(old) == DRIFT_FIELDS
    assert new["answers"] == pytest.approx(ANSWERS_PSI)
    assert new["confidence"] == pytest.approx(CONFIDENCE_PSI)
    assert (new["window_days"], new["identifications"], new["reference"], new["note"]) == (
        7, 3, {"split": "test", "count": 2}, None)
    assert new["readings"] == {"answers": "moderate", "confidence": "major"}  # 0.116, 4.604
    # catnet 1.0: its 8 answers of the last 7 days (not the one of 40 days ago), no package.
    assert (old["confidence"], old["answers"], old["identifications"]) == (None, None, 8)
    assert old["note"].startswith("no reference profile")


def test_drift_in_the_table(history, catnet_2_reference):
    text = run()
    assert "Drift over the last 7 day(s) against each version's reference profile" in text
    rows = {tuple(line.split()[:2]): line.split()[2:] for line in text.splitlines()
            if line.startswith("  catnet ") and ":" not in line}
    assert rows["catnet", "2.0"] == ["3", f"{CONFIDENCE_PSI:.3f}", "(major)",
                                     f"{ANSWERS_PSI:.3f}", "(moderate)"]
    assert rows["catnet", "1.0"] == ["8", "-", "-"]
    assert "  catnet 1.0: no index, no reference profile" in text


def test_drift_window_is_its_own(history, catnet_2_reference, settings):
    # --since selects the report's answers; drift keeps DRIFT_WINDOW_DAYS.
    settings.DRIFT_WINDOW_DAYS = 2
    report = live_accuracy.model_report(since_days=30)
    old = next(v for v in report["versions"] if v["version"] == "1.0")
    assert (old["identifications"], old["drift"]["identifications"]) == (8, 3)
    settings.DRIFT_MIN_IDENTIFICATIONS = 100
    new = next(v for v in live_accuracy.model_report()["versions"] if v["version"] == "2.0")
    assert new["drift"]["answers"] is None
    assert new["drift"]["note"] == "fewer than 100 answers in the last 2 day(s)"

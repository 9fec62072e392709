"""catmodel.evaluation.compare on answers worked out by hand (real packages on real photos:
classifier/tests/test_compare_models.py, test_train_model.py and test_delivery_gate.py)."""
from __future__ import annotations

import dataclasses

import pytest
from scipy.stats import binomtest

from catmodel.evaluation import OTHER_CAT, ComparisonError, Predictions, compare, summarise
from catmodel.evaluation.compare import mcnemar_exact
from testsupport.comparison import assert_consistent

ANSWERS = ("maine-coon", "not-a-cat", OTHER_CAT)
MAINE_COON, NOT_A_CAT, OTHER = range(3)
TRUTH = (MAINE_COON, MAINE_COON, MAINE_COON, NOT_A_CAT, NOT_A_CAT, NOT_A_CAT)


def answers(version: str, predicted: list[int]) -> Predictions:
    """Six photos: three Maine Coons, three that are not cats; ``predicted`` the top answers."""
    return Predictions(
        model={"name": "m", "version": version}, dataset={"sha256": "ab" * 32, "split": "test"},
        files=tuple(f"images/{i}.jpg" for i in range(len(TRUTH))), labels=ANSWERS[:2],
        answers=ANSWERS, truth=TRUTH,
        rankings=tuple((p, *(a for a in range(3) if a != p)) for p in predicted),
        confidence=(0.9,) * len(TRUTH), cat_threshold=0.5)


# A: the photos that are not cats right, the Maine Coons "another cat" (an ImageNet model).
# B: two Maine Coons right, but one coffee cup called a Maine Coon (a fine-tuned model).
A = answers("1", [OTHER, OTHER, OTHER, NOT_A_CAT, NOT_A_CAT, NOT_A_CAT])
B = answers("2", [MAINE_COON, MAINE_COON, NOT_A_CAT, MAINE_COON, NOT_A_CAT, NOT_A_CAT])


def test_the_counts_by_hand():
    comparison = compare(A, B, a_name="base", b_name="tuned", root="/data")
    assert_consistent(comparison.as_dict())
    overall = comparison.overall
    assert (overall["both"], overall["a_only"], overall["b_only"], overall["neither"]) == (
        2, 1, 2, 1)
    assert comparison.a["correct"] == 3 and comparison.b["correct"] == 4
    assert comparison.a["top1_accuracy"] == 0.5 and comparison.b["top1_accuracy"] == 4 / 6
    assert overall["top1_difference"] == pytest.approx(1 / 6)
    # n = 3 disagreements, the smaller count 1: 2 * (1 + 3) / 8 = 1.
    assert overall["mcnemar_p_value"] == 1.0
    coon, not_cat = comparison.per_label["maine-coon"], comparison.per_label["not-a-cat"]
    assert coon == {"support": 3, "both": 0, "a_only": 0, "b_only": 2,
                    "a": {"correct": 0, "precision": None, "recall": 0.0, "predicted": 0},
                    "b": {"correct": 2, "precision": 2 / 3, "recall": 2 / 3, "predicted": 3}}
    assert not_cat == {"support": 3, "both": 2, "a_only": 1, "b_only": 0,
                       "a": {"correct": 3, "precision": 1.0, "recall": 1.0, "predicted": 3},
                       "b": {"correct": 2, "precision": 2 / 3, "recall": 2 / 3, "predicted": 3}}
    assert comparison.photos == {
        "a_only": [{"file": "images/3.jpg", "label": "not-a-cat", "a_answer": "not-a-cat",
                    "b_answer": "maine-coon"}],
        "b_only": [{"file": f"images/{i}.jpg", "label": "maine-coon", "a_answer": OTHER_CAT,
                    "b_answer": "maine-coon"} for i in (0, 1)]}
    # The per-package numbers are the evaluation's own.
    assert comparison.b["not_a_cat"] == summarise(B).not_a_cat
    assert comparison.dataset == {"sha256": "ab" * 32, "split": "test", "count": 6,
                                  "root": "/data"}


def test_the_table_shows_both_sides_and_the_disagreeing_photos():
    table = compare(A, B, a_name="base", b_name="tuned").table()
    lines = table.splitlines()
    assert lines[1] == "  A: base (m 1)" and lines[2] == "  B: tuned (m 2)"
    rows = {line.split()[0]: line.split() for line in lines if line.strip()}
    assert rows["top-1"] == ["top-1", "accuracy", "50.0%", "66.7%", "+16.7", "pt"]
    assert rows["photos"] == ["photos", "right", "3/6", "4/6", "+1"]
    row = rows["maine-coon"]
    assert row == ["maine-coon", "3", "0", "2", "0", "2", "n/a", "66.7%", "0.0%", "66.7%"]
    assert "Photos: both right 2, only A right 1, only B right 2, neither 1" in lines
    assert ("McNemar exact p = 1 on the 3 photo(s) they disagree on: not beyond chance on "
            "these photos") in lines
    assert "  images/3.jpg  not-a-cat: A not-a-cat, B maine-coon" in lines
    assert f"  images/0.jpg  maine-coon: A {OTHER_CAT}, B maine-coon" in lines


@pytest.mark.parametrize(("b", "c"), [(0, 0), (0, 4), (1, 5), (3, 3), (2, 11), (7, 20)])
def test_mcnemar_exact_is_the_two_sided_binomial_test(b, c):
    expected = 1.0 if b + c == 0 else binomtest(b, b + c, 0.5).pvalue
    assert mcnemar_exact(b, c) == pytest.approx(expected)
    assert mcnemar_exact(b, c) == mcnemar_exact(c, b)
    assert mcnemar_exact(0, 4) == pytest.approx(2 / 16)


@pytest.mark.parametrize(("change", "message"), [
    ({"dataset": {"sha256": "cd" * 32, "split": "test"}}, "of different data"),
    ({"dataset": {"sha256": "ab" * 32, "split": "validation"}}, "of different data"),
    ({"files": tuple(f"images/{i}.png" for i in range(6))}, "answered different photos"),
    ({"answers": ("bengal", "not-a-cat", OTHER_CAT), "labels": ("bengal", "not-a-cat")},
     "count different labels"),
    ({"cat_threshold": 0.7}, "different cat thresholds"),
])
def test_answers_to_other_photos_are_not_compared(change, message):
    with pytest.raises(ComparisonError, match=message) as error:
        compare(A, dataclasses.replace(B, **change))
    assert "\n" not in error.value.message

"""catmodel.evaluation's arithmetic, on numbers worked out by hand (the end-to-end numbers on
real photos are in test_train_model.py)."""
from __future__ import annotations

import numpy as np
import pytest

from catmodel.evaluation import OTHER_CAT, metrics
from catmodel.evaluation.answers import AnswerSpace


def test_expected_calibration_error_by_hand():
    # Bin (0.8, 0.9]: confidences 0.85 and 0.85, one right -> |0.5 - 0.85| = 0.35, weight 2/4.
    # Bin (0.2, 0.3]: 0.3 right -> |1 - 0.3| = 0.7, weight 1/4. Bin (0.9, 1]: 1.0 right -> 0.
    error = metrics.expected_calibration_error([0.85, 0.85, 0.3, 1.0], [True, False, True, True])
    assert error == pytest.approx(0.35 * 2 / 4 + 0.7 / 4)
    assert metrics.expected_calibration_error([1.0, 1.0], [True, True]) == 0.0


def test_precision_and_recall_are_none_when_undefined():
    numbers = metrics.precision_recall(truth=[0, 0, 1], predicted=[0, 1, 1], cls=1)
    assert numbers == {"precision": 0.5, "recall": 1.0, "support": 1, "predicted": 2}
    assert metrics.precision_recall([0, 0], [0, 0], cls=1)["precision"] is None
    assert metrics.precision_recall([0, 0], [0, 0], cls=1)["recall"] is None


def test_top_k_and_confusion():
    assert metrics.top_k_accuracy([0, 1], [[0, 1], [0, 1]], 1) == 0.5
    assert metrics.top_k_accuracy([0, 1], [[0, 1], [0, 1]], 2) == 1.0
    assert metrics.confusion_matrix([0, 1, 1], [0, 0, 2], 2, 3) == [[1, 0, 0], [1, 0, 1]]


LABELS = ["tabby", "lion", "espresso", "mug", "species:maine-coon"]
OWNERS = {"tabby": None, "lion": "lion", "species:maine-coon": "maine-coon"}


def space(threshold=0.5):
    return AnswerSpace(["maine-coon", "not-a-cat"], LABELS, OWNERS, threshold)


# Newcombe, "Two-sided confidence intervals for the single proportion: comparison of seven
# methods", Statistics in Medicine 17 (1998) 857-872: its worked examples, method 3 (Wilson
# score, without continuity correction), to the four decimals printed there.
NEWCOMBE_WILSON = [
    (81, 263, 0.2553, 0.3662),
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0, 0.1611),
    (1, 29, 0.0061, 0.1718),
]


@pytest.mark.parametrize(("successes", "total", "low", "high"), NEWCOMBE_WILSON)
def test_the_wilson_interval_matches_the_published_values(successes, total, low, high):
    assert metrics.wilson_interval(successes, total) == pytest.approx((low, high), abs=5e-5)


def test_the_wilson_interval_at_the_edges_and_its_refusals():
    assert metrics.Z_95 == pytest.approx(1.959964, abs=1e-6)
    # All right: the upper bound is exactly 1 and the lower one n / (n + z^2).
    assert metrics.wilson_interval(10, 10) == pytest.approx((10 / (10 + metrics.Z_95 ** 2), 1.0))
    assert metrics.wilson_interval(10, 10)[1] == 1.0 and metrics.wilson_interval(0, 5)[0] == 0.0
    # Symmetric about one half, and narrower with more trials.
    low, high = metrics.wilson_interval(50, 100)
    assert low + high == pytest.approx(1.0)
    wide_low, wide_high = metrics.wilson_interval(500, 1000)
    assert high - low > wide_high - wide_low
    for successes, total in ((0, 0), (3, 2), (-1, 4)):
        with pytest.raises(ValueError):
            metrics.wilson_interval(successes, total)


def test_answers_in_the_dataset_terms():
    answers = space()
    assert answers.answers == ["maine-coon", "not-a-cat", OTHER_CAT]
    # A group label (tabby) and an entry the dataset lacks (lion) are another cat: wrong answers.
    ranking, confidence = answers.rank(np.array([0.5, 0.2, 0.1, 0.1, 0.1]))
    assert [answers.answers[i] for i in ranking] == [OTHER_CAT, "not-a-cat", "maine-coon"]
    assert confidence == pytest.approx(0.7)


def test_not_a_cat_follows_the_site_threshold_even_when_one_cat_label_leads():
    probabilities = np.array([0.3, 0.0, 0.25, 0.25, 0.2])  # cats 0.5 in all, espresso 0.25
    ranking, confidence = space(threshold=0.6).rank(probabilities)
    assert ranking[0] == space().not_a_cat and confidence == pytest.approx(0.5)
    ranking, _ = space(threshold=0.5).rank(probabilities)
    assert ranking[0] == space().other_cat


def test_evaluation_imports_neither_django_nor_torch_nor_matplotlib():
    # A training script, a notebook and the web image's promotion gate read datasets and
    # evaluate packages with it; matplotlib only loads when a plot is drawn.
    import json
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    probe = ("import json, sys; import catmodel.evaluation, catmodel.evaluation.plot; "
             "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))")
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(repo)}  # no DJANGO_SETTINGS_MODULE
    output = subprocess.run([sys.executable, "-c", probe], cwd=repo, env=env, check=True,
                            capture_output=True, text=True).stdout
    loaded = set(json.loads(output))
    assert "onnxruntime" in loaded and "catmodel" in loaded
    assert not loaded & {"django", "torch", "torchvision", "onnx", "matplotlib"}

"""The numbers of an evaluation, from per-example answers: accuracy, precision and recall,
expected calibration error, the confusion matrix, and the Wilson interval of a share (live
accuracy from feedback). Pure numpy; nothing here knows models."""
from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

# Equal-width confidence bins for the expected calibration error (Guo et al., "On Calibration of
# Modern Neural Networks", 2017, use 15; 10 is the other common choice and suits small test sets).
ECE_BINS = 10


def top_k_accuracy(truth: list[int], rankings: list[list[int]], k: int) -> float:
    """Share of examples whose true class is among the first ``k`` of their ranking."""
    return float(np.mean([t in ranking[:k] for t, ranking in zip(truth, rankings, strict=True)]))


def precision_recall(truth: list[int], predicted: list[int], cls: int) -> dict:
    """Precision and recall of one class; None where undefined (never predicted, or absent)."""
    truth_arr, predicted_arr = np.asarray(truth), np.asarray(predicted)
    hits = int(np.sum((predicted_arr == cls) & (truth_arr == cls)))
    predicted_n, support = int(np.sum(predicted_arr == cls)), int(np.sum(truth_arr == cls))
    return {
        "precision": hits / predicted_n if predicted_n else None,
        "recall": hits / support if support else None,
        "support": support,
        "predicted": predicted_n,
    }


def expected_calibration_error(confidence: list[float], correct: list[bool],
                               bins: int = ECE_BINS) -> float:
    """Sum over equal-width confidence bins of |accuracy - mean confidence|, weighted by the
    share of examples in the bin: 0 when the model is exactly as sure as it is right."""
    confidence_arr = np.asarray(confidence, dtype=np.float64)
    correct_arr = np.asarray(correct, dtype=np.float64)
    # Bin i holds confidences in (i/bins, (i+1)/bins]; a confidence of 0 goes to the first bin.
    index = np.clip(np.ceil(confidence_arr * bins).astype(int) - 1, 0, bins - 1)
    error = 0.0
    for i in range(bins):
        members = index == i
        if members.any():
            gap = abs(correct_arr[members].mean() - confidence_arr[members].mean())
            error += members.mean() * gap
    return float(error)


def confusion_matrix(truth: list[int], predicted: list[int], rows: int, columns: int) -> list:
    """counts[true class][predicted class] as nested lists (JSON as it is)."""
    matrix = np.zeros((rows, columns), dtype=int)
    for t, p in zip(truth, predicted, strict=True):
        matrix[t, p] += 1
    return matrix.tolist()


# The two-sided 95 % interval's normal quantile, 1.959963984540054 (not the rounded 1.96).
Z_95 = NormalDist().inv_cdf(0.975)


def wilson_interval(successes: int, total: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval of a share ``successes / total`` (E. B. Wilson, "Probable
    inference, the law of succession, and statistical inference", JASA 1927; Newcombe, Stat.
    Med. 1998, method 3): unlike the normal approximation it stays within [0, 1] and is not
    zero-wide at 0 or ``total`` successes, so it suits small counts. 95 % by default."""
    if total <= 0:
        raise ValueError("a share needs at least one trial")
    if not 0 <= successes <= total:
        raise ValueError(f"successes must be between 0 and {total}, not {successes}")
    share = successes / total
    z2 = z * z
    centre = (share + z2 / (2 * total)) / (1 + z2 / total)
    half = z * math.sqrt(share * (1 - share) / total + z2 / (4 * total * total)) / (1 + z2 / total)
    # At 0 or total successes the bound is exactly 0 or 1; rounding may leave 1e-17.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == total else min(1.0, centre + half)
    return low, high

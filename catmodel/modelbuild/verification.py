"""What a build verifies before it writes a package: parity and sanity predictions.

Parity: ONNX Runtime must give the same logits as PyTorch, on real photos and on random
images, within a tolerance. Sanity: the tabby cat is mostly a domestic cat and the coffee cup
is an espresso, not a cat. Any failure raises ``BuildCheckFailed`` (one line) and the build
writes nothing.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .errors import BuildCheckFailed
from .samples import CAT_CLASSES, DOMESTIC_CAT_CLASSES, ESPRESSO, softmax

PARITY_TOLERANCE = 1e-3  # max abs difference of logits (typical logits are in -10..20)
RANDOM_IMAGES = 4
MIN_CHELSEA_DOMESTIC_CAT = 0.8  # measured about 0.92
MAX_COFFEE_CAT = 0.05  # measured below 0.001
_PARITY_FIX = ("the exported graph does not compute what the network does: check the exporter "
               "and the ONNX Runtime version (catmodel/modelbuild/export.py)")


def random_images(count: int, input_spec: dict, seed: int = 0) -> np.ndarray:
    """Uniform random 0-255 pixels, normalised as the model expects (NCHW float32)."""
    size = input_spec["size"]
    pixels = np.random.default_rng(seed).integers(0, 256, (count, size, size, 3))
    mean = np.asarray(input_spec["mean"], dtype=np.float32)
    std = np.asarray(input_spec["std"], dtype=np.float32)
    return ((pixels.astype(np.float32) - mean) / std).transpose(0, 3, 1, 2).copy()


def compare_logits(expected: np.ndarray, actual: np.ndarray) -> dict:
    return {
        "max_abs_diff": float(np.abs(expected - actual).max()),
        "top1_agreement": float((expected.argmax(axis=1) == actual.argmax(axis=1)).mean()),
        "count": int(expected.shape[0]),
    }


def parity_report(real: dict, random: dict, tolerance: float = PARITY_TOLERANCE) -> dict:
    """Combine the comparisons; raise when logits differ beyond ``tolerance`` or top-1 flips."""
    report = {
        "reference": "torch",
        "runtime": "onnxruntime",
        "tolerance": tolerance,
        "real": real,
        "random": random,
        "max_abs_diff": max(real["max_abs_diff"], random["max_abs_diff"]),
        "top1_agreement": min(real["top1_agreement"], random["top1_agreement"]),
    }
    if report["max_abs_diff"] > tolerance:
        raise BuildCheckFailed(
            f"parity check failed: ONNX Runtime and PyTorch logits differ by "
            f"{report['max_abs_diff']:.3g} (tolerance {tolerance:g}); {_PARITY_FIX}"
        )
    if report["top1_agreement"] < 1.0:
        raise BuildCheckFailed(
            f"parity check failed: ONNX Runtime and PyTorch disagree on a top-1 class; "
            f"{_PARITY_FIX}"
        )
    return report


def _top1(probabilities: np.ndarray, labels: list[str]) -> dict:
    index = int(probabilities.argmax())
    return {"index": index, "label": labels[index], "probability": float(probabilities[index])}


def sanity_report(logits_by_photo: dict[str, np.ndarray], labels: list[str]) -> list[dict]:
    """Judge the ONNX model's predictions on the sample photos; raise when one is wrong."""
    chelsea = softmax(logits_by_photo["skimage.data.chelsea"])
    coffee = softmax(logits_by_photo["skimage.data.coffee"])
    domestic = float(chelsea[DOMESTIC_CAT_CLASSES].sum())
    coffee_cat = float(coffee[CAT_CLASSES].sum())
    results: list[dict[str, Any]] = [
        {
            "image": "skimage.data.chelsea",
            "expect": f"domestic cat classes 281-285 together >= {MIN_CHELSEA_DOMESTIC_CAT}",
            "domestic_cat_probability": domestic,
            "top1": _top1(chelsea, labels),
            "passed": domestic >= MIN_CHELSEA_DOMESTIC_CAT,
        },
        {
            "image": "skimage.data.coffee",
            "expect": f"top-1 espresso ({ESPRESSO}), cat classes 281-293 together "
                      f"< {MAX_COFFEE_CAT}",
            "cat_probability": coffee_cat,
            "top1": _top1(coffee, labels),
            "passed": int(coffee.argmax()) == ESPRESSO and coffee_cat < MAX_COFFEE_CAT,
        },
    ]
    failed = [r for r in results if not r["passed"]]
    if failed:
        raise BuildCheckFailed(
            "sanity check failed: "
            + "; ".join(f"{r['image']} expects {r['expect']}, got {_measured(r):.3g} with top-1 "
                        f"{r['top1']['label']} ({r['top1']['probability']:.1%})" for r in failed)
            + "; the weights or the preprocessing are not what this build expects: check the "
              "weights package and INPUT_SPEC in catmodel/modelbuild/build.py"
        )
    return results


def _measured(result: dict) -> float:
    """The probability a result judges: each holds one of the two."""
    key = "domestic_cat_probability" if "domestic_cat_probability" in result else "cat_probability"
    return result[key]

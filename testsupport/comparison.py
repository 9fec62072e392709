"""What every comparison (compare_models --json, catmodel.evaluation.compare) must satisfy."""
from __future__ import annotations


def assert_consistent(comparison: dict) -> None:
    """The counts add up: overall, per label, and with the photos listed."""
    overall, count = comparison["overall"], comparison["dataset"]["count"]
    assert overall["both"] + overall["a_only"] + overall["b_only"] + overall["neither"] == count
    assert comparison["a"]["correct"] == overall["both"] + overall["a_only"]
    assert comparison["b"]["correct"] == overall["both"] + overall["b_only"]
    assert comparison["a"]["top1_accuracy"] == comparison["a"]["correct"] / count
    assert comparison["b"]["top1_accuracy"] == comparison["b"]["correct"] / count
    per_label = comparison["per_label"].values()
    assert sum(entry["support"] for entry in per_label) == count
    for side in ("a", "b"):
        assert sum(entry[side]["correct"] for entry in per_label) == comparison[side]["correct"]
        assert sum(entry[f"{side}_only"] for entry in per_label) == overall[f"{side}_only"]
        assert len(comparison["photos"][f"{side}_only"]) == overall[f"{side}_only"]
        for entry in per_label:
            assert entry[side]["correct"] == entry["both"] + entry[f"{side}_only"]
            if entry["support"]:
                assert entry[side]["recall"] == entry[side]["correct"] / entry["support"]

"""Evaluation figures as PNGs: one package's confusion matrix (evaluate_model --plot), two
packages' accuracy per label side by side (compare_models --plot). matplotlib is a development
requirement (not in the web image), so it is imported when a plot is asked for."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .compare import describe


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only: no display on servers and CI
    from matplotlib import pyplot as plt

    return plt


def plot_confusion(evaluation, path) -> Path:
    plt = _pyplot()

    confusion = evaluation.confusion
    counts = np.asarray(confusion["matrix"], dtype=float)
    # Colour by share of each true label's photos, so a small label is as visible as a big one.
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    rows, columns = counts.shape
    figure, axes = plt.subplots(figsize=(max(5.0, 2.0 + 0.8 * columns), max(4.0, 2.0 + 0.6 * rows)),
                                dpi=100)
    axes.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    axes.set_xticks(range(columns), confusion["answers"], rotation=45, ha="right")
    axes.set_yticks(range(rows), confusion["labels"])
    axes.set_xlabel("answer")
    axes.set_ylabel("true label")
    for i in range(rows):
        for j in range(columns):
            if counts[i, j]:
                axes.text(j, i, str(int(counts[i, j])), ha="center", va="center",
                          color="white" if shares[i, j] > 0.5 else "black")
    model = evaluation.model
    axes.set_title(f"{model['name']} {model['version']}\n{evaluation.count} "
                   f"{evaluation.dataset['split']} photos, top-1 {evaluation.top1_accuracy:.0%}",
                   fontsize=9)
    return _save(plt, figure, path)


def plot_comparison(comparison, path) -> Path:
    """Bars of the share of photos each package gets right: all photos, then per label (its
    recall), A beside B, with the photo counts under each label."""
    plt = _pyplot()
    a, b = comparison.a, comparison.b
    groups = [("all photos", comparison.dataset["count"], a["top1_accuracy"], b["top1_accuracy"])]
    groups += [(label, entry["support"], entry["a"]["recall"], entry["b"]["recall"])
               for label, entry in comparison.per_label.items() if entry["support"]]
    positions = np.arange(len(groups))
    figure, axes = plt.subplots(figsize=(max(7.0, 2.0 + 1.0 * len(groups)), 5.0), dpi=100)
    for offset, (letter, side), values, colour in (
            (-0.2, ("A", a), [g[2] for g in groups], "#9aa5b1"),
            (0.2, ("B", b), [g[3] for g in groups], "#1f6feb")):
        bars = axes.bar(positions + offset, values, width=0.4, color=colour,
                        label=f"{letter}: {_short(describe(side))}")
        axes.bar_label(bars, labels=[f"{value:.0%}" for value in values], fontsize=8)
    slanted = len(groups) > 4 or max(len(g[0]) for g in groups) > 12
    axes.set_xticks(positions, [f"{label}\n({count})" for label, count, _, _ in groups],
                    rotation=30 if slanted else 0, ha="right" if slanted else "center",
                    fontsize=8)
    axes.set_ylim(0, 1.1)
    axes.set_ylabel("photos right (top-1; per label: recall)")
    axes.spines[["top", "right"]].set_visible(False)
    overall = comparison.overall
    axes.set_title(f"{comparison.dataset['count']} {comparison.dataset['split']} photos: only A "
                   f"right {overall['a_only']}, only B right {overall['b_only']}, McNemar p = "
                   f"{overall['mcnemar_p_value']:.3g}", fontsize=9)
    figure.legend(fontsize=8, loc="lower center", ncols=1, frameon=False)
    figure.tight_layout(rect=(0, 0.1, 1, 1))
    return _save(plt, figure, path, layout=False)


def _short(text: str, width: int = 90) -> str:
    """A legend entry that fits: long paths keep their end, which names the package."""
    return text if len(text) <= width else "..." + text[-(width - 3):]


def _save(plt, figure, path, layout: bool = True) -> Path:
    if layout:
        figure.tight_layout()
    path = Path(path)
    figure.savefig(path, format="png")
    plt.close(figure)
    return path

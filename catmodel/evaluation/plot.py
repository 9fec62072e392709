"""The confusion matrix as a PNG. matplotlib is a development requirement (not in the web
image), so it is imported when a plot is asked for."""
from __future__ import annotations

from pathlib import Path

import numpy as np


def plot_confusion(evaluation, path) -> Path:
    import matplotlib

    matplotlib.use("Agg")  # files only: no display on servers and CI
    from matplotlib import pyplot as plt

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
    figure.tight_layout()
    path = Path(path)
    figure.savefig(path, format="png")
    plt.close(figure)
    return path

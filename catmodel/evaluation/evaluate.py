"""Evaluate a model package on a dataset split: the same numbers for any package (a fresh build,
a trained candidate, an installed MODEL_DIR, the current champion), so two models are compared
on the same photos. Pure Python (ONNX Runtime, numpy): no Django, no torch.

    evaluation = evaluate(package_dir, data_dir, split="test", owners=..., cat_threshold=0.5)
    evaluation.top1_accuracy

``owners``: model label -> the encyclopedia entry (slug) it names, or None for a cat group; see
answers.py. Without it only ``species:<slug>`` labels count as cats: Django callers pass the
encyclopedia's (classifier/evaluator.py).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from catmodel.inference import ImageClassifier, load_classifier, softmax
from catmodel.taxonomy import species_label_owners

from . import metrics
from .answers import DEFAULT_CAT_THRESHOLD, AnswerSpace
from .dataset import NOT_A_CAT, Dataset, DatasetError, read_dataset

BATCH = 16  # photos per ONNX Runtime run: bounds memory on large splits


@dataclass(frozen=True)
class Evaluation:
    model: dict                  # name, version
    dataset: dict                # sha256, split
    count: int                   # photos evaluated
    top1_accuracy: float
    top5_accuracy: float
    per_label: dict              # label -> precision, recall, support, predicted
    not_a_cat: dict              # precision, recall of the "not a cat" answer
    expected_calibration_error: float
    cat_threshold: float
    confusion: dict              # labels (rows: truth), answers (columns), matrix

    def as_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        """One line: what a gate or a terminal prints."""
        return (f"{self.model['name']} {self.model['version']} on {self.count} "
                f"{self.dataset['split']} photo(s): top-1 {self.top1_accuracy:.1%}, top-5 "
                f"{self.top5_accuracy:.1%}, not-a-cat precision "
                f"{_percent(self.not_a_cat['precision'])} recall "
                f"{_percent(self.not_a_cat['recall'])}, ECE "
                f"{self.expected_calibration_error:.3f}")


def evaluate(package_dir, data_dir, split: str = "test", *,
             owners: Mapping[str, str | None] | None = None,
             cat_threshold: float = DEFAULT_CAT_THRESHOLD,
             threads: int | None = None) -> Evaluation:
    """Load the package (verified, as the site loads it) and evaluate it on ``split`` of the
    dataset in ``data_dir``. DatasetError when the split holds no photo."""
    dataset = read_dataset(data_dir)
    classifier = load_classifier(Path(package_dir), threads=threads)
    return evaluate_classifier(classifier, dataset, split, owners=owners,
                               cat_threshold=cat_threshold)


def evaluate_classifier(classifier: ImageClassifier, dataset: Dataset, split: str = "test", *,
                        owners: Mapping[str, str | None] | None = None,
                        cat_threshold: float = DEFAULT_CAT_THRESHOLD) -> Evaluation:
    examples = dataset.split(split)
    if not examples:
        raise DatasetError(f"the {split} split of {dataset.root} holds no photo: export more "
                           "labelled photos, or evaluate another split (--split)")
    if owners is None:
        owners = species_label_owners(classifier.labels)
    space = AnswerSpace(dataset.labels, classifier.labels, owners, cat_threshold)
    truth, rankings, confidence = [], [], []
    for start in range(0, len(examples), BATCH):
        chunk = examples[start:start + BATCH]
        batch = np.concatenate([classifier.preprocess(classifier.decode(dataset.read(example)))
                                for example in chunk])
        for example, probabilities in zip(chunk, softmax(classifier.predict(batch)), strict=True):
            ranking, probability = space.rank(probabilities)
            truth.append(space.index(example.label))
            rankings.append(ranking)
            confidence.append(probability)
    predicted = [ranking[0] for ranking in rankings]
    return Evaluation(
        model={"name": classifier.name, "version": classifier.version},
        dataset={"sha256": dataset.sha256, "split": split},
        count=len(examples),
        top1_accuracy=metrics.top_k_accuracy(truth, rankings, 1),
        top5_accuracy=metrics.top_k_accuracy(truth, rankings, 5),
        per_label={label: metrics.precision_recall(truth, predicted, space.index(label))
                   for label in space.labels},
        not_a_cat={key: value for key, value in metrics.precision_recall(
            truth, predicted, space.not_a_cat).items() if key in ("precision", "recall")},
        expected_calibration_error=metrics.expected_calibration_error(
            confidence, [t == p for t, p in zip(truth, predicted, strict=True)]),
        cat_threshold=cat_threshold,
        confusion={"labels": space.labels, "answers": space.answers,
                   "matrix": metrics.confusion_matrix(truth, predicted, len(space.labels),
                                                      len(space.answers))},
    )


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


__all__ = ["NOT_A_CAT", "Evaluation", "evaluate", "evaluate_classifier"]

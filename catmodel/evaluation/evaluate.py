"""Evaluate a model package on a dataset split: the same numbers for any package (a fresh build,
a trained candidate, an installed MODEL_DIR, the current champion), so two models are compared
on the same photos. Pure Python (ONNX Runtime, numpy): no Django, no torch.

    evaluation = evaluate(package_dir, data_dir, split="test", owners=..., cat_threshold=0.5)
    evaluation.top1_accuracy

``predict`` gives the per-photo answers (``Predictions``) an evaluation is counted from, and
``summarise`` counts them: a comparison of two packages (compare.py) runs each package once.

``owners``: model label -> the encyclopedia entry (slug) it names, or None for a cat group; see
answers.py. Without it only ``species:<slug>`` labels count as cats: Django callers pass the
encyclopedia's (classifier/evaluator.py).

``site_answer``: a photo's probabilities -> (the answer as the site gives it, the top answer's
probability), the site's own rule (classifier.answer.site_answer_reader). With it the evaluation
also holds the split's reference profile (drift.py), what live answers are compared with; the
rule needs the encyclopedia, so without it there is none.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from catmodel.inference import ImageClassifier, load_classifier, softmax
from catmodel.taxonomy import species_label_owners

from . import drift, metrics
from .answers import DEFAULT_CAT_THRESHOLD, AnswerSpace
from .dataset import NOT_A_CAT, Dataset, DatasetError, read_dataset
from .text import percent_text

BATCH = 16  # photos per ONNX Runtime run: bounds memory on large splits
# One photo's probabilities (indexed like the model's labels) -> (answer, its probability).
SiteAnswer = Callable[[np.ndarray], tuple[str, float]]


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
    # The site's answers on the split (drift.Profile.as_dict()), when a site_answer was given.
    reference_profile: dict | None = None

    def as_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        """One line: what a gate or a terminal prints."""
        return (f"{self.model['name']} {self.model['version']} on {self.count} "
                f"{self.dataset['split']} photo(s): top-1 {self.top1_accuracy:.1%}, top-5 "
                f"{self.top5_accuracy:.1%}, not-a-cat precision "
                f"{percent_text(self.not_a_cat['precision'])} recall "
                f"{percent_text(self.not_a_cat['recall'])}, ECE "
                f"{self.expected_calibration_error:.3f}")


@dataclass(frozen=True)
class Predictions:
    """A package's answer to every photo of a split, in the dataset's terms (answers.py): what
    an ``Evaluation`` and a comparison of two packages (compare.py) are computed from, so each
    package runs once per photo. Indices point into ``answers`` (the dataset's labels, then
    OTHER_CAT); ``labels`` is ``answers`` without OTHER_CAT."""

    model: dict                  # name, version
    dataset: dict                # sha256, split
    files: tuple[str, ...]       # each photo's file in the dataset folder, in split order
    labels: tuple[str, ...]
    answers: tuple[str, ...]
    truth: tuple[int, ...]       # the true label of each photo
    rankings: tuple[tuple[int, ...], ...]  # each photo's answers, best first (the site's order)
    confidence: tuple[float, ...]          # the top answer's probability
    cat_threshold: float
    # Each photo's answer as the site gives it and its probability, when a site_answer was given.
    site_answers: tuple[tuple[str, float], ...] | None = None

    @property
    def predicted(self) -> list[int]:
        return [ranking[0] for ranking in self.rankings]

    @property
    def correct(self) -> list[bool]:
        """Whether each photo's top answer is its true label."""
        return [t == p for t, p in zip(self.truth, self.predicted, strict=True)]


def evaluate(package_dir, data_dir, split: str = "test", *,
             owners: Mapping[str, str | None] | None = None,
             cat_threshold: float = DEFAULT_CAT_THRESHOLD,
             site_answer: SiteAnswer | None = None,
             threads: int | None = None) -> Evaluation:
    """Load the package (verified, as the site loads it) and evaluate it on ``split`` of the
    dataset in ``data_dir``. DatasetError when the split holds no photo."""
    return summarise(predict(package_dir, data_dir, split, owners=owners,
                             cat_threshold=cat_threshold, site_answer=site_answer,
                             threads=threads))


def predict(package_dir, data_dir, split: str = "test", *,
            owners: Mapping[str, str | None] | None = None,
            cat_threshold: float = DEFAULT_CAT_THRESHOLD,
            site_answer: SiteAnswer | None = None,
            threads: int | None = None) -> Predictions:
    """``evaluate``'s per-photo answers, before they are counted."""
    dataset = read_dataset(data_dir)
    classifier = load_classifier(Path(package_dir), threads=threads)
    return predict_classifier(classifier, dataset, split, owners=owners,
                              cat_threshold=cat_threshold, site_answer=site_answer)


def evaluate_classifier(classifier: ImageClassifier, dataset: Dataset, split: str = "test", *,
                        owners: Mapping[str, str | None] | None = None,
                        cat_threshold: float = DEFAULT_CAT_THRESHOLD,
                        site_answer: SiteAnswer | None = None) -> Evaluation:
    return summarise(predict_classifier(classifier, dataset, split, owners=owners,
                                        cat_threshold=cat_threshold, site_answer=site_answer))


def predict_classifier(classifier: ImageClassifier, dataset: Dataset, split: str = "test", *,
                       owners: Mapping[str, str | None] | None = None,
                       cat_threshold: float = DEFAULT_CAT_THRESHOLD,
                       site_answer: SiteAnswer | None = None) -> Predictions:
    examples = split_examples(dataset, split)
    if owners is None:
        owners = species_label_owners(classifier.labels)
    space = AnswerSpace(dataset.labels, classifier.labels, owners, cat_threshold)
    truth, rankings, confidence, site_answers = [], [], [], []
    for start in range(0, len(examples), BATCH):
        chunk = examples[start:start + BATCH]
        batch = np.concatenate([classifier.preprocess(classifier.decode(dataset.read(example)))
                                for example in chunk])
        for example, probabilities in zip(chunk, softmax(classifier.predict(batch)), strict=True):
            ranking, probability = space.rank(probabilities)
            truth.append(space.index(example.label))
            rankings.append(tuple(ranking))
            confidence.append(probability)
            if site_answer is not None:
                site_answers.append(site_answer(probabilities))
    return Predictions(
        model={"name": classifier.name, "version": classifier.version},
        dataset={"sha256": dataset.sha256, "split": split},
        files=tuple(example.file for example in examples),
        labels=tuple(space.labels), answers=tuple(space.answers), truth=tuple(truth),
        rankings=tuple(rankings), confidence=tuple(confidence), cat_threshold=cat_threshold,
        site_answers=tuple(site_answers) if site_answer is not None else None)


def split_examples(dataset: Dataset, split: str) -> list:
    """The photos of ``split``; DatasetError when it holds none."""
    examples = dataset.split(split)
    if not examples:
        raise DatasetError(f"the {split} split of {dataset.root} holds no photo: export more "
                           "labelled photos, or evaluate another split (--split)")
    return examples


def summarise(predictions: Predictions) -> Evaluation:
    """The numbers of an evaluation, from the per-photo answers."""
    truth, rankings, predicted = (list(predictions.truth), [list(r) for r in predictions.rankings],
                                  predictions.predicted)
    labels, answers = list(predictions.labels), list(predictions.answers)
    not_a_cat, index = answers.index(NOT_A_CAT), {answer: i for i, answer in enumerate(answers)}
    return Evaluation(
        model=dict(predictions.model),
        dataset=dict(predictions.dataset),
        count=len(truth),
        top1_accuracy=metrics.top_k_accuracy(truth, rankings, 1),
        top5_accuracy=metrics.top_k_accuracy(truth, rankings, 5),
        per_label={label: metrics.precision_recall(truth, predicted, index[label])
                   for label in labels},
        not_a_cat={key: value for key, value in metrics.precision_recall(
            truth, predicted, not_a_cat).items() if key in ("precision", "recall")},
        expected_calibration_error=metrics.expected_calibration_error(
            list(predictions.confidence), predictions.correct),
        cat_threshold=predictions.cat_threshold,
        confusion={"labels": labels, "answers": answers,
                   "matrix": metrics.confusion_matrix(truth, predicted, len(labels),
                                                      len(answers))},
        reference_profile=None if predictions.site_answers is None else drift.profile(
            [answer for answer, _ in predictions.site_answers],
            [probability for _, probability in predictions.site_answers],
            split=predictions.dataset["split"], dataset_sha256=predictions.dataset["sha256"],
            cat_threshold=predictions.cat_threshold).as_dict(),
    )


__all__ = ["NOT_A_CAT", "Evaluation", "Predictions", "evaluate", "evaluate_classifier",
           "predict", "predict_classifier", "summarise"]

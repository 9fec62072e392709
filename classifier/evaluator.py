"""Evaluation with the encyclopedia's view of the model's labels: which entry each label names
(ModelLabel rows, and ``species:<slug>`` labels of existing entries) and the site's cat
threshold. What ``manage.py evaluate_model``, ``compare_models``, ``train_model`` and the
promotion gate call (the gate, in the library, gets ``predict_package`` passed in by
publish_model).

    evaluation = evaluate_package(package_dir, data_dir, split="test")
    predictions = predict_package(package_dir, data_dir, split="test")   # per photo
"""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from django.conf import settings

from catmodel.evaluation import Evaluation
from catmodel.evaluation.evaluate import Predictions, predict, summarise
from catmodel.inference.package import read_manifest
from classifier.answer import site_answer_reader
from species.answer_levels import label_owners
from species.models import Species


def encyclopedia_owners(model_labels: Iterable[str]) -> dict[str, str | None]:
    """Model label -> the slug of the entry it names, or None when it names a group only (a
    ModelLabel row owned by a taxon); labels the encyclopedia does not know are absent (not a
    cat, as on the site). The site's own lookup (species.answer_levels.label_owners)."""
    return {label: owner.slug if isinstance(owner, Species) else None
            for label, owner in label_owners(model_labels).items()}


def evaluate_package(package_dir, data_dir, split: str = "test") -> Evaluation:
    """``catmodel.evaluation.evaluate`` with the encyclopedia's owners and CAT_THRESHOLD, and
    the site's answers for the reference profile of drift."""
    return summarise(predict_package(package_dir, data_dir, split, profile=True))


def predict_package(package_dir: Path, data_dir: Path, split: str = "test", *,
                    profile: bool = False) -> Predictions:
    """The package's answer to every photo of ``split``, as evaluate_package counts them; the
    gate's evaluator (catmodel.delivery.gate.Evaluator). ``profile``: also the site's answers,
    for the reference profile of drift (a few queries a photo; the gate needs none)."""
    labels = read_manifest(package_dir).labels
    return predict(package_dir, data_dir, split, owners=encyclopedia_owners(labels),
                   cat_threshold=settings.CAT_THRESHOLD,
                   site_answer=site_answer_reader(labels) if profile else None)

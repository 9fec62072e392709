"""Evaluation with the encyclopedia's view of the model's labels: which entry each label names
(ModelLabel rows, and ``species:<slug>`` labels of existing entries) and the site's cat
threshold. What ``manage.py evaluate_model``, ``train_model`` and the promotion gate call (the
gate, in the library, gets ``top1_accuracy`` passed in by publish_model).

    evaluation = evaluate_package(package_dir, data_dir, split="test")
"""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from django.conf import settings

from catmodel.delivery.gate import TEST_SPLIT
from catmodel.evaluation import Evaluation, evaluate
from catmodel.inference.package import read_manifest
from species.answer_levels import label_owners
from species.models import Species


def encyclopedia_owners(model_labels: Iterable[str]) -> dict[str, str | None]:
    """Model label -> the slug of the entry it names, or None when it names a group only (a
    ModelLabel row owned by a taxon); labels the encyclopedia does not know are absent (not a
    cat, as on the site). The site's own lookup (species.answer_levels.label_owners)."""
    return {label: owner.slug if isinstance(owner, Species) else None
            for label, owner in label_owners(model_labels).items()}


def evaluate_package(package_dir, data_dir, split: str = "test") -> Evaluation:
    """``catmodel.evaluation.evaluate`` with the encyclopedia's owners and CAT_THRESHOLD."""
    labels = read_manifest(package_dir).labels
    return evaluate(package_dir, data_dir, split, owners=encyclopedia_owners(labels),
                    cat_threshold=settings.CAT_THRESHOLD)


def top1_accuracy(package_dir: Path, dataset_dir: Path) -> float:
    """The gate's evaluator (catmodel.delivery.gate.Evaluator): top-1 accuracy of the package on
    the dataset's test split, as ``manage.py evaluate_model`` counts it."""
    return evaluate_package(package_dir, dataset_dir, TEST_SPLIT).top1_accuracy

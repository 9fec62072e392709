"""What a dataset must hold before training starts, and the targets the network learns.
One-line errors (ModelBuildError) name the label and the count, so the data scientist knows
which photos to export more of."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from catmodel.evaluation import NOT_A_CAT, Dataset
from catmodel.taxonomy import SPECIES_LABEL_PREFIX

from ..errors import ModelBuildError

# Fewer training photos than this for a label teaches the new head little besides that photo.
MIN_TRAIN_EXAMPLES = 5


def check_dataset(dataset: Dataset, min_examples: int = MIN_TRAIN_EXAMPLES) -> list[str]:
    """The labels to teach (species slugs, sorted); ModelBuildError when the dataset is empty,
    names no species, a label has too few training photos or the test split is empty."""
    if not dataset.examples:
        raise ModelBuildError(f"the dataset at {dataset.root} holds no labelled photos: accept "
                              "some feedback in the admin and export again")
    train = {label: 0 for label in dataset.labels}
    for example in dataset.split("train"):
        train[example.label] += 1
    few = [(label, count) for label, count in sorted(train.items()) if count < min_examples]
    if few:
        label, count = few[0]
        others = f" (and {len(few) - 1} more label(s))" if len(few) > 1 else ""
        raise ModelBuildError(f"label {label!r} has {count} training photo(s){others}; at least "
                              f"{min_examples} are needed: export more photos of it or leave "
                              "it out")
    species = [label for label in dataset.labels if label != NOT_A_CAT]
    if not species:
        raise ModelBuildError(f"the dataset at {dataset.root} labels no species, only "
                              f"{NOT_A_CAT}: there is nothing to teach")
    if not dataset.split("test"):
        raise ModelBuildError(f"the test split of {dataset.root} is empty, so the model could "
                              "not be evaluated: export more labelled photos")
    return species


def species_label(slug: str) -> str:
    return f"{SPECIES_LABEL_PREFIX}{slug}"


@dataclass(frozen=True)
class Targets:
    """For each dataset label, the model labels a photo of it may be answered with."""

    model_labels: list[str]
    allowed: dict[str, np.ndarray]   # dataset label -> bool mask over model_labels

    def mask(self, labels: Sequence[str]) -> np.ndarray:
        return np.stack([self.allowed[label] for label in labels])


def targets(base_labels: Sequence[str], species: Sequence[str],
            owners: Mapping[str, str | None]) -> Targets:
    """``base_labels``: ImageNet's (kept); one ``species:<slug>`` label per taught species.
    ``owners``: which base labels are cats, and the entry each names (None: a group)."""
    model_labels = [*base_labels, *(species_label(slug) for slug in species)]
    allowed = {}
    for k, slug in enumerate(species):
        mask = np.zeros(len(model_labels), dtype=bool)
        mask[len(base_labels) + k] = True
        for i, label in enumerate(base_labels):
            if owners.get(label, "") == slug:  # an ImageNet label naming this very entry
                mask[i] = True
        allowed[slug] = mask
    not_cat = np.zeros(len(model_labels), dtype=bool)
    not_cat[:len(base_labels)] = [label not in owners for label in base_labels]
    allowed[NOT_A_CAT] = not_cat
    return Targets(model_labels=model_labels, allowed=allowed)

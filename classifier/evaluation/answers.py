"""A model's answer in the dataset's terms: its label probabilities added up per dataset label.

A dataset labels photos with encyclopedia entries (species slugs) or ``not-a-cat``; a model has
its own labels (ImageNet's 1000 classes, ``species:<slug>``, ...). ``owners`` says which entry a
model label names: a slug, or None for a cat label that names only a group (e.g. "tabby" names
the domestic cat, not a breed). Then every model label falls into one answer:

- the dataset label it names (an entry the dataset has),
- ``OTHER_CAT``: a cat, but not one the dataset names (a group, or another entry): wrong,
  which is the point (a model that cannot name a breed scores as wrong on that breed),
- ``not-a-cat``: labels no entry owns, as on the site (classifier/services.py).

The top answer follows the site's rule: "not a cat" when the cat labels together stay below
the cat threshold, else the most probable cat answer.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from .dataset import NOT_A_CAT

OTHER_CAT = "(another cat)"
SPECIES_LABEL_PREFIX = "species:"
DEFAULT_CAT_THRESHOLD = 0.5  # settings.CAT_THRESHOLD's default; Django callers pass theirs


def species_label_owners(model_labels: Iterable[str]) -> dict[str, str]:
    """The owners that need no encyclopedia: ``species:<slug>`` names the entry ``<slug>``."""
    return {label: label[len(SPECIES_LABEL_PREFIX):] for label in model_labels
            if label.startswith(SPECIES_LABEL_PREFIX)}


class AnswerSpace:
    """The answers an evaluation scores: the dataset's labels (``not-a-cat`` always included),
    then OTHER_CAT."""

    def __init__(self, dataset_labels: Iterable[str], model_labels: Iterable[str],
                 owners: Mapping[str, str | None], cat_threshold: float = DEFAULT_CAT_THRESHOLD):
        self.labels = sorted(set(dataset_labels) | {NOT_A_CAT})
        self.answers = [*self.labels, OTHER_CAT]
        index = {answer: i for i, answer in enumerate(self.answers)}
        self.not_a_cat = index[NOT_A_CAT]
        self.other_cat = index[OTHER_CAT]
        self.cat_threshold = cat_threshold
        model_labels = list(model_labels)
        # projection[model label, answer] = 1: probabilities @ projection adds them up.
        self.projection = np.zeros((len(model_labels), len(self.answers)))
        for row, label in enumerate(model_labels):
            if label not in owners:
                column = self.not_a_cat
            else:
                owner = owners[label]
                column = index[owner] if owner in index and owner != NOT_A_CAT else self.other_cat
            self.projection[row, column] = 1.0

    def index(self, dataset_label: str) -> int:
        return self.answers.index(dataset_label)

    def rank(self, probabilities: np.ndarray) -> tuple[list[int], float]:
        """One photo's model probabilities -> (answers best first, the top answer's
        probability). The top answer is the site's: "not a cat" below the cat threshold."""
        per_answer = np.asarray(probabilities, dtype=np.float64) @ self.projection
        order = [int(i) for i in np.argsort(-per_answer, kind="stable")]
        cat_probability = 1.0 - per_answer[self.not_a_cat]
        if cat_probability < self.cat_threshold:
            top = self.not_a_cat
        else:
            top = next(i for i in order if i != self.not_a_cat)
        order.remove(top)
        return [top, *order], float(per_answer[top])

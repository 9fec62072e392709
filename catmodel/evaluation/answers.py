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
DEFAULT_CAT_THRESHOLD = 0.5  # settings.CAT_THRESHOLD's default; Django callers pass theirs


class AnswerSpace:
    """The answers an evaluation scores: the dataset's labels (``not-a-cat`` always included),
    then OTHER_CAT.

    A photo's ranking is what the site would list for it, in the dataset's terms: the site's
    top answer first (cat or not by the threshold), then the site's other candidates in order
    of probability (an entry with all its labels added up; every label no entry owns on its
    own), each read as its answer, without repeats. Top-5 accuracy asks whether the true label
    is among the first five."""

    def __init__(self, dataset_labels: Iterable[str], model_labels: Iterable[str],
                 owners: Mapping[str, str | None], cat_threshold: float = DEFAULT_CAT_THRESHOLD):
        self.labels = sorted(set(dataset_labels) | {NOT_A_CAT})
        self.answers = [*self.labels, OTHER_CAT]
        index = {answer: i for i, answer in enumerate(self.answers)}
        self.not_a_cat = index[NOT_A_CAT]
        self.other_cat = index[OTHER_CAT]
        self.cat_threshold = cat_threshold
        # Candidates as the site lists them: an entry (all its labels), or a single label.
        candidates: dict[tuple[str, str], int] = {}
        candidate_of_label, answer_of_candidate = [], []
        for label in model_labels:
            owner = owners.get(label) if label in owners else None
            key = ("entry", owner) if owner is not None else ("label", label)
            if key not in candidates:
                candidates[key] = len(candidates)
                if label not in owners:
                    answer = self.not_a_cat
                elif owner in index and owner != NOT_A_CAT:
                    answer = index[owner]
                else:
                    answer = self.other_cat
                answer_of_candidate.append(answer)
            candidate_of_label.append(candidates[key])
        self._candidate_of_label = np.asarray(candidate_of_label)
        self._answer_of_candidate = np.asarray(answer_of_candidate)

    def index(self, dataset_label: str) -> int:
        return self.answers.index(dataset_label)

    def rank(self, probabilities: np.ndarray) -> tuple[list[int], float]:
        """One photo's model probabilities -> (answers best first, the top answer's
        probability). The top answer is the site's: "not a cat" below the cat threshold."""
        per_candidate = np.bincount(self._candidate_of_label,
                                    weights=np.asarray(probabilities, dtype=np.float64),
                                    minlength=len(self._answer_of_candidate))
        per_answer = np.bincount(self._answer_of_candidate, weights=per_candidate,
                                 minlength=len(self.answers))
        if 1.0 - per_answer[self.not_a_cat] < self.cat_threshold:
            top = self.not_a_cat
        else:
            cats = [i for i in range(len(self.answers)) if i != self.not_a_cat]
            top = max(cats, key=lambda i: per_answer[i])  # first of equals: stable
        ranking = [top]
        for candidate in np.argsort(-per_candidate, kind="stable"):
            answer = int(self._answer_of_candidate[candidate])
            if answer not in ranking:
                ranking.append(answer)
            if len(ranking) == len(self.answers):
                break
        return ranking, float(per_answer[top])

"""The answer about cats: a classification (per-label probabilities) read with the
encyclopedia.

The inference package knows labels and probabilities; this module knows the encyclopedia. Each
label belongs to one owner (a species, a breed, or a group such as the genus Lynx or the
domestic cat: admin-editable ModelLabel rows); labels without one are "not a cat". The
probabilities add up the cat family tree (catmodel.taxonomy) and the answer is the most specific
level that reaches settings.CAT_THRESHOLD: a species or breed when the model is sure of it, else
a genus, "domestic cat" or a subfamily with its candidates. A new model works without code
changes: only its labels and their links change.

Both the identify service (services.py) and the challenger in the shadow (shadow.py) read
classifications through ``summarise``; neither imports the other.
"""
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np
from django.conf import settings

from catmodel.evaluation.dataset import NOT_A_CAT
from catmodel.taxonomy import FAMILY, Node, most_specific, sum_up
from species import answer_data
from species.answer_data import AnswerData
from species.answer_levels import Level, label_owners, lineage_of, resolve
from species.models import Species, Taxon

# "Not a cat", one spelling per layer, mapped here and nowhere else:
NOT_A_CAT_LABEL = NOT_A_CAT     # the data: a dataset's label, the feedback form's choice
NOT_A_CAT_KEY = "not_a_cat"     # the web: answer keys, metric outcomes, verdicts, API fields
NOT_A_CAT_TEXT = "not a cat"    # the words a visitor or an editor reads

# Labels below this probability say nothing about which breeds or species a photo resembles.
EVIDENCE_MIN = 0.05
# A cat below this share is not worth a bar on the answer (0.1 % Siamese on a tabby's answer
# reads as a claim).
GUESS_MIN = 0.01


def percent(probability: float) -> float:
    """A probability as the page shows it: in per cent, one decimal. The one rounding of every
    number and bar on the answer, so a sentence and its bar never disagree."""
    return round(probability * 100, 1)


@dataclass
class Prediction:
    probability: float
    label: str                      # the owner's name, or the model label when nobody owns it
    species: Species | None = None  # when the owner is an encyclopedia entry
    taxon: Taxon | None = None      # when the owner is a group (a genus, the domestic cat)
    labels: list[str] = field(default_factory=list)   # model labels that were added up

    @property
    def percent(self) -> float:
        return percent(self.probability)

    @property
    def is_cat(self) -> bool:
        return self.species is not None or self.taxon is not None


@dataclass
class Answer:
    """What the identifier answers about one photo (the record of it, with its id, is
    classifier.models.Identification)."""

    is_cat: bool
    cat_probability: float
    predictions: list[Prediction]   # best first, top-k
    model_name: str
    model_version: str
    timings_ms: dict
    # The most specific level whose probability reaches the threshold; None when not a cat.
    answer: Level | None = None
    answer_probability: float = 0.0
    image: object = None  # the decoded photo (PIL image) when identify() was asked to keep it
    # What the page lists: the cats first (top-k, each at least GUESS_MIN), then, only when
    # it is not a cat, the other things the model saw (top-k of the labels nobody owns).
    cat_guesses: list[Prediction] = field(default_factory=list)
    other_guesses: list[Prediction] = field(default_factory=list)

    @property
    def cat_percent(self) -> float:
        return percent(self.cat_probability)

    @property
    def answer_percent(self) -> float:
        return percent(self.answer_probability)

    @property
    def best(self) -> Prediction:
        return self.predictions[0]

    @property
    def best_species(self) -> Species | None:
        """The encyclopedia entry, only when the answer is one species or breed."""
        return self.answer.entry if self.answer is not None else None

    @property
    def answer_key(self) -> str:
        """The answer in one word, for metrics, logs and the shadow's agreement: the entry's
        slug, else the level's scientific name ("Lynx", "Felis catus"), or "not_a_cat"."""
        if self.answer is None:
            return NOT_A_CAT_KEY
        return self.answer.entry.slug if self.answer.entry is not None else (
            self.answer.scientific_name)

    @property
    def looks_like(self) -> Prediction | None:
        """When it is not a cat: the best guess that is not a cat."""
        return next((p for p in self.predictions if not p.is_cat), None)


def timings_ms(result) -> dict:
    """A classification's timings by stage, in milliseconds."""
    timings = result.timings
    return {
        "decode": timings.decode_ms,
        "preprocess": timings.preprocess_ms,
        "inference": timings.inference_ms,
        "total": timings.total_ms,
    }


def summarise(result, timings_ms, data: AnswerData | None = None) -> Answer:
    """A classification (per-label probabilities, indexed like its labels) -> the answer about
    cats. The labels and the model come from the classification itself: with a model service
    (INFERENCE_URL) each answer names the model version that computed it. ``data``: the
    encyclopedia snapshot to read it with (default: the process's current one; no query when
    it is kept, species/answer_data.py)."""
    data = data or answer_data.current()
    labels, probabilities = result.labels, result.probabilities
    owners = label_owners(labels, data)
    top_k = settings.CLASSIFIER_TOP_K
    # Only the owned labels and the likeliest unowned ones become Predictions: of a model's
    # 1000 labels the rest can reach neither the top-k list nor the not-a-cat guesses.
    position = {label: index for index, label in enumerate(labels)} if owners else {}
    owned = [position[label] for label in owners]
    by_label = {label: float(probabilities[index])
                for label, index in zip(owners, owned, strict=True)}
    lineages = {label: lineage_of(owner) for label, owner in owners.items()}
    totals = sum_up(by_label, lineages)
    node = most_specific(totals, settings.CAT_THRESHOLD)

    # The top-k list: each owner with the labels at or below it added up (the group "domestic
    # cat" counts its breeds' labels too, as the answer does), and the labels nobody owns.
    by_owner: dict[Node, Prediction] = {}
    for label, owner in owners.items():
        owner_node = lineages[label][0]
        if owner_node not in by_owner:
            by_owner[owner_node] = Prediction(
                probability=totals[owner_node], label=owner.common_name,
                species=owner if isinstance(owner, Species) else None,
                taxon=owner if isinstance(owner, Taxon) else None,
                labels=[other for other, path in lineages.items() if owner_node in path],
            )
    others = [Prediction(probability=float(probabilities[index]), label=labels[index],
                         labels=[labels[index]])
              for index in _likeliest_unowned(probabilities, owned, top_k)]
    ranked = sorted([*by_owner.values(), *others], key=lambda p: p.probability, reverse=True)
    cats = [p for p in ranked if p.is_cat and p.probability >= GUESS_MIN]
    return Answer(
        is_cat=node is not None,
        cat_probability=totals.get(Node("family", FAMILY), 0.0),
        predictions=ranked[:top_k],
        cat_guesses=cats[:top_k],
        other_guesses=[] if node is not None else [p for p in ranked if not p.is_cat][:top_k],
        model_name=result.model_name,
        model_version=result.model_version,
        timings_ms=timings_ms,
        answer=None if node is None else resolve(node, owners, data=data, evidence=[
            label for label, path in lineages.items()
            if node in path and by_label[label] >= EVIDENCE_MIN
        ]),
        answer_probability=totals[node] if node is not None else 0.0,
    )


def _likeliest_unowned(probabilities, owned: list[int], count: int) -> list[int]:
    """The indexes of the ``count`` likeliest labels nobody owns, likeliest first; ties in
    label order (as a stable sort of all of them would rank them)."""
    probabilities = np.asarray(probabilities)
    unowned = np.ones(len(probabilities), dtype=bool)
    unowned[owned] = False
    candidates = np.flatnonzero(unowned)
    order = np.argsort(-probabilities[candidates], kind="stable")[:count]
    return candidates[order].tolist()


def site_answer_reader(labels: Iterable[str]) -> Callable[[object], tuple[str, float]]:
    """A model's probabilities for one photo (indexed like ``labels``) -> (the answer key, the
    top answer's probability): what the site would have answered, as ``summarise`` reads it,
    and what catsite_prediction_confidence counts. An evaluation reads its photos with it, so
    the reference profile of drift (catmodel/evaluation/drift.py) counts answers as the live
    ones are counted (classifier/drift.py)."""
    labels = tuple(labels)
    data = AnswerData()  # one snapshot for every photo of the evaluation

    def read(probabilities) -> tuple[str, float]:
        # What summarise reads of a catmodel.inference Classification.
        result = SimpleNamespace(model_name="", model_version="", labels=labels,
                                 probabilities=np.asarray(probabilities, dtype=np.float64))
        answer = summarise(result, {}, data)
        return answer.answer_key, float(answer.best.probability)

    return read

"""Answers at the level the evidence supports: label probabilities added up the cat family tree.

Pure Python (no Django), so the rule is tested on its own. A model label stands for one node of
the tree: a breed, a species (a wild species, or the domestic cat without a breed), a genus...
Its probability counts for that node and for every node above it (breed -> domestic cat ->
Felis -> Felinae -> Felidae). The answer is the most specific node whose total reaches the
threshold: a photo split between "lynx" and "bobcat"-like labels is at least surely a lynx, and
a house cat split between "tabby" and "Egyptian cat" is surely a domestic cat.
"""
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# Most specific first. A breed is not a taxon, but it is the most specific answer there is.
RANKS = ("breed", "species", "genus", "subfamily", "family")
FAMILY = "Felidae"
# A model label "species:<slug>" (a model trained on the encyclopedia's entries) names the entry
# <slug> with no link to edit. Here, free of Django, so pure code (catmodel.evaluation) shares it.
SPECIES_LABEL_PREFIX = "species:"


def species_label_owners(model_labels: Iterable[str]) -> dict[str, str]:
    """The owners that need no encyclopedia: ``species:<slug>`` names the entry ``<slug>``."""
    return {label: label[len(SPECIES_LABEL_PREFIX):] for label in model_labels
            if label.startswith(SPECIES_LABEL_PREFIX)}


@dataclass(frozen=True, order=True)
class Node:
    """One node of the tree: a rank and a key (the scientific name; a breed's slug)."""

    rank: str
    key: str

    def __post_init__(self):
        if self.rank not in RANKS:
            raise ValueError(f"unknown rank {self.rank!r}; one of {', '.join(RANKS)}")


Lineage = tuple[Node, ...]  # a node and all nodes above it, most specific first


def lineage(*, breed: str | None = None, species: str | None = None, genus: str | None = None,
            subfamily: str | None = None, family: str = FAMILY) -> Lineage:
    """The path from the most specific given level up to the family, skipping levels not given."""
    levels = zip(RANKS, (breed, species, genus, subfamily, family), strict=True)
    return tuple(Node(rank, key) for rank, key in levels if key)


def sum_up(probabilities: Mapping[str, float],
           lineages: Mapping[str, Lineage]) -> dict[Node, float]:
    """Each node's total: the probabilities of all labels at or below it. Labels without a
    lineage (not cats) count for no node."""
    totals: dict[Node, float] = defaultdict(float)
    for label, probability in probabilities.items():
        for node in lineages.get(label, ()):
            totals[node] += probability
    return dict(totals)


def most_specific(totals: Mapping[Node, float], threshold: float) -> Node | None:
    """The most specific node whose total reaches the threshold (the likeliest one of its rank),
    or None when not even the family does: then it is not a cat."""
    for rank in RANKS:
        candidates: Iterable[Node] = (node for node in totals if node.rank == rank)
        # Ties go to the first key in sort order, so the answer never depends on dict order.
        best = min(candidates, key=lambda node: (-totals[node], node.key), default=None)
        if best is not None and totals[best] >= threshold:
            return best
    return None

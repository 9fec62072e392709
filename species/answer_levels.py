"""The encyclopedia's side of an answer: where each model label sits in the tree, and a tree node
turned into what a visitor reads (its rank and name, the entries it could be, how to tell them
apart). The adding-up itself is catmodel.taxonomy (pure Python).

A label's owner is its ModelLabel row (an entry or a group, edited in the admin). A label named
``species:<slug>`` (what a model fine-tuned on the encyclopedia's own entries emits) means that
entry without a row, so such a model needs no data entry and no code change.
"""
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property

from catmodel.taxonomy import FAMILY, Lineage, Node, lineage
from species import answer_data
from species.answer_data import AnswerData
from species.models import Species, Taxon

DOMESTIC_CAT = "Felis catus"
# More candidates than this are a list of links, not a side-by-side comparison.
COMPARISON_LIMIT = 6
NUMBER_WORDS = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}

Owner = Species | Taxon


def label_owners(labels: Iterable[str], data: AnswerData | None = None) -> dict[str, Owner]:
    """The owner of each of these labels that has one (its ModelLabel row, else a
    ``species:<slug>`` label's entry), from ``data`` (default: the process's current snapshot,
    species/answer_data.py)."""
    return (data or answer_data.current()).owners(tuple(labels))


def lineage_of(owner: Owner) -> Lineage:
    """The owner's node and every node above it, most specific first."""
    if isinstance(owner, Species):
        if owner.is_wild:
            return lineage(species=owner.scientific_name, genus=owner.genus,
                           subfamily=owner.subfamily)
        return lineage(breed=owner.slug, species=owner.scientific_name, genus=owner.genus,
                       subfamily=owner.subfamily)
    name, rank = owner.scientific_name, owner.rank
    if rank == Taxon.Rank.SPECIES:
        return lineage(species=name, genus=name.split()[0], subfamily=owner.subfamily)
    if rank == Taxon.Rank.GENUS:
        return lineage(genus=name, subfamily=owner.subfamily)
    if rank == Taxon.Rank.SUBFAMILY:
        return lineage(subfamily=name)
    return lineage(family=name)


@dataclass
class Level:
    """A node of the tree as a visitor reads it."""

    node: Node
    rank: str                      # the taxon's rank: species, genus, subfamily or family
    name: str                      # "lynx", "domestic cat", "Lion"
    scientific_name: str           # "Lynx", "Felis catus", "Panthera leo"
    entry: Species | None = None   # when the answer is one encyclopedia entry (species, breed)
    candidates: list[Species] = field(default_factory=list)
    evidence: tuple[str, ...] = ()  # the model labels the answer rests on

    @property
    def is_breed(self) -> bool:
        return self.entry is not None and not self.entry.is_wild

    @property
    def is_domestic_cat(self) -> bool:
        """A house cat of no breed the model can tell: the candidates are every breed."""
        return self.entry is None and self.scientific_name == DOMESTIC_CAT

    @cached_property
    def look_alikes(self) -> list[Species]:
        """For a breed: the other breeds whose photos get the same labels (Species.resembles),
        which a model that knows only a few breeds names the same way."""
        if not self.is_breed or not self.evidence:
            return []
        return list(Species.objects.filter(resembles__label__in=self.evidence)
                    .exclude(pk=self.entry.pk).distinct().order_by("common_name"))

    @property
    def includes_look_alikes(self) -> bool:
        """Some candidates are not under the node but resemble its labels (the caracal among
        the lynxes): the page then says "or a look-alike"."""
        return any(self.node not in lineage_of(entry) for entry in self.candidates)

    @property
    def candidates_in_words(self) -> str:
        """"four" for the lynxes: the result page says "one of these four"."""
        count = len(self.candidates)
        return NUMBER_WORDS.get(count, str(count))

    @property
    def comparison(self) -> list[Species]:
        """The candidates side by side (size, ears, tail, range), when there are a few."""
        # Not for breeds: the page links the look-alikes instead (breeds differ in coat and
        # build, not in the wild cat's size, ears, tail and range).
        if self.entry is None and not self.is_domestic_cat and (
                1 < len(self.candidates) <= COMPARISON_LIMIT):
            return self.candidates
        return []


def resolve(node: Node, owners: Mapping[str, Owner] | None = None, *,
            evidence: Iterable[str] = (), with_candidates: bool = True,
            data: AnswerData | None = None) -> Level:
    """The level a node stands for. ``owners`` (label -> owner, as label_owners gives) are
    objects already read, so the common answers need no further query for the node itself.
    ``evidence``, the labels the answer rests on, picks a group's candidates (see
    _candidates); without it they are every entry of the group. ``data``: the snapshot the
    owners came from (default: the process's current one); no query when given."""
    data = data or answer_data.current()
    owners = owners or {}
    evidence = tuple(evidence)
    known = {lineage_of(owner)[0]: owner for owner in owners.values()}
    owner = known.get(node)
    if node.rank == "breed":
        entry = owner if isinstance(owner, Species) else data.by_slug[node.key]
        taxon = _taxon(Node("species", entry.scientific_name), known, data)
        return Level(node=node, rank=Taxon.Rank.SPECIES, entry=entry, candidates=[entry],
                     name=taxon.common_name if taxon else entry.scientific_name,
                     scientific_name=entry.scientific_name, evidence=evidence)
    if node.rank == "species" and node.key != DOMESTIC_CAT:
        entry = owner if isinstance(owner, Species) else (
            data.wild_by_scientific_name.get(node.key))
        if entry is not None:
            return Level(node=node, rank=node.rank, name=entry.common_name,
                         scientific_name=entry.scientific_name, entry=entry, candidates=[entry],
                         evidence=evidence)
    taxon = _taxon(node, known, data)
    candidates = _candidates(node, evidence, owners, data) if with_candidates else []
    return Level(node=node, rank=node.rank, name=taxon.common_name if taxon else node.key,
                 scientific_name=node.key, candidates=candidates, evidence=evidence)


def _candidates(node: Node, evidence: tuple[str, ...], owners: Mapping[str, Owner],
                data: AnswerData) -> list[Species]:
    """The entries the evidence for the node points to. Only labels that count toward the node
    (owned by it or by something under it) take part. Per label: the entry that owns it; for a
    label owned by a group, its members that resemble the label, or all its members when none
    does ("tabby": the tabby-like breeds; "lynx": the four lynxes); and the look-alikes from
    outside the owner, which resemble the label too ("lynx": the caracal, once Lynx caracal).
    Without evidence, or when it points nowhere, every entry under the node."""
    chosen: dict[int, Species] = {}
    resembling = data.resembling_any(evidence)
    for label in evidence:
        owner = owners.get(label)
        if owner is None or node not in lineage_of(owner):
            continue
        alike = resembling.get(label, [])
        if isinstance(owner, Species):
            entries = [owner, *alike]
        else:
            group = lineage_of(owner)[0]
            inside = [entry for entry in alike if group in lineage_of(entry)]
            outside = [entry for entry in alike if group not in lineage_of(entry)]
            entries = (inside or data.entries_under(owner.rank, owner.scientific_name)
                       ) + outside
        chosen.update((entry.pk, entry) for entry in entries)
    if not chosen:
        return data.entries_under(node.rank, node.key)
    return sorted(chosen.values(), key=lambda entry: entry.common_name)


def _taxon(node: Node, known: dict[Node, Owner], data: AnswerData) -> Taxon | None:
    owner = known.get(node)
    if isinstance(owner, Taxon):
        return owner
    return data.taxon(node.rank, node.key)


@dataclass
class Naming:
    """How the installed model names one encyclopedia entry."""

    entry: Species
    level: str            # "species": by name; "group": only a group above it; "none"
    labels: list[str]     # the labels that name it (or its group)
    group: Level | None = None


def namings(model_labels: Iterable[str], entries: Iterable[Species] | None = None) -> list[Naming]:
    """For every entry: whether the model names it, only its group, or not at all. Follows from
    the installed model's labels and their owners, so a new model changes it without code."""
    data = answer_data.current()
    owners = label_owners(model_labels, data)
    labels_by_node: dict[Node, list[str]] = {}
    for label, owner in sorted(owners.items()):
        labels_by_node.setdefault(lineage_of(owner)[0], []).append(label)
    entries = list(data.entries if entries is None else entries)
    groups: dict[Node, Level] = {}
    result = []
    for entry in entries:
        path = lineage_of(entry)
        if path[0] in labels_by_node:
            result.append(Naming(entry, "species", labels_by_node[path[0]]))
            continue
        above = next((node for node in path[1:] if node in labels_by_node), None)
        if above is None or above == Node("family", FAMILY):
            result.append(Naming(entry, "none", labels_by_node.get(above, [])))
            continue
        if above not in groups:
            groups[above] = resolve(above, owners, with_candidates=False, data=data)
        result.append(Naming(entry, "group", labels_by_node[above], groups[above]))
    return result

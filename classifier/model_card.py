"""The model card: what the installed identifier is and what it can name.

Everything follows from the installed package: its name, version, source and checks from the
manifest, and from its labels (through their owners in the encyclopedia) which entries it names
by species or breed, which only by their group (a genus, "domestic cat"), and which not at all.
A later model with other labels (e.g. ``species:<slug>`` from fine-tuning) changes the card with
no code change.
"""
from dataclasses import dataclass

from species.answer_levels import Naming, namings

LEVELS = ("species", "group", "none")


@dataclass
class ModelCard:
    name: str
    version: str
    created_at: str
    framework: dict
    source: dict
    checks: dict
    label_count: int
    namings: list[Naming]

    def entries(self, level: str) -> list[Naming]:
        return [n for n in self.namings if n.level == level]

    @property
    def counts(self) -> dict[str, int]:
        return {level: len(self.entries(level)) for level in LEVELS}

    @property
    def groups(self) -> list[tuple[object, list[Naming]]]:
        """The entries named only by a group, per group: [(group level, [namings])]."""
        by_group: dict[tuple, tuple[object, list[Naming]]] = {}
        for naming in self.entries("group"):
            key = (naming.group.rank, naming.group.scientific_name)
            by_group.setdefault(key, (naming.group, []))[1].append(naming)
        return list(by_group.values())

    @property
    def cat_labels(self) -> list[str]:
        """The model's labels that mean a cat of the encyclopedia (an entry or a group)."""
        return sorted({label for naming in self.namings for label in naming.labels})

    @property
    def sanity_checks(self) -> list[dict]:
        return [c for c in self.checks.get("sanity", []) if isinstance(c, dict)]

    @property
    def parity(self) -> dict:
        parity = self.checks.get("parity")
        return parity if isinstance(parity, dict) else {}


def has_card(classifier) -> bool:
    """Whether this process has the model's package to describe: not without a model, nor with
    a model service (INFERENCE_URL), whose labels come only with its answers."""
    return getattr(classifier, "manifest", None) is not None


def build_card(classifier) -> ModelCard:
    """The card of a classifier loaded in this process (has_card)."""
    document = classifier.manifest.raw
    return ModelCard(
        name=classifier.name,
        version=classifier.version,
        created_at=str(document.get("created_at", "")),
        framework=_mapping(document.get("framework")),
        source=_mapping(document.get("source")),
        checks=_mapping(document.get("checks")),
        label_count=len(classifier.labels),
        namings=namings(classifier.labels),
    )


def naming_for(classifier, entry) -> Naming | None:
    """How the installed model names one entry, or None without a card (see has_card)."""
    if not has_card(classifier):
        return None
    return namings(classifier.labels, [entry])[0]


def _mapping(value) -> dict:
    return value if isinstance(value, dict) else {}

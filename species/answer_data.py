"""What an identification's answer reads of the encyclopedia (the label owners, the groups, the
entries under each group, which entries resemble which labels), each part read at most once per
snapshot, and the snapshot kept by the process between identifications.

Why: reading it per answer cost 3-5 queries and about 90 model instances, 5-7 ms of every
identification (more than the model's inference with the int8 package; docs/performance.md).
The whole of it is a few dozen rows.

Kept only while the page cache is on (PAGE_CACHE_SECONDS > 0): its tags are how every worker
and replica learns of an edit at once (core/page_cache.py). The snapshot is stored with the
version of the ANSWERS tag it was read at, read before the rows as a page's are, and every edit
of an entry, label, group or resemblance bumps that tag (species/caching.py); so an answer never
uses a snapshot older than the last edit its process could know of. With the page cache off, or
its cache down, each answer reads a snapshot of its own (the old cost, never a stale answer).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cached_property

from django.conf import settings

from catmodel.taxonomy import species_label_owners
from core.page_cache import tag_versions
from core.shared_cache import CacheUnavailable
from species.models import RANK_FIELDS, ModelLabel, Species, Taxon

# The page-cache tag every edit an answer could read bumps (species/caching.py).
ANSWERS = "answers"

Owner = Species | Taxon


class AnswerData:
    """The encyclopedia as answers read it, from one moment. Each part is read on first use
    (one query each: a species page that only needs the label owners reads only them), then
    kept with the snapshot. Read-only: its objects are shared by every thread of the process."""

    def __init__(self, version: int | None = None):
        self.version = version  # of the ANSWERS tag it was read at; None: not kept
        self._owners: dict[tuple[str, ...], dict[str, Owner]] = {}

    @cached_property
    def entries(self) -> list[Species]:
        """Every entry, in the database's name order (as entries_under gives them)."""
        return list(Species.objects.order_by("common_name"))

    @cached_property
    def by_slug(self) -> dict[str, Species]:
        return {entry.slug: entry for entry in self.entries}

    @cached_property
    def wild_by_scientific_name(self) -> dict[str, Species]:
        """The first by primary key, as .first() gives."""
        wild: dict[str, Species] = {}
        for entry in sorted(self.entries, key=lambda entry: entry.pk):
            if entry.kind == Species.Kind.WILD:
                wild.setdefault(entry.scientific_name, entry)
        return wild

    @cached_property
    def taxa(self) -> dict[tuple[str, str], Taxon]:
        """(rank, scientific name) -> the group; the first by primary key."""
        taxa: dict[tuple[str, str], Taxon] = {}
        for taxon in Taxon.objects.order_by("pk"):
            taxa.setdefault((taxon.rank, taxon.scientific_name), taxon)
        return taxa

    @cached_property
    def label_rows(self) -> dict[str, Owner]:
        """A ModelLabel row's label -> its owner."""
        return {row.label: row.owner
                for row in ModelLabel.objects.select_related("species", "taxon").order_by()
                if row.owner is not None}

    @cached_property
    def resembling(self) -> dict[str, list[Species]]:
        """A label -> the entries that resemble it."""
        resembling: dict[str, list[Species]] = {}
        rows = Species.resembles.through.objects.select_related("species", "modellabel")
        for row in rows.order_by("pk"):
            resembling.setdefault(row.modellabel.label, []).append(row.species)
        return resembling

    def owners(self, labels: Sequence[str]) -> dict[str, Owner]:
        """The owner of each of these labels that has one: its ModelLabel row, else a
        ``species:<slug>`` label's entry. Kept per label list (a process serves one or two
        models)."""
        key = tuple(labels)
        found = self._owners.get(key)
        if found is None:
            wanted = set(key)
            found = {label: owner for label, owner in self.label_rows.items() if label in wanted}
            for label, slug in species_label_owners(wanted - found.keys()).items():
                if slug in self.by_slug:
                    found[label] = self.by_slug[slug]
            if len(self._owners) < 8:  # a few label lists at most; never grows without bound
                self._owners[key] = found
        return found

    def entries_under(self, rank: str, scientific_name: str) -> list[Species]:
        """As species.models.entries_under, from the snapshot (the same order)."""
        attribute = RANK_FIELDS[rank]
        if attribute is None:  # the family: every entry
            return list(self.entries)
        return [entry for entry in self.entries if getattr(entry, attribute) == scientific_name]

    def taxon(self, rank: str, scientific_name: str) -> Taxon | None:
        return self.taxa.get((rank, scientific_name))

    def resembling_any(self, labels: Iterable[str]) -> dict[str, list[Species]]:
        labels = list(labels)
        if not labels:  # no evidence: the resemblances need not be read at all
            return {}
        return {label: self.resembling[label] for label in labels if label in self.resembling}


_kept: AnswerData | None = None


def current() -> AnswerData:
    """The snapshot to answer with now: the one this process keeps while no edit has been made
    since it was read, else a fresh one."""
    global _kept
    if settings.PAGE_CACHE_SECONDS <= 0:
        return AnswerData()
    try:
        version = tag_versions([ANSWERS])[ANSWERS]  # before the rows, as a cached page does
    except CacheUnavailable:
        return AnswerData()
    kept = _kept
    if kept is not None and kept.version == version:
        return kept
    kept = AnswerData(version)
    _kept = kept  # one assignment: a thread reads the old snapshot or the new one, whole
    return kept

"""Reads of the encyclopedia: search and filters, kept out of the views (and shared by the API)."""
from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import Case, IntegerField, Q, QuerySet, TextField, Value, When
from django.db.models.functions import Concat
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from species.models import Species

if TYPE_CHECKING:  # the dataset code is imported where it is used, never on a page's path
    from catmodel.evaluation.sources import EntryNames

# Longer queries carry no more meaning and only cost the database work.
MAX_QUERY_LENGTH = 200


def clean_query(text: str | None) -> str:
    """Collapse whitespace, drop NUL bytes (PostgreSQL rejects them), cap the length."""
    if not text:
        return ""
    return " ".join(text.replace("\x00", " ").split())[:MAX_QUERY_LENGTH]


# Where a snippet's matching words start and stop: characters no entry's text holds, turned
# into <mark> after the text around them is escaped (species.selectors.snippet_html).
MARK_START, MARK_STOP = "\ue000", "\ue001"
# The text a snippet is taken from, in the order a reader meets it.
SNIPPET_FIELDS = ("summary", "description", "native_range", "temperament", "care_notes")
SNIPPET_WORDS = 28


def species_search(
    query: str = "", *, kind: str = "", status: str = "", genus: str = "",
    snippets: bool = False,
) -> QuerySet[Species]:
    """Species matching a free-text query and filters, best matches first.

    PostgreSQL ranks with full-text search (websearch syntax: "snow leopard", -lion, or);
    name fragments still match by substring so "leo" finds leopards. SQLite, the embedded
    default, falls back to case-insensitive substring matching over the same fields.
    """
    qs = Species.objects.all()
    if kind:
        qs = qs.filter(kind=kind)
    if status:
        qs = qs.filter(conservation_status=status)
    if genus:
        qs = qs.filter(genus__iexact=genus)

    query = clean_query(query)
    if not query:
        return qs.order_by("common_name")

    by_name = (
        Q(common_name__icontains=query)
        | Q(scientific_name__icontains=query)
        | Q(labels__label__iexact=query)
    )
    # "tiger" should open with the Tiger, not with a cat whose text says "tiger" more often.
    exact_name_first = Case(
        When(Q(common_name__iexact=query) | Q(scientific_name__iexact=query), then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    if connection.vendor == "postgresql":
        vector = (
            SearchVector("common_name", weight="A")
            + SearchVector("scientific_name", weight="A")
            + SearchVector("summary", weight="B")
            + SearchVector("native_range", "temperament", weight="C")
            + SearchVector("description", weight="D")
        )
        search = SearchQuery(query, search_type="websearch", config="english")
        if snippets:
            # Why it matched: the best passage of its text with the query's words marked.
            text = Concat(*_spaced(SNIPPET_FIELDS), output_field=TextField())
            qs = qs.annotate(headline=SearchHeadline(
                text, search, config="english", start_sel=MARK_START, stop_sel=MARK_STOP,
                max_words=SNIPPET_WORDS, min_words=SNIPPET_WORDS // 2, max_fragments=1))
        # Match with @@ (the document filter), not rank > 0: ts_rank gives documents that miss
        # one word of an AND query a tiny non-zero rank, which would let every entry through.
        return (
            qs.annotate(document=vector, rank=SearchRank(vector, search))
            .filter(Q(document=search) | by_name)
            .distinct()
            .order_by(exact_name_first, "-rank", "common_name")
        )
    words = query.split()
    text_match = Q()
    for word in words:
        text_match &= (
            Q(common_name__icontains=word)
            | Q(scientific_name__icontains=word)
            | Q(summary__icontains=word)
            | Q(description__icontains=word)
            | Q(native_range__icontains=word)
            | Q(temperament__icontains=word)
        )
    return qs.filter(text_match | by_name).distinct().order_by(exact_name_first, "common_name")


def _spaced(fields):
    parts = []
    for name in fields:
        parts += [name, Value(" ")]
    return parts[:-1]


def plain_headline(species: Species, query: str) -> str:
    """SQLite's stand-in for ts_headline: about SNIPPET_WORDS words of the entry's text around
    the first place a query word appears (as the search matches: a substring, any case), every
    appearance marked. Empty when the text holds none (the entry matched by its name or label).
    """
    words = [w for w in clean_query(query).split() if w]
    if not words:
        return ""
    pattern = re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE)
    text = " ".join(" ".join(getattr(species, name).split()) for name in SNIPPET_FIELDS
                    if getattr(species, name))
    found = pattern.search(text)
    if not found:
        return ""
    before = text[: found.start()].split(" ")
    start = max(0, len(before) - SNIPPET_WORDS // 3)
    window = (" ".join(before[start:]) + text[found.start():]).split(" ")[:SNIPPET_WORDS]
    passage = " ".join(window)
    return pattern.sub(lambda m: MARK_START + m.group(0) + MARK_STOP, passage)


def snippet_html(headline: str) -> SafeString:
    """A headline (its matches between MARK_START and MARK_STOP) as HTML: the text escaped,
    each match in <mark>."""
    html = escape(headline).replace(MARK_START, "<mark>").replace(MARK_STOP, "</mark>")
    return mark_safe(html)  # noqa: S308 - escaped above; only our own markers become tags


def with_snippets(entries, query: str) -> list[Species]:
    """The entries of one result page, each with ``snippet``: why it matched, as HTML (None
    when its text does not hold the words: it matched by its name or a model label). On
    PostgreSQL from ts_headline (species_search(snippets=True)), elsewhere a plain snippet."""
    entries = list(entries)
    for entry in entries:
        headline = getattr(entry, "headline", None)
        if headline is None:
            headline = plain_headline(entry, query)
        entry.snippet = snippet_html(headline) if MARK_START in headline else None
    return entries


def genus_choices() -> list[str]:
    return list(Species.objects.order_by("genus").values_list("genus", flat=True).distinct())


# Coats that read alike in a picture: spots and rosettes, stripes and tabby.
COAT_LOOKS = {"rosettes": "spotted", "tabby": "striped"}
RELATED_LIMIT = 6
# An entry without weights sorts after every entry whose size is known.
UNKNOWN_SIZE_GAP = 10.0


def _label_signatures(entries) -> dict[int, set[str]]:
    """Each entry's model labels: those it owns, those it resembles (its look-alikes on the
    result page), and, for a wild species, its genus group's (ImageNet's "lynx" is every lynx).
    Two entries that share one are told apart badly by photos: they look alike."""
    from species.models import ModelLabel, Taxon

    signatures: dict[int, set[str]] = {e.pk: set() for e in entries}
    genus_labels: dict[str, set[str]] = {}
    # One query: each label with its owner and (a row each) the entries that resemble it.
    for label, species_id, rank, group, resembler in ModelLabel.objects.values_list(
            "label", "species_id", "taxon__rank", "taxon__scientific_name", "resembled_by"):
        for entry_id in (species_id, resembler):
            if entry_id is not None and entry_id in signatures:
                signatures[entry_id].add(label)
        if rank == Taxon.Rank.GENUS:
            genus_labels.setdefault(group, set()).add(label)
    for entry in entries:
        if entry.kind == Species.Kind.WILD:
            signatures[entry.pk] |= genus_labels.get(entry.genus, set())
    return signatures


def _weights(entry) -> tuple[float, float] | None:
    if entry.weight_min_kg is None or entry.weight_max_kg is None:
        return None
    return float(entry.weight_min_kg), float(entry.weight_max_kg)


def _size_distance(a, b) -> float:
    """How far apart two entries are in size: the ratio of their typical weights (the middle
    of each range), on a log scale, so a lion and a leopard are nearer than a leopard and a
    sand cat."""
    wa, wb = _weights(a), _weights(b)
    if wa is None or wb is None:
        return UNKNOWN_SIZE_GAP
    return abs(math.log(math.sqrt(wa[0] * wa[1]) / math.sqrt(wb[0] * wb[1])))


def _sizes_overlap(a, b) -> bool:
    wa, wb = _weights(a), _weights(b)
    return wa is not None and wb is not None and max(wa[0], wb[0]) <= min(wa[1], wb[1])


def _coat_look(entry) -> str:
    return COAT_LOOKS.get(entry.coat_pattern, entry.coat_pattern)


def related_lists(species: Species, limit: int = RELATED_LIMIT) -> dict[str, list[Species]]:
    """What a species page offers next.

    ``look_alikes``: entries a photo (or an eye) confuses with it: those sharing a model label
    with it (a breed's ``resembles``, the caracal and the lynxes), most shared first; for a
    wild species then wild cats of other genera with a coat that reads alike and an
    overlapping size. ``genus``: for a wild species its genus mates; for a breed the wild cats
    of its genus, which it descends from (every breed is Felis catus: listing the other breeds
    by name would say nothing). Nothing appears in both.
    """
    everyone = list(Species.objects.all())
    if species.pk not in {e.pk for e in everyone}:
        everyone.append(species)
    signatures = _label_signatures(everyone)
    look_alikes = _look_alikes(species, everyone, signatures, limit)
    genus = [e for e in everyone if e.pk != species.pk and e.genus == species.genus
             and e not in look_alikes and (species.is_wild or e.is_wild)]
    genus.sort(key=lambda e: (_size_distance(species, e), e.common_name))
    return {"look_alikes": look_alikes, "genus": genus[:limit]}


def _look_alikes(species, everyone, signatures, limit) -> list[Species]:
    own = signatures[species.pk]
    entries = [e for e in everyone if e.pk != species.pk]

    def closeness(entry):
        return (-len(own & signatures[entry.pk]), _size_distance(species, entry),
                entry.common_name)

    alike = sorted((e for e in entries if own & signatures[e.pk]), key=closeness)
    if species.is_wild:
        alike += sorted(
            (e for e in entries
             if e.is_wild and e.genus != species.genus and e not in alike
             and _coat_look(e) == _coat_look(species) and _sizes_overlap(species, e)),
            key=closeness,
        )
    return alike[:limit]


def pages_showing_as_look_alike(species_ids) -> set[str]:
    """The slugs of the species pages whose look-alikes include any of these entries (for the
    page cache: an edit to an entry changes exactly the pages that show it, before or after)."""
    everyone = list(Species.objects.all())
    signatures = _label_signatures(everyone)
    wanted = set(species_ids)
    return {entry.slug for entry in everyone
            if wanted & {e.pk for e in _look_alikes(entry, everyone, signatures,
                                                    RELATED_LIMIT)}}


def featured_species(limit: int = 8) -> QuerySet[Species]:
    return Species.objects.filter(featured=True).order_by("kind", "common_name")[:limit]


def entry_names() -> EntryNames:
    """Every encyclopedia entry by the names a public dataset may give it: slug, common name,
    scientific name and synonyms (manage.py import_dataset maps its labels with it)."""
    from catmodel.evaluation.sources import Entry, EntryNames

    return EntryNames(
        Entry(slug=entry.slug, common_name=entry.common_name,
              scientific_name=entry.scientific_name, synonyms=tuple(entry.synonym_list))
        for entry in Species.objects.only("slug", "common_name", "scientific_name", "synonyms")
    )

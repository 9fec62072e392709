"""Search and filters (species.selectors), on both database backends."""
import re

import pytest
from django.db import connection

from species.models import Species
from species.selectors import (
    MAX_QUERY_LENGTH,
    clean_query,
    featured_species,
    genus_choices,
    related_lists,
    species_search,
    with_snippets,
)

pytestmark = pytest.mark.django_db

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL full-text search"
)
sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite fallback")


def slugs(queryset):
    return [s.slug for s in queryset]


def test_clean_query_drops_nul_bytes_collapses_whitespace_and_caps_length():
    assert clean_query(None) == ""
    assert clean_query("  snow\x00leopard \t\n ") == "snow leopard"
    assert len(clean_query("a" * 10_000)) == MAX_QUERY_LENGTH


@pytest.mark.parametrize(
    "query,expected",
    [
        ("Snow leopard", "snow-leopard"),  # common name
        ("panthera uncia", "snow-leopard"),  # scientific name, any case
        ("Scotland", "scottish-fold"),  # a word from the text
        ("leo", "leopard"),  # a name fragment
        ("Siamese cat", "siamese"),  # a classifier label the entry owns
    ],
)
def test_search_finds_by_name_scientific_name_text_and_label(query, expected):
    assert expected in slugs(species_search(query))


def test_search_leaves_out_what_does_not_match():
    found = slugs(species_search("snow leopard"))
    assert "lion" not in found and "persian" not in found
    assert species_search("no such cat anywhere qwzx").count() == 0


def test_an_empty_query_lists_everything_by_name():
    results = slugs(species_search(""))
    assert len(results) == Species.objects.count()
    names = list(Species.objects.order_by("common_name").values_list("slug", flat=True))
    assert results == names


@pytest.mark.parametrize("query", ["lion", "tiger", "Lynx", "caracal"])
def test_an_exact_name_comes_first(query):
    first = species_search(query).first()
    assert first.common_name.lower() == query.lower() or first.genus == query


def test_filters_narrow_the_results():
    breeds = species_search(kind="breed")
    assert breeds.count() == Species.objects.filter(kind="breed").count()
    assert {s.kind for s in breeds} == {"breed"}
    endangered = species_search(status="EN")
    assert endangered.exists() and {s.conservation_status for s in endangered} == {"EN"}
    assert set(slugs(species_search(genus="panthera"))) == {
        "lion", "tiger", "leopard", "jaguar", "snow-leopard"
    }


def test_filters_combine_with_search():
    assert slugs(species_search("cat", kind="wild", genus="Prionailurus", status="EN")) == [
        "flat-headed-cat"
    ]
    assert species_search("lion", kind="breed").count() == 0


@pytest.mark.parametrize(
    "query",
    [
        "x" * 10_000,
        "snow\x00leopard",
        "'; DROP TABLE species_species; --",
        "lion' OR '1'='1",
        "%_%",
        "\\",
        "🐈 cat 🐆",
        '"snow leopard" -lion',
        '"unclosed quote',
        "lion OR tiger",
        "& | ! ( ) : *",
        "-",
        "lion" * 2_500,
    ],
)
def test_unusual_queries_run_and_return_a_sane_subset(query):
    total = Species.objects.count()
    results = list(species_search(query))
    assert len(results) < total
    assert Species.objects.count() == total  # nothing was executed as SQL


def test_sql_looking_text_is_only_text():
    # At most what the word "lion" finds (PostgreSQL reads OR as websearch's "or").
    found = set(slugs(species_search("lion' OR '1'='1")))
    assert found <= set(slugs(species_search("lion")))


@postgres_only
def test_postgres_ranks_the_exact_name_first_then_by_relevance():
    assert slugs(species_search("tiger"))[0] == "tiger"
    assert slugs(species_search("lion"))[0] == "lion"
    # Weight A (names) outranks weight D (description): the Eurasian lynx, whose label and
    # name say lynx, comes before the bobcat, whose text merely mentions lynxes.
    lynx = slugs(species_search("lynx"))
    assert lynx.index("eurasian-lynx") < lynx.index("bobcat")


@postgres_only
def test_postgres_understands_websearch_syntax():
    assert slugs(species_search('"snow leopard" -lion')) == ["snow-leopard"]
    either = set(slugs(species_search("lion or cheetah")))
    assert {"lion", "cheetah"} <= either
    # Every word must match (AND), so a two-word query is narrower than either word.
    assert species_search("snow leopard").count() < species_search("leopard").count()


@postgres_only
def test_postgres_stems_words():
    # English stemming: every form of "hunt" finds the same entries.
    hunted, hunts, hunting = (set(slugs(species_search(w))) for w in ("hunted", "hunts", "hunting"))
    assert hunted and hunted == hunts == hunting


@sqlite_only
def test_sqlite_matches_every_word_anywhere_in_the_entry():
    assert slugs(species_search("snow leopard")) == ["snow-leopard", "bengal"]
    assert slugs(species_search("folded ears")) == ["scottish-fold"]


@sqlite_only
def test_sqlite_orders_the_exact_name_first_then_alphabetically():
    rest = [s.common_name for s in species_search("lion")][1:]
    assert rest == sorted(rest)
    assert slugs(species_search("lion"))[0] == "lion"


def test_genus_choices_are_distinct_and_sorted():
    genera = genus_choices()
    assert genera == sorted(set(genera))
    assert {"Panthera", "Felis", "Lynx"} <= set(genera)


def related(slug):
    lists = related_lists(Species.objects.get(slug=slug))
    return [e.slug for e in lists["look_alikes"]], [e.slug for e in lists["genus"]]


def test_a_wild_cat_lists_its_genus_mates_and_its_look_alikes():
    look_alikes, genus = related("snow-leopard")
    assert set(genus) == {"lion", "tiger", "leopard", "jaguar"}
    assert genus[0] == "leopard"  # nearest in size first
    # Spotted coats of other genera at an overlapping size; never a striped or plain one.
    assert {"cheetah", "clouded-leopard"} <= set(look_alikes)
    assert not {"puma", "tiger", "lion"} & set(look_alikes)
    # The caracal is what ImageNet's "lynx" photos include: a look-alike of the lynxes, both ways.
    caracal_alikes, caracal_genus = related("caracal")
    assert {"eurasian-lynx", "canada-lynx", "iberian-lynx", "bobcat"} <= set(caracal_alikes)
    assert caracal_genus == ["african-golden-cat"]
    assert "caracal" in related("eurasian-lynx")[0]


def test_a_breed_lists_its_look_alikes_first_then_its_wild_relatives():
    look_alikes, genus = related("maine-coon")
    # The breeds that share its labels (tabby, tiger cat, Persian cat), most shared first;
    # not the first breeds by name.
    assert set(look_alikes[:2]) == {"norwegian-forest-cat", "siberian"}
    assert "abyssinian" not in look_alikes and "bombay" not in look_alikes[:2]
    assert "african-wildcat" in genus and all(
        Species.objects.get(slug=s).is_wild for s in genus)
    assert not set(look_alikes) & set(genus)
    assert related("siamese")[0][:2] in (["birman", "ragdoll"], ["ragdoll", "birman"])


def test_featured_species_are_limited_and_featured():
    featured = list(featured_species(limit=3))
    assert len(featured) == 3 and all(s.featured for s in featured)


def test_search_results_say_why_they_matched():
    """Issue 21: "siamese" finds entries whose text mentions the Siamese; each result shows
    the passage with the word marked (ts_headline on PostgreSQL, a plain snippet on SQLite)."""
    found = with_snippets(species_search("siamese", snippets=True), "siamese")
    assert len(found) >= 3
    explained = {e.slug: str(e.snippet) for e in found if e.snippet}
    others = [slug for slug in explained if slug != "siamese"]
    assert others and set(explained) >= set(others)
    for slug in others:  # the ones that matched by their text, not their name
        marked = re.findall(r"<mark>(.*?)</mark>", explained[slug])
        assert marked and all(m.lower().startswith("siames") for m in marked), explained[slug]
        assert len(explained[slug].split()) <= 40


def test_a_snippet_is_escaped_and_only_our_marks_are_tags():
    entry = Species(summary='A <b>bold</b> & "quoted" Siamese cousin.', description="")
    for name in ("native_range", "temperament", "care_notes"):
        setattr(entry, name, "")
    [shown] = with_snippets([entry], "siamese")
    assert str(shown.snippet) == (
        "A &lt;b&gt;bold&lt;/b&gt; &amp; &quot;quoted&quot; <mark>Siamese</mark> cousin.")
    [plain] = with_snippets([entry], "lion")
    assert plain.snippet is None  # matched by something else: the summary stays

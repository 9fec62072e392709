"""Labels placed in the tree, and tree nodes resolved against the encyclopedia
(species.answer_levels)."""
import pytest

from species.answer_levels import label_owners, lineage_of, namings, resolve
from species.models import ModelLabel, Species, Taxon
from species.taxonomy import Node

pytestmark = pytest.mark.django_db

IMAGENET_CAT_LABELS = [
    "tabby", "tiger cat", "Persian cat", "Siamese cat", "Egyptian cat", "cougar", "lynx",
    "leopard", "snow leopard", "jaguar", "lion", "tiger", "cheetah",
]


def test_labels_owned_by_entries_groups_and_by_name():
    owners = label_owners(["lynx", "lion", "Egyptian cat", "species:sand-cat", "banana",
                           "species:no-such-cat"])
    assert owners["lynx"] == Taxon.objects.get(slug="lynx")
    assert owners["lion"].slug == "lion"
    assert owners["Egyptian cat"].slug == "domestic-cat"
    assert owners["species:sand-cat"].slug == "sand-cat"   # no ModelLabel row needed
    assert set(owners) == {"lynx", "lion", "Egyptian cat", "species:sand-cat"}


def test_a_row_wins_over_the_species_label_convention():
    ModelLabel.objects.create(label="species:sand-cat", species=Species.objects.get(slug="lion"))
    assert label_owners(["species:sand-cat"])["species:sand-cat"].slug == "lion"


def test_lineages_of_entries_and_groups():
    assert lineage_of(Species.objects.get(slug="siamese")) == (
        Node("breed", "siamese"), Node("species", "Felis catus"), Node("genus", "Felis"),
        Node("subfamily", "Felinae"), Node("family", "Felidae"))
    assert lineage_of(Species.objects.get(slug="lion"))[0] == Node("species", "Panthera leo")
    assert lineage_of(Taxon.objects.get(slug="lynx")) == (
        Node("genus", "Lynx"), Node("subfamily", "Felinae"), Node("family", "Felidae"))
    assert lineage_of(Taxon.objects.get(slug="domestic-cat"))[:2] == (
        Node("species", "Felis catus"), Node("genus", "Felis"))


def test_the_lynx_genus_resolves_to_its_four_species_side_by_side():
    level = resolve(Node("genus", "Lynx"))
    assert (level.rank, level.name, level.scientific_name) == ("genus", "lynx", "Lynx")
    assert level.entry is None
    assert [s.slug for s in level.candidates] == [
        "bobcat", "canada-lynx", "eurasian-lynx", "iberian-lynx"]
    assert level.comparison == level.candidates


def test_imagenets_lynx_has_the_caracal_among_its_candidates():
    """The caracal (once Lynx caracal) resembles "lynx": a look-alike from outside the genus
    joins the four lynxes, who still all stand for the label."""
    owners = label_owners(["lynx"])
    level = resolve(Node("genus", "Lynx"), owners, evidence=["lynx"])
    assert [s.slug for s in level.candidates] == [
        "bobcat", "canada-lynx", "caracal", "eurasian-lynx", "iberian-lynx"]
    assert level.comparison == level.candidates  # five, side by side with ears and tails
    assert level.candidates_in_words == "five"


def test_long_haired_breeds_are_look_alikes_of_the_persian():
    owners = label_owners(["Persian cat"])
    level = resolve(Node("breed", "persian"), owners, evidence=["Persian cat"])
    assert {s.slug for s in level.look_alikes} == {
        "ragdoll", "birman", "maine-coon", "norwegian-forest-cat", "siberian", "turkish-van"}


def test_a_breed_resolves_to_the_breed_within_the_domestic_cat():
    level = resolve(Node("breed", "siamese"))
    assert level.entry.slug == "siamese" and level.is_breed
    assert (level.rank, level.name, level.scientific_name) == (
        "species", "domestic cat", "Felis catus")
    assert level.candidates == [level.entry] and level.comparison == []


def test_the_domestic_cat_resolves_to_every_breed():
    level = resolve(Node("species", "Felis catus"))
    assert level.is_domestic_cat and level.entry is None
    assert {s.slug for s in level.candidates} == set(
        Species.objects.filter(kind="breed").values_list("slug", flat=True))
    assert "egyptian-mau" in {s.slug for s in level.candidates}
    assert level.comparison == []  # twenty breeds are links, not a table


def test_the_evidence_picks_a_groups_candidates():
    owners = label_owners(["tabby", "Egyptian cat", "Siamese cat", "lynx", "cougar", "lion"])
    house_cat = resolve(Node("species", "Felis catus"), owners, evidence=["tabby", "Egyptian cat"])
    slugs = [s.slug for s in house_cat.candidates]
    assert {"domestic-tabby", "abyssinian", "egyptian-mau", "bengal"} <= set(slugs)
    assert "siamese" not in slugs and "persian" not in slugs
    assert slugs == sorted(slugs, key=lambda slug: Species.objects.get(slug=slug).common_name)
    pointed = resolve(Node("species", "Felis catus"), owners, evidence=["Siamese cat"])
    assert {s.slug for s in pointed.candidates} == {"siamese", "birman", "ragdoll"}
    assert pointed.comparison == []  # breeds are linked as look-alikes, not compared
    small_cats = resolve(Node("subfamily", "Felinae"), owners, evidence=["lynx", "cougar"])
    assert {s.slug for s in small_cats.candidates} == {
        "bobcat", "canada-lynx", "eurasian-lynx", "iberian-lynx", "caracal", "puma"}
    # Evidence outside the node does not count; none at all gives every member.
    panthera = resolve(Node("genus", "Panthera"), owners, evidence=["cougar"])
    assert {s.slug for s in panthera.candidates} >= {"lion", "tiger", "leopard", "jaguar"}


def test_a_wild_species_and_a_group_without_a_row():
    lion = resolve(Node("species", "Panthera leo"))
    assert lion.entry.slug == "lion" and lion.name == "Lion" and lion.candidates == [lion.entry]
    panthera = resolve(Node("genus", "Panthera"))
    assert panthera.name == "Panthera" and panthera.entry is None
    assert {s.slug for s in panthera.candidates} >= {"lion", "tiger", "leopard"}


def test_resolving_a_labels_owner_needs_no_query(django_assert_num_queries):
    owners = label_owners(["lynx", "lion"])
    with django_assert_num_queries(0):
        assert resolve(Node("species", "Panthera leo"), owners).entry.slug == "lion"


def test_what_the_imagenet_model_can_name():
    by_slug = {n.entry.slug: n for n in namings(IMAGENET_CAT_LABELS + ["banana"])}
    assert len(by_slug) == Species.objects.count()
    assert by_slug["lion"].level == "species" and by_slug["lion"].labels == ["lion"]
    assert by_slug["siamese"].level == "species"
    for slug in ("bobcat", "canada-lynx", "iberian-lynx", "eurasian-lynx"):
        assert by_slug[slug].level == "group" and by_slug[slug].group.name == "lynx"
        assert by_slug[slug].labels == ["lynx"]
    for slug in ("maine-coon", "egyptian-mau", "domestic-tabby"):
        assert by_slug[slug].level == "group"
        assert by_slug[slug].group.name == "domestic cat"
        assert by_slug[slug].labels == ["Egyptian cat", "tabby", "tiger cat"]
    for slug in ("sand-cat", "caracal", "clouded-leopard"):
        assert by_slug[slug].level == "none" and by_slug[slug].group is None


def test_a_fine_tuned_models_labels_change_what_it_can_name():
    labels = IMAGENET_CAT_LABELS + ["species:sand-cat", "species:maine-coon", "species:bobcat"]
    by_slug = {n.entry.slug: n for n in namings(labels)}
    assert by_slug["sand-cat"].level == "species"
    assert by_slug["maine-coon"].level == "species"
    assert by_slug["bobcat"].level == "species"
    assert by_slug["canada-lynx"].level == "group"

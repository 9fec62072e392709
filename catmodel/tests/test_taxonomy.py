"""Adding label probabilities up the tree and choosing the most specific level (pure Python)."""
import pytest

from catmodel.taxonomy import Node, lineage, most_specific, sum_up

LINEAGES = {
    "Siamese cat": lineage(breed="siamese", species="Felis catus", genus="Felis",
                           subfamily="Felinae"),
    "Persian cat": lineage(breed="persian", species="Felis catus", genus="Felis",
                           subfamily="Felinae"),
    "tabby": lineage(species="Felis catus", genus="Felis", subfamily="Felinae"),
    "Egyptian cat": lineage(species="Felis catus", genus="Felis", subfamily="Felinae"),
    "lynx": lineage(genus="Lynx", subfamily="Felinae"),
    "cougar": lineage(species="Puma concolor", genus="Puma", subfamily="Felinae"),
    "lion": lineage(species="Panthera leo", genus="Panthera", subfamily="Pantherinae"),
    "tiger": lineage(species="Panthera tigris", genus="Panthera", subfamily="Pantherinae"),
}
DOMESTIC_CAT = Node("species", "Felis catus")


def answer(probabilities, threshold=0.5):
    return most_specific(sum_up(probabilities, LINEAGES), threshold)


def test_a_lineage_runs_from_the_given_level_to_the_family():
    assert LINEAGES["Siamese cat"] == (
        Node("breed", "siamese"), DOMESTIC_CAT, Node("genus", "Felis"),
        Node("subfamily", "Felinae"), Node("family", "Felidae"))
    assert LINEAGES["lynx"] == (
        Node("genus", "Lynx"), Node("subfamily", "Felinae"), Node("family", "Felidae"))
    assert lineage() == (Node("family", "Felidae"),)


def test_probabilities_add_up_the_tree():
    totals = sum_up({"Siamese cat": 0.2, "tabby": 0.3, "lynx": 0.1, "banana": 0.4}, LINEAGES)
    assert totals[Node("breed", "siamese")] == pytest.approx(0.2)
    assert totals[DOMESTIC_CAT] == pytest.approx(0.5)
    assert totals[Node("genus", "Felis")] == pytest.approx(0.5)
    assert totals[Node("subfamily", "Felinae")] == pytest.approx(0.6)
    assert totals[Node("family", "Felidae")] == pytest.approx(0.6)  # the banana is no cat
    assert Node("genus", "Panthera") not in totals


def test_a_sure_breed_is_answered_as_the_breed():
    assert answer({"Siamese cat": 0.8, "tabby": 0.1}) == Node("breed", "siamese")


def test_a_house_cat_split_over_labels_is_a_domestic_cat_not_a_breed():
    # The tabby photo: "tabby" 54 %, "Egyptian cat" 37 % -> no breed, surely a domestic cat.
    assert answer({"tabby": 0.54, "Egyptian cat": 0.37}) == DOMESTIC_CAT
    assert answer({"Siamese cat": 0.3, "Persian cat": 0.3}) == DOMESTIC_CAT


def test_the_lynx_label_answers_at_genus_level():
    assert answer({"lynx": 0.97}) == Node("genus", "Lynx")


def test_no_species_or_genus_is_sure_then_the_subfamily_or_the_family():
    assert answer({"lynx": 0.3, "cougar": 0.3}) == Node("subfamily", "Felinae")
    assert answer({"lion": 0.25, "cougar": 0.3}) == Node("family", "Felidae")
    assert answer({"lion": 0.3, "tiger": 0.3}) == Node("genus", "Panthera")


def test_not_a_cat_when_the_family_does_not_reach_the_threshold():
    assert answer({"lion": 0.2, "tabby": 0.2, "banana": 0.6}) is None
    assert answer({}) is None


def test_the_threshold_is_reached_at_equality():
    assert answer({"lion": 0.5}, threshold=0.5) == Node("species", "Panthera leo")


def test_with_a_low_threshold_the_likeliest_of_a_rank_wins_and_ties_are_stable():
    assert answer({"lion": 0.3, "tiger": 0.4}, threshold=0.2) == Node("species", "Panthera tigris")
    assert answer({"tiger": 0.3, "lion": 0.3}, threshold=0.2) == Node("species", "Panthera leo")
    assert answer({"lion": 0.3, "tiger": 0.3}, threshold=0.2) == Node("species", "Panthera leo")


def test_an_unknown_rank_is_refused():
    with pytest.raises(ValueError, match="unknown rank 'tribe'"):
        Node("tribe", "Lynxini")

"""The seed loader behind data migration 0002: an upsert keyed by slug."""
import copy

import pytest

from species import seed
from species.models import ModelLabel, Species

pytestmark = pytest.mark.django_db


def counts():
    return Species.objects.count(), ModelLabel.objects.count()


def test_loading_again_keeps_the_counts():
    before = counts()
    assert before[0] == len(seed.read_entries())
    assert seed.load(Species, ModelLabel) == before[0]
    seed.load(Species, ModelLabel)
    assert counts() == before


def test_loading_again_restores_edited_facts_without_duplicating():
    Species.objects.filter(slug="lion").update(summary="Edited by hand.", genus="Felis")
    seed.load(Species, ModelLabel)
    lion = Species.objects.get(slug="lion")
    assert lion.genus == "Panthera" and lion.summary != "Edited by hand."
    assert Species.objects.filter(common_name="Lion").count() == 1


def test_decimals_are_kept_exactly():
    entries = copy.deepcopy(seed.read_entries())
    entry = next(e for e in entries if e["slug"] == "sand-cat")
    entry["weight_min_kg"], entry["weight_max_kg"] = 0.6, 3.4
    seed.load(Species, ModelLabel, entries)
    sand_cat = Species.objects.get(slug="sand-cat")
    assert str(sand_cat.weight_min_kg) == "0.6" and str(sand_cat.weight_max_kg) == "3.4"


def test_a_label_moved_in_the_data_changes_owner_and_stays_unique():
    entries = copy.deepcopy(seed.read_entries())
    for entry in entries:
        if "lynx" in entry["labels"]:
            entry["labels"].remove("lynx")
        if entry["slug"] == "canada-lynx":
            entry["labels"].append("lynx")
    seed.load(Species, ModelLabel, entries)
    assert ModelLabel.objects.get(label="lynx").species.slug == "canada-lynx"
    assert ModelLabel.objects.filter(label="lynx").count() == 1


def test_a_new_entry_in_the_data_is_added():
    entries = copy.deepcopy(seed.read_entries())
    extra = copy.deepcopy(next(e for e in entries if e["slug"] == "sand-cat"))
    extra.update(slug="test-sand-cat", common_name="Test sand cat", labels=["test label"])
    before = counts()
    seed.load(Species, ModelLabel, entries + [extra])
    assert counts() == (before[0] + 1, before[1] + 1)

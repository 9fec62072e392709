"""Loading the content files: `manage.py load_species` and the frozen data migration 0002."""
import copy
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from species import content
from species.models import ModelLabel, Species, Taxon

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT = ROOT / "species" / "migrations" / "0002_species_snapshot.json"


def counts():
    return Species.objects.count(), ModelLabel.objects.count()


def run_command(*args) -> str:
    out = io.StringIO()
    call_command("load_species", *args, stdout=out)
    return out.getvalue()


def test_loading_twice_changes_nothing_the_second_time():
    content.load()
    before = counts()
    report = content.load()
    assert not report.changed
    assert len(report.species.unchanged) == len(content.read_entries()) == before[0]
    assert counts() == before
    assert "Everything was up to date." in run_command()


def test_a_changed_field_is_reported_and_applied():
    content.load()
    Species.objects.filter(slug="lion").update(summary="Edited by hand.", genus="Felis")
    output = run_command()
    assert "Species: 0 created, 1 updated," in output
    assert "updated lion: genus, summary" in output
    lion = Species.objects.get(slug="lion")
    assert lion.genus == "Panthera" and lion.summary != "Edited by hand."
    assert Species.objects.filter(common_name="Lion").count() == 1


def test_a_dry_run_reports_the_change_and_saves_nothing():
    content.load()
    Species.objects.filter(slug="lion").update(summary="Edited by hand.")
    output = run_command("--dry-run")
    assert "updated lion: summary" in output and "Dry run: nothing was saved." in output
    assert Species.objects.get(slug="lion").summary == "Edited by hand."


def test_verbosity_decides_how_much_is_said():
    content.load()
    assert run_command("-v", "0") == ""
    quiet = run_command("-v", "1")
    assert "unchanged lion" not in quiet and "Species: 0 created" in quiet
    assert "unchanged lion" in run_command("-v", "2")


def test_decimals_are_kept_exactly():
    entries = copy.deepcopy(content.read_entries())
    entry = next(e for e in entries if e["slug"] == "sand-cat")
    entry["weight_min_kg"], entry["weight_max_kg"] = 0.6, 3.3
    content.load(entries)
    sand_cat = Species.objects.get(slug="sand-cat")
    assert str(sand_cat.weight_min_kg) == "0.6" and str(sand_cat.weight_max_kg) == "3.3"
    assert not content.load(entries).changed


def test_a_label_moved_in_the_data_changes_owner_and_stays_unique():
    entries = copy.deepcopy(content.read_entries())
    for entry in entries:
        if "cheetah" in entry.get("labels", []):
            entry["labels"].remove("cheetah")
        if entry["slug"] == "canada-lynx":
            entry.setdefault("labels", []).append("cheetah")
    report = content.load(entries)
    assert report.labels.updated == {"cheetah": ["owner cheetah -> canada-lynx"]}
    assert ModelLabel.objects.get(label="cheetah").species.slug == "canada-lynx"
    assert ModelLabel.objects.filter(label="cheetah").count() == 1


def test_groups_are_loaded_and_own_their_labels():
    content.load()
    Taxon.objects.filter(slug="lynx").update(common_name="bobcats")
    ModelLabel.objects.filter(label="lynx").update(taxon=None, species=Species.objects.get(
        slug="eurasian-lynx"))
    report = content.load()
    assert report.taxa.updated == {"lynx": ["common_name"]}
    assert report.labels.updated == {"lynx": ["owner eurasian-lynx -> lynx"]}
    assert ModelLabel.objects.get(label="lynx").taxon.common_name == "lynx"


def test_look_alike_labels_are_loaded_reported_and_checked():
    content.load()
    maine_coon = Species.objects.get(slug="maine-coon")
    assert {label.label for label in maine_coon.resembles.all()} == {
        "tabby", "tiger cat", "Persian cat"}
    maine_coon.resembles.clear()
    report = content.load()
    assert report.species.updated == {"maine-coon": ["resembles"]}
    assert maine_coon.resembles.count() == 3
    entries = copy.deepcopy(content.read_entries())
    next(e for e in entries if e["slug"] == "bengal")["resembles"] = ["no such label"]
    with pytest.raises(content.ContentError, match="bengal: resembles unknown labels"):
        content.load(entries)


def test_a_label_given_to_two_owners_is_refused():
    entries = copy.deepcopy(content.read_entries())
    next(e for e in entries if e["slug"] == "bobcat")["labels"] = ["lynx"]
    with pytest.raises(content.ContentError, match="'lynx' is given to both lynx"):
        content.load(entries)


def test_a_new_entry_in_the_data_is_added():
    entries = copy.deepcopy(content.read_entries())
    extra = copy.deepcopy(next(e for e in entries if e["slug"] == "sand-cat"))
    extra.update(slug="test-sand-cat", common_name="Test sand cat", labels=["test label"])
    content.load(entries)
    before = counts()
    report = content.load(entries + [extra])
    assert report.species.created == ["test-sand-cat"] and report.labels.created == ["test label"]
    assert counts() == (before[0] + 1, before[1] + 1)


def test_an_invalid_entry_stops_the_run_and_saves_nothing():
    entries = copy.deepcopy(content.read_entries())
    lion = next(e for e in entries if e["slug"] == "lion")
    lion["summary"] = "Changed before the bad entry."
    tiger = next(e for e in entries if e["slug"] == "tiger")
    tiger["weight_min_kg"], tiger["weight_max_kg"] = 300, 100
    with pytest.raises(content.ContentError, match="tiger: weight_max_kg"):
        content.load(entries)
    assert Species.objects.get(slug="lion").summary != "Changed before the bad entry."


def test_an_unknown_field_is_named():
    entries = [dict(copy.deepcopy(content.read_entries()[0]), colour_of_socks="white")]
    with pytest.raises(content.ContentError, match="unknown field 'colour_of_socks'"):
        content.load(entries)


def test_the_command_turns_a_content_error_into_one_line(tmp_path, monkeypatch):
    (tmp_path / "broken.json").write_text("[{", encoding="utf-8")
    monkeypatch.setattr(content, "DATA_DIR", tmp_path)
    with pytest.raises(CommandError, match="broken.json is not valid JSON"):
        call_command("load_species", stdout=io.StringIO())


@pytest.mark.slow
def test_a_fresh_database_migrates_and_then_loads_the_current_data(tmp_path):
    """migrate on an empty database loads the snapshot 0002 owns; load_species then brings it
    up to date with the data files. A subprocess, so a really fresh database (SQLite file)."""
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp_path / 'fresh.sqlite3'}",
               DJANGO_SETTINGS_MODULE="catsite.test_settings")

    def manage(*args):
        done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=False,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        return done.stdout

    manage("migrate", "--noinput", "-v", "0")
    snapshot = {e["slug"] for e in json.loads(SNAPSHOT.read_text(encoding="utf-8"))}
    current = {e["slug"] for e in content.read_entries()}
    first = manage("load_species")
    assert f"Species: {len(current - snapshot)} created," in first
    second = manage("load_species")
    assert f"Species: 0 created, 0 updated, {len(current)} unchanged." in second
    assert "Labels: 0 created, 0 updated," in second
    assert "Everything was up to date." in second

"""Loading the content files: `manage.py load_species` and the frozen data migration 0002."""
import copy
import io
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from species import content
from species.models import ModelLabel, Species, Taxon, UpstreamEntry, UpstreamValue

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


def files(changes: dict[str, dict] | None = None, taxa: dict[str, dict] | None = None):
    """The data files' entries and groups with some fields changed upstream: {slug: {field:
    value}}."""
    entries, groups = copy.deepcopy(content.read_entries()), copy.deepcopy(content.read_taxa())
    for records, wanted in ((entries, changes or {}), (groups, taxa or {})):
        for record in records:
            record.update(wanted.get(record["slug"], {}))
    return entries, groups


def edit(slug: str, /, **fields) -> Species:
    """What an editor does from a shell (the admin form is tested in test_editing.py)."""
    species = Species.objects.get(slug=slug)
    for name, value in fields.items():
        setattr(species, name, value)
    species.full_clean()
    species.save()
    return species


def test_an_upstream_change_reaches_a_field_nobody_edited():
    report = content.load(*files({"lion": {"summary": "Corrected upstream.", "genus": "Felis"}}))
    assert report.species.updated == {"lion": ["genus", "summary"]}
    lion = Species.objects.get(slug="lion")
    assert lion.genus == "Felis" and lion.summary == "Corrected upstream."
    assert Species.objects.filter(common_name="Lion").count() == 1
    assert not report.clashes


def test_an_editors_change_is_kept_silently_while_upstream_keeps_its_value():
    edit("lion", summary="Edited by an editor.")
    output = run_command()
    assert "lion" not in output and "Everything was up to date." in output
    assert Species.objects.get(slug="lion").summary == "Edited by an editor."
    assert "kept lion: summary (as editors changed it)" in run_command("-v", "2")
    assert not content.load().clashes  # any number of runs


def test_a_field_changed_on_both_sides_keeps_the_editors_value_and_reports_the_clash():
    long_edit = "Edited by an editor, at length: " + "the lion is a social cat. " * 5
    edit("lion", summary=long_edit)
    changed = files({"lion": {"summary": "Corrected upstream."}})
    for _ in range(2):  # reported on every run until someone decides; never applied
        report = content.load(*changed)
        assert [(c.key, c.field) for c in report.clashes] == [("lion", "summary")]
        assert Species.objects.get(slug="lion").summary == long_edit.strip()
    line = str(report.clashes[0])
    assert line.startswith("lion.summary: kept the editors' 'Edited by an editor, at length:")
    assert "…'" in line and line.endswith("the files have 'Corrected upstream.'")
    clash = UpstreamValue.objects.get(entry__key="lion", field="summary")
    assert clash.clash and clash.upstream == "Corrected upstream."


def test_the_clash_is_in_the_commands_output(monkeypatch):
    edit("lion", summary="Edited by an editor.")
    entries, _ = files({"lion": {"summary": "Corrected upstream."}})
    monkeypatch.setattr(content, "read_entries", lambda: entries)
    output = run_command()
    assert f"Species: 0 created, 0 updated, {len(entries)} unchanged, 1 clash(es)." in output
    assert ("  clash lion.summary: kept the editors' 'Edited by an editor.'; the files have "
            "'Corrected upstream.'") in output
    assert "1 clash(es): the editors' values were kept." in output
    assert "Everything was up to date." not in output


def test_both_sides_agreeing_is_no_clash_and_later_corrections_land_again():
    edit("lion", summary="The same correction.")
    assert not content.load(*files({"lion": {"summary": "The same correction."}})).clashes
    report = content.load(*files({"lion": {"summary": "A later correction."}}))
    assert report.species.updated == {"lion": ["summary"]}
    assert Species.objects.get(slug="lion").summary == "A later correction."


def test_a_clash_resolved_by_the_editor_taking_the_files_value_goes_away():
    edit("lion", summary="Edited by an editor.")
    changed = files({"lion": {"summary": "Corrected upstream."}})
    assert content.load(*changed).clashes
    edit("lion", summary="Corrected upstream.")
    assert not content.load(*changed).clashes
    assert not UpstreamValue.objects.filter(clash=True).exists()


def test_upstream_values_that_do_not_fit_an_editors_change_wait_as_clashes():
    edit("tiger", weight_max_kg=Decimal("120.0"))  # the files then raise the minimum above it
    report = content.load(*files({"tiger": {"weight_min_kg": 130.0}}))
    assert [(c.key, c.field) for c in report.clashes] == [("tiger", "weight_min_kg")]
    tiger = Species.objects.get(slug="tiger")
    assert tiger.weight_max_kg == Decimal("120.0") and tiger.weight_min_kg < 120
    assert "tiger" not in report.species.updated


def test_a_field_without_a_loaded_value_counts_as_loaded_with_its_default():
    """A field added to the model later: its default is all any database holds."""
    UpstreamValue.objects.filter(entry__key__in=["lion", "tiger"], field="ears").delete()
    Species.objects.filter(slug="lion").update(ears="")
    edit("tiger", ears="Edited: round, with white spots.")
    report = content.load(*files({"lion": {"ears": "Round."}, "tiger": {"ears": "Round."}}))
    assert report.species.updated == {"lion": ["ears"]}
    assert [(c.key, c.field) for c in report.clashes] == [("tiger", "ears")]


def test_an_entry_deleted_by_an_editor_is_not_created_again():
    Species.objects.get(slug="lion").delete()  # and its label "lion" with it
    output = run_command("-v", "2")
    assert not Species.objects.filter(slug="lion").exists()
    assert not ModelLabel.objects.filter(label="lion").exists()
    assert "left alone lion: deleted by an editor" in output
    others = len(content.read_entries()) - 1
    assert f"Species: 0 created, 0 updated, {others} unchanged, 1 left to the editors." in output
    run_command("--take-upstream", "lion", "--take-upstream", "lion.owner")  # operators can
    assert Species.objects.get(slug="lion").labels.get().label == "lion"


def test_an_entry_an_editor_created_is_never_touched(make_species):
    own = make_species(slug="margay-of-the-editors", summary="The editors' own entry.")
    entries, groups = files()
    twin = dict(next(e for e in entries if e["slug"] == "margay"), slug=own.slug,
                common_name="Upstream twin", labels=["upstream twin label"])
    report = content.load(entries + [twin], groups)
    assert report.species.left_alone == {own.slug: "created by an editor"}
    own.refresh_from_db()
    assert own.common_name != "Upstream twin" and own.summary == "The editors' own entry."
    assert not own.labels.exists()
    assert not UpstreamEntry.objects.filter(key=own.slug).exists()


def test_an_editors_rename_of_the_slug_keeps_the_entry_upstreams():
    edit("lion", slug="african-lion")
    report = content.load(*files({"lion": {"native_range": "Corrected upstream."}}))
    assert report.species.updated == {"lion": ["native_range"]}
    renamed = Species.objects.get(slug="african-lion")
    assert renamed.native_range == "Corrected upstream."
    assert not Species.objects.filter(slug="lion").exists()


def test_a_dry_run_reports_the_change_and_the_clash_and_saves_nothing(monkeypatch):
    edit("tiger", summary="Edited by an editor.")
    entries, _ = files({"lion": {"summary": "Corrected upstream."},
                        "tiger": {"summary": "Corrected upstream."}})
    monkeypatch.setattr(content, "read_entries", lambda: entries)
    before = list(UpstreamValue.objects.values_list("pk", "loaded", "clash", "upstream"))
    output = run_command("--dry-run")
    assert "updated lion: summary" in output and "Dry run: nothing was saved." in output
    assert "clash tiger.summary: kept the editors' 'Edited by an editor.'" in output
    assert Species.objects.get(slug="lion").summary != "Corrected upstream."
    assert list(UpstreamValue.objects.values_list("pk", "loaded", "clash", "upstream")) == before


def test_take_upstream_applies_the_files_value_of_a_clash(monkeypatch):
    edit("tiger", summary="Edited by an editor.", native_range="Edited too.")
    entries, _ = files({"tiger": {"summary": "Corrected upstream.",
                                  "native_range": "Corrected upstream too."}})
    monkeypatch.setattr(content, "read_entries", lambda: entries)
    assert "2 clash(es)" in run_command()
    output = run_command("--take-upstream", "tiger.summary")
    assert "updated tiger: summary" in output and "clash tiger.native_range" in output
    tiger = Species.objects.get(slug="tiger")
    assert tiger.summary == "Corrected upstream." and tiger.native_range == "Edited too."
    assert tiger.history.first().history_change_reason == "load_species: from species/data"
    run_command("--take-upstream", "tiger")
    assert Species.objects.get(slug="tiger").native_range == "Corrected upstream too."
    assert not UpstreamValue.objects.filter(clash=True).exists()


def test_take_upstream_of_something_the_files_do_not_hold_is_one_line_and_saves_nothing():
    edit("tiger", summary="Edited by an editor.")
    with pytest.raises(CommandError, match=r"^--take-upstream no-such-cat, tiger.no_field: no "):
        run_command("--take-upstream", "tiger.summary", "--take-upstream", "no-such-cat",
                    "--take-upstream", "tiger.no_field")
    assert Species.objects.get(slug="tiger").summary == "Edited by an editor."


def test_text_is_kept_with_unix_line_endings_and_no_surrounding_space():
    lion = edit("lion", description="  One.\r\n\r\nTwo.\rThree. \n", summary=" Short. ")
    lion.refresh_from_db()
    assert lion.description == "One.\n\nTwo.\nThree." and lion.summary == "Short."
    label = ModelLabel.objects.create(label=" test spaced label ", species=lion)
    assert ModelLabel.objects.filter(pk=label.pk, label="test spaced label").exists()


def test_line_endings_alone_are_no_edit():
    """A row saved with \r\n before the models tidied text (a queryset update skips save())."""
    lion = Species.objects.get(slug="lion")
    Species.objects.filter(slug="lion").update(description=lion.description.replace("\n",
                                                                                     "\r\n"))
    report = content.load(*files({"lion": {"description": "Corrected upstream."}}))
    assert report.species.updated == {"lion": ["description"]} and not report.clashes


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


def test_groups_follow_the_same_rule():
    Taxon.objects.filter(slug="lynx").update(common_name="bobcats and lynxes")  # an editor
    entries, taxa = files(taxa={"lynx": {"common_name": "lynxes"},
                                "felidae": {"common_name": "the cat family"}})
    report = content.load(entries, taxa)
    assert report.taxa.updated == {"felidae": ["common_name"]}
    assert [(c.key, c.field) for c in report.taxa.clashes] == [("lynx", "common_name")]
    assert Taxon.objects.get(slug="lynx").common_name == "bobcats and lynxes"
    assert Taxon.objects.get(slug="felidae").common_name == "the cat family"


def test_label_ownership_follows_the_same_rule():
    eurasian_lynx = Species.objects.get(slug="eurasian-lynx")
    row = ModelLabel.objects.get(label="lynx")
    row.taxon, row.species = None, eurasian_lynx  # an editor gives the label to one lynx
    row.save()
    report = content.load()
    assert report.labels.kept == {"lynx": ["owner"]} and not report.labels.updated
    assert ModelLabel.objects.get(label="lynx").species == eurasian_lynx
    # Upstream moves the label too, elsewhere: a clash, the editor's owner stays.
    entries, taxa = files({"bobcat": {"labels": ["lynx"]}}, {"lynx": {"labels": []}})
    report = content.load(entries, taxa)
    assert [str(c) for c in report.labels.clashes] == [
        "lynx.owner: kept the editors' 'species:eurasian-lynx'; the files have "
        "'species:bobcat'"]
    assert ModelLabel.objects.get(label="lynx").species == eurasian_lynx


def test_a_label_an_editor_deleted_is_not_created_again():
    ModelLabel.objects.filter(label="tiger cat").delete()
    report = content.load()
    assert report.labels.left_alone == {"tiger cat": "deleted by an editor"}
    assert not ModelLabel.objects.filter(label="tiger cat").exists()
    # The look-alikes that named it do without it, silently.
    assert not report.clashes and not report.species.updated
    # Made again by an editor, under the same name: the editor's; an operator may adopt it.
    ModelLabel.objects.create(label="tiger cat", species=Species.objects.get(slug="bengal"))
    assert content.load().labels.left_alone == {"tiger cat": "deleted by an editor"}
    assert ModelLabel.objects.get(label="tiger cat").species.slug == "bengal"
    assert "updated tiger cat: owner bengal -> domestic-cat" in run_command(
        "--take-upstream", "tiger cat.owner")


def test_look_alike_labels_are_loaded_reported_and_checked():
    maine_coon = Species.objects.get(slug="maine-coon")
    assert {label.label for label in maine_coon.resembles.all()} == {
        "tabby", "tiger cat", "Persian cat"}
    maine_coon.resembles.remove(ModelLabel.objects.get(label="tiger cat"))  # an editor
    report = content.load(*files({"bengal": {"resembles": ["tabby"]}}))
    assert report.species.updated == {"bengal": ["resembles"]}
    assert report.species.kept == {"maine-coon": ["resembles"]}
    assert [label.label for label in maine_coon.resembles.all()] == ["Persian cat", "tabby"]
    report = content.load(*files({"maine-coon": {"resembles": ["tabby"]}}))
    assert [(c.key, c.field) for c in report.clashes] == [("maine-coon", "resembles")]
    entries, taxa = files({"bengal": {"resembles": ["no such label"]}})
    with pytest.raises(content.ContentError, match="bengal: resembles unknown labels"):
        content.load(entries, taxa)


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

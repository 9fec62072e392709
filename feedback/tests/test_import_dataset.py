"""manage.py import_dataset (issue 23): the Oxford-IIIT Pet layout, an iNaturalist export and an
image folder, made from real photo crops in their exact layouts (testsupport/public_datasets.py),
become datasets in the export_dataset format that read_dataset accepts; what cannot be mapped is
reported with its reason; --merge combines an import with a feedback export."""
from __future__ import annotations

import hashlib
import io
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from PIL import Image

from catmodel.evaluation import read_dataset
from catmodel.evaluation.dataset import DatasetError
from catmodel.evaluation.sources import Entry, EntryNames, imagefolder, inaturalist, oxford_pets
from feedback import photos
from feedback.dataset import export
from feedback.selectors import Example
from species.models import Species
from testsupport import public_datasets
from testsupport.datasets import crops, photo
from testsupport.feedback import has_location, jpeg_with_gps

pytestmark = pytest.mark.django_db


def run(*args, **options) -> str:
    out = StringIO()
    call_command("import_dataset", *[str(a) for a in args], stdout=out, stderr=out, **options)
    return out.getvalue()


def unmapped(manifest: dict) -> dict:
    return {(u["name"], u["reason"]): u["count"] for u in manifest["imported"]["unmapped"]}


@pytest.fixture(scope="module")
def oxford(tmp_path_factory):
    return public_datasets.oxford_pets(tmp_path_factory.mktemp("pets") / "oxford-pets")


def test_oxford_pets_cats_by_breed_dogs_not_a_cat_and_the_lists_as_splits(oxford, tmp_path):
    out = tmp_path / "data"
    output = run("--format", "oxford-pets", oxford, "--out", out)
    dataset = read_dataset(out)       # the export_dataset format, checked
    counts = dataset.counts["labels"]
    assert {label: c["total"] for label, c in counts.items()} == {
        "maine-coon": 11, "bengal": 11, "not-a-cat": 16}
    # The test list is the test split; the trainval list is train or validation by the hash.
    assert {label: c["test"] for label, c in counts.items()} == {
        "maine-coon": 3, "bengal": 3, "not-a-cat": 4}
    test_photos = {hashlib.sha256(photos.reencode(p.read_bytes())).hexdigest()
                   for p in public_datasets.oxford_split(oxford, "test")}
    assert {e.sha256 for e in dataset.split("test")} == test_photos
    assert all(c["train"] >= 5 for c in counts.values())      # enough to train on
    manifest = json.loads((out / "dataset.json").read_text())
    assert manifest["status"] == "imported" and manifest["imported"]["format"] == "oxford-pets"
    assert manifest["imported"]["unmapped"] == []
    for label in ("maine-coon", "bengal", "not-a-cat"):
        assert f"  {label}" in output
    assert "Wrote 38 labelled photo(s), 3 label(s)" in output


def test_what_cannot_be_mapped_is_listed_with_its_count_and_reason(oxford, tmp_path):
    src = tmp_path / "oxford-pets"
    public_datasets.oxford_pets(src)
    # The set ships a few .mat files among its images, and images not in list.txt.
    (src / "images" / "Abyssinian_100.mat").write_bytes(b"MATLAB 5.0 MAT-file")
    (src / "images" / "Abyssinian_1.jpg").write_bytes(crops(photo("chelsea"), 1, 5)[0])
    # A listed photo that is truncated, and a listed photo that is missing.
    broken = src / "images" / "pug_1.jpg"
    broken.write_bytes(broken.read_bytes()[:200])
    listing = src / "annotations" / "list.txt"
    listing.write_text(listing.read_text() + public_datasets.oxford_row("Sphynx_9") + "\n")
    # A breed the encyclopedia does not have (an editor deleted the Bengal).
    Species.objects.filter(slug="bengal").delete()
    out = tmp_path / "data"
    output = run("--format", "oxford-pets", src, "--out", out)
    manifest = json.loads((out / "dataset.json").read_text())
    assert unmapped(manifest) == {
        ("Bengal (cat breed)", "no such entry"): 11,
        ("images/Abyssinian_100.mat", "not a photo"): 1,
        ("images/Abyssinian_1.jpg", "no label"): 1,
        ("pug (dog)", "unreadable photo"): 1,
        ("Sphynx (cat breed)", "no photo file"): 1,
    }
    assert "      11  Bengal (cat breed): no such entry (no entry has this slug or name)" in output
    assert "images/Abyssinian_100.mat: not a photo" in output
    assert "pug (dog): unreadable photo (e.g. images/pug_1.jpg: " in output
    assert set(read_dataset(out).counts["labels"]) == {"maine-coon", "not-a-cat"}


def test_nothing_mapped_is_an_error_and_writes_nothing(tmp_path):
    src = public_datasets.imagefolder(tmp_path / "folder", {"dragon": ("chelsea", 2, 1)})
    out = tmp_path / "data"
    with pytest.raises(CommandError, match=r"nothing mapped: .* \(see the list above\)") as error:
        run("--format", "imagefolder", src, "--out", out)
    assert error.value.returncode == 1
    assert not out.exists()


@pytest.mark.parametrize(("format", "make", "expected"), [
    ("oxford-pets", lambda root: (root / "images").mkdir(parents=True),
     r"has no annotations/list.txt: expected SRC/images/ and SRC/annotations/list.txt"),
    ("imagefolder", lambda root: root.mkdir(),
     r"holds no label folders: expected SRC/<label>/\*.jpg"),
    ("inaturalist", lambda root: (root / "photos").mkdir(parents=True),
     r"must hold exactly one observations CSV \(found none\)"),
])
def test_a_wrong_layout_is_one_line_saying_what_was_expected(tmp_path, format, make, expected):
    make(tmp_path / "src")
    with pytest.raises(CommandError, match=expected) as error:
        run("--format", format, tmp_path / "src", "--out", tmp_path / "data")
    assert "\n" not in str(error.value)


def test_layout_errors_name_the_line_or_the_column(tmp_path):
    root = public_datasets.oxford_pets(tmp_path / "pets", {"pug": ("rocket", 1, 1, 1)})
    (root / "annotations" / "test.txt").write_text("pug_2 26 dog 20\n")
    with pytest.raises(DatasetError, match=r"test.txt line 1 is not 'Image CLASS-ID SPECIES "
                                           r"BREED-ID'"):
        oxford_pets(root)
    export_csv = tmp_path / "inat" / "observations.csv"
    (tmp_path / "inat" / "photos").mkdir(parents=True)
    export_csv.write_text("id,taxon_name\n1,Lynx lynx\n")
    with pytest.raises(DatasetError, match=r"has no scientific_name column"):
        inaturalist(export_csv)
    with pytest.raises(DatasetError, match=r"is not a folder"):
        imagefolder(tmp_path / "missing")


def test_inaturalist_by_scientific_name_and_synonym_other_families_not_a_cat(tmp_path):
    csv_file = public_datasets.inaturalist(tmp_path / "inat")
    root = csv_file.parent
    # More rows: the domestic cat (every breed: ambiguous), a genus, a subspecies, a row with no
    # photo, an unidentified one, and a photo that no row names.
    extra = [public_datasets.inaturalist_row(900001, "Felis catus", "Domestic Cat", "Mammalia",
                                             "Felidae"),
             public_datasets.inaturalist_row(900002, "Lynx", "Lynxes", "Mammalia", "Felidae"),
             public_datasets.inaturalist_row(900003, "Panthera leo melanochaita",
                                             "Southern Lion", "Mammalia", "Felidae"),
             public_datasets.inaturalist_row(900004, "Leptailurus serval", "Serval"),
             public_datasets.inaturalist_row(900005, "")]
    cat = crops(photo("chelsea"), 6, 30)
    for observation, data in zip((900001, 900002, 900003), cat, strict=False):
        (root / "photos" / f"{observation}.jpg").write_bytes(data)
    (root / "photos" / "900003_2.jpg").write_bytes(cat[3])     # a second photo of one lion
    (root / "photos" / "900005.jpg").write_bytes(cat[4])
    (root / "photos" / "123.jpg").write_bytes(cat[5])
    text = csv_file.read_text()
    csv_file.write_text(text + public_datasets.inaturalist_csv(extra).split("\n", 1)[1])
    out = tmp_path / "data"
    run("--format", "inaturalist", root, "--out", out)
    dataset = read_dataset(out)
    assert {label: c["total"] for label, c in dataset.counts["labels"].items()} == {
        "eurasian-lynx": 10, "puma": 10, "lion": 2, "not-a-cat": 10}
    manifest = json.loads((out / "dataset.json").read_text())
    assert unmapped(manifest) == {
        ("Felis catus", "ambiguous"): 1,
        ("Lynx", "no such entry"): 1,
        ("Leptailurus serval", "no photo file"): 1,
        ("observation 900005", "no label"): 1,
        ("photos/123.jpg", "no label"): 1,
    }
    ambiguous = next(u for u in manifest["imported"]["unmapped"] if u["reason"] == "ambiguous")
    assert ambiguous["detail"].startswith("21 entries share it (")


def test_names_map_by_synonym_before_a_subspecies_is_cut_to_its_species():
    names = EntryNames([
        Entry("european-wildcat", "European wildcat", "Felis silvestris"),
        Entry("african-wildcat", "African wildcat", "Felis lybica", ("Felis silvestris lybica",)),
        Entry("pallass-cat", "Pallas's cat", "Otocolobus manul", ("Felis manul",)),
    ])
    assert names.scientific("Felis silvestris lybica").label == "african-wildcat"
    assert names.scientific("Felis silvestris grampia").label == "european-wildcat"
    assert names.scientific("felis  MANUL").label == "pallass-cat"
    assert names.named("Pallas's cat").label == names.named("pallass-cat").label == "pallass-cat"
    assert names.named("Not_a_cat").label == "not-a-cat"
    assert names.named("Sand cat").reason == "no such entry"


def test_photos_are_reencoded_without_metadata_and_progress_is_shown(tmp_path):
    src = public_datasets.imagefolder(tmp_path / "folder", {
        "maine-coon": ("chelsea", 5, 1), "not-a-cat": ("coffee", 5, 2)})
    (src / "maine-coon" / "gps.jpg").write_bytes(jpeg_with_gps())
    (src / "maine-coon" / "notes.txt").write_text("not a photo")
    (src / "README").write_text("outside any label folder")
    out = tmp_path / "data"
    output = run("--format", "imagefolder", src, "--out", out)
    dataset = read_dataset(out)
    assert dataset.counts["total"] == 11
    for example in dataset.examples:
        data = dataset.read(example)
        assert not has_location(data)
        assert not Image.open(io.BytesIO(data)).getexif()
    assert "  11/11 photos (100%)" in output
    manifest = json.loads((out / "dataset.json").read_text())
    assert unmapped(manifest) == {("maine-coon/notes.txt", "not a photo"): 1,
                                  ("README", "no label"): 1}


def test_dry_run_reports_and_writes_nothing(oxford, tmp_path):
    output = run("--format", "oxford-pets", oxford, "--out", tmp_path / "data", dry_run=True)
    assert "Would import (dry run, nothing written):" in output
    assert "      11  maine-coon" in output and "      16  not-a-cat" in output
    assert not (tmp_path / "data").exists()


def test_merge_with_a_feedback_export_keeps_the_same_photo_once(oxford, tmp_path):
    # A visitor shared one of the Oxford set's own photos (as a Maine Coon), and a photo that is
    # in no public set; an editor accepted both; the export holds them re-encoded.
    shared = (oxford / "images" / "Maine_Coon_1.jpg").read_bytes()
    own = crops(photo("astronaut"), 1, 77)[0]
    feedback = tmp_path / "feedback"
    export([Example(label="maine-coon", source="feedback 1", read=lambda: shared),
            Example(label="not-a-cat", source="feedback 2", read=lambda: own)],
           feedback, status="accepted")
    exported = read_dataset(feedback)
    out = tmp_path / "data"
    output = run("--format", "oxford-pets", oxford, "--out", out, "--merge", feedback)
    dataset = read_dataset(out)
    assert dataset.counts["total"] == 38 + 1           # the shared photo appears once
    assert {e.sha256 for e in exported.examples} <= {e.sha256 for e in dataset.examples}
    files = [e.file for e in dataset.examples]
    assert len(files) == len(set(files))
    # The feedback export's photos are kept byte for byte, with the export's splits.
    for example in exported.examples:
        assert example in dataset.examples
        assert dataset.read(example) == exported.read(example)
    assert "Merged 2 photo(s) of the feedback export; 1 imported photo(s) were already in it" \
        in output
    manifest = json.loads((out / "dataset.json").read_text())
    assert manifest["merged"] == {"sha256": exported.sha256, "photos": 2, "duplicates": 1}


def test_merge_needs_a_dataset(oxford, tmp_path):
    (tmp_path / "not-a-dataset").mkdir()
    with pytest.raises(CommandError, match=r"holds no dataset.json: it is not a dataset"):
        run("--format", "oxford-pets", oxford, "--out", tmp_path / "data",
            "--merge", tmp_path / "not-a-dataset")

"""manage.py export_dataset: a folder a training script reads without Django, deterministic."""
import csv
import hashlib
import io
import json

import pytest
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command

from catmodel.evaluation.dataset import dataset_sha256
from feedback import services
from feedback.dataset import split_for
from feedback.models import Feedback
from testsupport import images
from testsupport.feedback import has_location, identify, jpeg_with_gps

pytestmark = pytest.mark.django_db


def shared(photo: bytes, answered, **verdict):
    return services.feedback_create(identification_id=identify(photo, answered).id,
                                    share_photo=True, photo=io.BytesIO(photo), **verdict)


@pytest.fixture
def data(make_species):
    """Accepted, pending and rejected feedback, and a species with a photo uploaded in admin."""
    tabby = make_species(common_name="Tabby test", slug="tabby-test", kind="breed")
    make_species(common_name="Lynx test", slug="lynx-test")
    lion = make_species(common_name="Lion test", slug="lion-test")
    lion.image.save("lion.jpg", ContentFile(jpeg_with_gps(images.coffee())))  # an editor's photo
    accepted = [
        shared(jpeg_with_gps(), tabby, correct=False, species="lynx-test"),
        shared(images.jpeg(images.coffee()), tabby, correct=False, not_a_cat=True),
        shared(images.jpeg(images.chelsea(), size=(300, 200)), tabby, correct=True),
    ]
    Feedback.objects.filter(pk__in=[f.pk for f in accepted]).update(status="accepted")
    pending = shared(images.jpeg(images.chelsea(), size=(320, 213)), tabby, correct=True)
    rejected = shared(images.jpeg(images.coffee(), size=(300, 200)), tabby, not_a_cat=True,
                      correct=False)
    Feedback.objects.filter(pk=rejected.pk).update(status="rejected")
    return {"accepted": accepted, "pending": pending, "rejected": rejected}


def read_dataset(folder):
    with open(folder / "labels.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    return rows, json.loads((folder / "dataset.json").read_text())


def test_the_export_is_labelled_split_by_hash_and_free_of_location(data, tmp_path):
    out = tmp_path / "dataset"
    stdout = io.StringIO()
    call_command("export_dataset", "--out", str(out), stdout=stdout)
    rows, manifest = read_dataset(out)

    assert sorted(r["label"] for r in rows) == [
        "lion-test", "lynx-test", "not-a-cat", "tabby-test"]
    assert list(rows[0]) == ["file", "label", "split"]
    for row in rows:
        image = (out / row["file"]).read_bytes()
        sha256 = hashlib.sha256(image).hexdigest()
        assert row["file"] == f"images/{sha256}.jpg"
        assert manifest["images"][row["file"]] == sha256
        assert row["split"] == split_for(sha256)
        assert not has_location(image)  # the GPS position of the lynx photo is gone
    assert manifest["format_version"] == 1 and manifest["status"] == "accepted"
    assert manifest["counts"]["total"] == 4
    assert sum(manifest["counts"]["splits"].values()) == 4
    assert manifest["counts"]["labels"]["lynx-test"]["total"] == 1
    # A training script can check the dataset's hash from the files alone.
    assert manifest["sha256"] == dataset_sha256((out / "labels.csv").read_bytes(),
                                                manifest["images"])
    assert "4/4 photos (100%)" in stdout.getvalue()
    assert manifest["sha256"] in stdout.getvalue()


def test_all_adds_pending_never_rejected(data, tmp_path):
    call_command("export_dataset", "--out", str(tmp_path / "all"), "--status", "all",
                 stdout=io.StringIO())
    rows, manifest = read_dataset(tmp_path / "all")
    assert len(rows) == 5 and manifest["status"] == "all"
    rejected = Feedback.objects.get(pk=data["rejected"].pk)
    assert rejected.photo_sha256 not in manifest["images"].values()


def test_the_same_data_gives_the_same_dataset_hash(data, tmp_path):
    call_command("export_dataset", "--out", str(tmp_path / "a"), stdout=io.StringIO())
    call_command("export_dataset", "--out", str(tmp_path / "b"), stdout=io.StringIO())
    (a_rows, a), (b_rows, b) = read_dataset(tmp_path / "a"), read_dataset(tmp_path / "b")
    assert a["created"] != b["created"]
    assert a["sha256"] == b["sha256"] and a_rows == b_rows
    assert (tmp_path / "a" / "labels.csv").read_bytes() == (
        tmp_path / "b" / "labels.csv").read_bytes()

    # New data changes the hash, and photos already there keep their split.
    Feedback.objects.filter(pk=data["pending"].pk).update(status="accepted")
    call_command("export_dataset", "--out", str(tmp_path / "a"), stdout=io.StringIO())
    c_rows, c = read_dataset(tmp_path / "a")
    assert c["sha256"] != a["sha256"] and len(c_rows) == len(a_rows) + 1
    assert all(row in c_rows for row in a_rows)


def test_an_export_replaces_an_earlier_one_but_not_other_files(data, tmp_path):
    out = tmp_path / "dataset"
    call_command("export_dataset", "--out", str(out), stdout=io.StringIO())
    call_command("export_dataset", "--out", str(out), stdout=io.StringIO())
    assert len(read_dataset(out)[0]) == 4

    other = tmp_path / "documents"
    other.mkdir()
    (other / "thesis.txt").write_text("precious")
    with pytest.raises(CommandError, match="not empty and holds no dataset"):
        call_command("export_dataset", "--out", str(other), stdout=io.StringIO())
    assert (other / "thesis.txt").read_text() == "precious"


def test_an_empty_database_gives_an_empty_but_valid_dataset(db, tmp_path):
    call_command("export_dataset", "--out", str(tmp_path / "empty"), stdout=io.StringIO())
    rows, manifest = read_dataset(tmp_path / "empty")
    assert rows == [] and manifest["counts"]["total"] == 0


def test_splits_are_spread_by_hash():
    splits = [split_for(hashlib.sha256(str(n).encode()).hexdigest()) for n in range(2000)]
    assert 1500 < splits.count("train") < 1700
    assert 140 < splits.count("validation") < 260 and 140 < splits.count("test") < 260


def test_the_reader_of_the_training_side_accepts_the_export(data, tmp_path):
    """The contract with train_model and evaluate_model (issue 14): their reader checks every
    image, labels.csv, the counts and the dataset hash against dataset.json."""
    from catmodel.evaluation.dataset import read_dataset

    call_command("export_dataset", "--out", str(tmp_path / "ds"), stdout=io.StringIO())
    dataset = read_dataset(tmp_path / "ds")
    manifest = json.loads((tmp_path / "ds" / "dataset.json").read_text())
    assert dataset.sha256 == manifest["sha256"]
    assert dataset.labels == ["lion-test", "lynx-test", "not-a-cat", "tabby-test"]
    assert sum(len(dataset.split(name)) for name in ("train", "validation", "test")) == 4

"""manage.py compare_models with real packages (the built model and a copy whose every label is
"tabby", so it calls everything a cat) on a small real dataset (crops of scikit-image's photos
in export_dataset's format). The trained model against the base is in test_train_model.py, the
gate's use of the comparison in test_delivery_gate.py."""
from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from PIL import Image

from classifier.evaluator import evaluate_package
from testsupport.comparison import assert_consistent
from testsupport.datasets import crops, photo, write_dataset
from testsupport.delivery import degraded_copy, publish

pytestmark = [pytest.mark.slow, pytest.mark.django_db]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """Four photos that are not cats and two of the tabby (domestic-tabby, a breed ImageNet
    cannot name) in the test split, one not-a-cat in the train split, none in validation."""
    plan = {"coffee": ("not-a-cat", 2), "rocket": ("not-a-cat", 1),
            "astronaut": ("not-a-cat", 1), "chelsea": ("domestic-tabby", 2)}
    examples = [(data, label, "test")
                for seed, (name, (label, count)) in enumerate(sorted(plan.items()))
                for data in crops(photo(name), count, seed=seed)]
    examples.append((crops(photo("coffee"), 1, seed=50)[0], "not-a-cat", "train"))
    return write_dataset(tmp_path_factory.mktemp("compare") / "dataset", examples)


@pytest.fixture
def worse(model_package_dir, tmp_path):
    return degraded_copy(model_package_dir, tmp_path / "packages", "2.0.0-worse")


def compare_models(*args, **options) -> str:
    out = StringIO()
    call_command("compare_models", *map(str, args), stdout=out, **options)
    return out.getvalue()


def test_the_built_model_against_a_worse_copy(model_package_dir, worse, dataset, tmp_path):
    # The command line: compare_models A B --data DIR [--json FILE] [--plot FILE].
    output = compare_models(model_package_dir, worse, "--data", dataset,
                            "--json", tmp_path / "comparison.json",
                            "--plot", tmp_path / "comparison.png")
    comparison = json.loads((tmp_path / "comparison.json").read_text())
    assert_consistent(comparison)
    # The built model knows the four photos that are not cats (and names the tabby only as a
    # domestic cat, not its breed); the copy calls every photo a cat: only A is ever right.
    overall = comparison["overall"]
    assert (overall["both"], overall["a_only"], overall["b_only"], overall["neither"]) == (
        0, 4, 0, 2)
    assert overall["mcnemar_p_value"] == pytest.approx(2 / 2 ** 4)
    assert overall["top1_difference"] == pytest.approx(-4 / 6)
    assert {photo["label"] for photo in comparison["photos"]["a_only"]} == {"not-a-cat"}
    assert all(photo["a_answer"] == "not-a-cat" and photo["b_answer"] == "(another cat)"
               for photo in comparison["photos"]["a_only"])
    files = {line.split(",")[0] for line in (dataset / "labels.csv").read_text().splitlines()}
    assert {photo["file"] for photo in comparison["photos"]["a_only"]} <= files
    assert comparison["per_label"]["domestic-tabby"]["support"] == 2
    assert comparison["per_label"]["domestic-tabby"]["a"]["correct"] == 0
    # Each side's numbers are evaluate_model's for that package.
    for side, package in (("a", model_package_dir), ("b", worse)):
        evaluation = evaluate_package(package, dataset)
        assert comparison[side]["top1_accuracy"] == evaluation.top1_accuracy
        assert comparison[side]["top5_accuracy"] == evaluation.top5_accuracy
        assert comparison[side]["model"] == evaluation.model
        for label, numbers in evaluation.per_label.items():
            assert comparison["per_label"][label][side]["precision"] == numbers["precision"]
            assert comparison["per_label"][label][side]["recall"] == numbers["recall"]
    assert comparison["a"]["name"] == str(model_package_dir)
    assert comparison["dataset"] == {"sha256": evaluation.dataset["sha256"], "split": "test",
                                     "count": 6, "root": str(dataset)}
    # The table says the same, side by side.
    assert "Photos: both right 0, only A right 4, only B right 0, neither 2" in output
    rows = {line.split()[0]: line.split() for line in output.splitlines() if line.strip()}
    assert rows["top-1"][2:] == ["66.7%", "0.0%", "-66.7", "pt"]
    assert rows["not-a-cat"][:6] == ["not-a-cat", "4", "4", "0", "4", "0"]
    assert "Only A right (4):" in output and "Only B right" not in output
    assert f"Wrote {tmp_path / 'comparison.png'}" in output
    with Image.open(tmp_path / "comparison.png") as plot:
        assert plot.format == "PNG" and plot.width >= 500 and plot.height >= 400
        plot.verify()


def test_a_package_against_itself_agrees_on_every_photo(model_package_dir, dataset, tmp_path):
    compare_models(model_package_dir, model_package_dir, data=dataset, split="train",
                   json=tmp_path / "same.json")
    comparison = json.loads((tmp_path / "same.json").read_text())
    assert_consistent(comparison)
    assert comparison["dataset"]["split"] == "train" and comparison["dataset"]["count"] == 1
    assert comparison["overall"]["a_only"] == comparison["overall"]["b_only"] == 0
    assert comparison["overall"]["mcnemar_p_value"] == 1.0
    assert comparison["photos"] == {"a_only": [], "b_only": []}


def test_published_versions_are_named_in_the_store(settings, tmp_path, model_package_dir,
                                                   worse, dataset):
    manifest = json.loads((model_package_dir / "manifest.json").read_text())
    settings.MODEL_STORE = str(tmp_path / "store")
    settings.MODEL_STORE_PREFIX = ""
    settings.MODEL_NAME = manifest["name"]
    publish(model_package_dir, "--version", "1.0.0", "--alias", "champion", "--force")
    output = compare_models("store:champion", worse, data=dataset, json=tmp_path / "c.json")
    comparison = json.loads((tmp_path / "c.json").read_text())
    assert comparison["a"]["name"] == "store:champion"
    assert comparison["a"]["model"] == {"name": manifest["name"], "version": "1.0.0"}
    assert comparison["overall"]["a_only"] == 4
    assert f"A: store:champion ({manifest['name']} 1.0.0)" in output
    with pytest.raises(CommandError, match=r"version 9\.9\.9 .* not"):
        compare_models("store:9.9.9", worse, data=dataset)


@pytest.mark.parametrize(("a", "split", "message"), [
    ("missing", "test", r"^A: no model package at .*missing: give a package directory "
                        r"\(build_model --out, train_model --out, MODEL_DIR/current\) or "
                        r"store:VERSION$"),
    ("empty", "test", r"^A \(.*empty\): manifest\.json: missing from .*empty"),
    ("store:", "test", r"^store:: name a version or an alias after store: "),
    ("good", "validation", r"^the validation split of .* holds no photo: export more labelled "
                           r"photos, or evaluate another split \(--split\)$"),
])
def test_errors_are_one_line(a, split, message, model_package_dir, dataset, tmp_path):
    (tmp_path / "empty").mkdir()
    package = {"missing": tmp_path / "missing", "empty": tmp_path / "empty",
               "good": model_package_dir}.get(a, a)
    with pytest.raises(CommandError, match=message) as error:
        compare_models(package, model_package_dir, data=dataset, split=split)
    assert "\n" not in str(error.value)


def test_data_that_is_not_a_dataset_is_one_line(model_package_dir, tmp_path):
    (tmp_path / "nothing").mkdir()
    with pytest.raises(CommandError, match=r"holds no dataset\.json: it is not a dataset") as error:
        compare_models(tmp_path / "missing-package", model_package_dir, data=tmp_path / "nothing")
    assert "\n" not in str(error.value)  # the data's error, before any package is looked at
